package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// wordNet is the part of a WordNet 3.0 database (the wndb(5) files Debian's
// wordnet-base installs) the generator reads: synsets with their words and
// pointers, each lemma's senses in frequency order, and irregular forms.
type wordNet struct {
	synsets map[string]*synset  // "v02207224" -> synset
	senses  map[string][]string // "v:buy" -> synset ids, most frequent sense first
	irreg   map[string][]string // "v:buy" -> ["bought"]
	// tagged counts how often each sense of a lemma was tagged in WordNet's
	// sense-tagged corpus (cntlist.rev): "v:buy" -> count by sense number.
	tagged map[string]map[int]int
}

type synset struct {
	id      string // pos letter + offset
	lexFile int    // the lexicographer file: its supersense (noun.food, verb.possession...)
	words   []string
	ptrs    []pointer
	gloss   string
}

type pointer struct {
	symbol string // "@" hypernym, "~" hyponym, "+" derivation, "&" similar...
	target string
}

var posFiles = map[byte]string{'n': "noun", 'v': "verb", 'a': "adj", 'r': "adv"}

func loadWordNet(dir string) (*wordNet, error) {
	wn := &wordNet{synsets: map[string]*synset{}, senses: map[string][]string{}, irreg: map[string][]string{}, tagged: map[string]map[int]int{}}
	for pos, name := range posFiles {
		if err := eachLine(filepath.Join(dir, "data."+name), func(f []string, line string) error {
			return wn.addSynset(pos, f, line)
		}); err != nil {
			return nil, err
		}
		if err := eachLine(filepath.Join(dir, "index."+name), func(f []string, _ string) error {
			// lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
			n, err := strconv.Atoi(f[2])
			if err != nil {
				return err
			}
			p, err := strconv.Atoi(f[3])
			if err != nil {
				return err
			}
			offs := f[4+p+2:]
			if len(offs) != n {
				return fmt.Errorf("index.%s %s: %d offsets, want %d", name, f[0], len(offs), n)
			}
			key := string(pos) + ":" + f[0]
			for _, o := range offs {
				wn.senses[key] = append(wn.senses[key], string(pos)+o)
			}
			return nil
		}); err != nil {
			return nil, err
		}
		if err := eachLine(filepath.Join(dir, name+".exc"), func(f []string, _ string) error {
			for _, base := range f[1:] {
				key := string(pos) + ":" + base
				wn.irreg[key] = append(wn.irreg[key], f[0])
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	// sense_key sense_number tag_cnt; the key is lemma%ss_type:..., where
	// ss_type 1 is a noun, 2 a verb, 3 an adjective, 4 an adverb, 5 an
	// adjective satellite (an adjective here).
	if err := eachLine(filepath.Join(dir, "cntlist.rev"), func(f []string, _ string) error {
		lemma, rest, ok := strings.Cut(f[0], "%")
		if !ok || rest == "" {
			return fmt.Errorf("bad sense key %q", f[0])
		}
		pos := map[byte]string{'1': "n", '2': "v", '3': "a", '4': "r", '5': "a"}[rest[0]]
		n, err1 := strconv.Atoi(f[1])
		c, err2 := strconv.Atoi(f[2])
		if pos == "" || err1 != nil || err2 != nil {
			return fmt.Errorf("bad line %q", strings.Join(f, " "))
		}
		key := pos + ":" + lemma
		if wn.tagged[key] == nil {
			wn.tagged[key] = map[int]int{}
		}
		wn.tagged[key][n] += c
		return nil
	}); err != nil {
		return nil, err
	}
	return wn, nil
}

func (wn *wordNet) addSynset(pos byte, f []string, line string) error {
	// offset lex_filenum ss_type w_cnt word lex_id ... p_cnt [ptr...] ... | gloss
	lex, err := strconv.Atoi(f[1])
	if err != nil {
		return err
	}
	wc, err := strconv.ParseInt(f[3], 16, 32)
	if err != nil {
		return err
	}
	s := &synset{id: string(pos) + f[0], lexFile: lex}
	i := 4
	for range wc {
		w := strings.ToLower(f[i])
		if j := strings.IndexByte(w, '('); j > 0 { // adjective markers: "(a)", "(p)"
			w = w[:j]
		}
		s.words = append(s.words, w)
		i += 2
	}
	pc, err := strconv.Atoi(f[i])
	if err != nil {
		return err
	}
	i++
	for range pc {
		// symbol offset pos source/target
		tp := f[i+2][0]
		if tp == 's' {
			tp = 'a'
		}
		s.ptrs = append(s.ptrs, pointer{symbol: f[i], target: string(tp) + f[i+1]})
		i += 4
	}
	if _, g, ok := strings.Cut(line, " | "); ok {
		s.gloss = strings.TrimSpace(g)
	}
	wn.synsets[s.id] = s
	return nil
}

// eachLine calls fn with the fields of every line that is not part of the
// licence header (those start with two spaces).
func eachLine(path string, fn func(fields []string, line string) error) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "  ") || strings.TrimSpace(line) == "" {
			continue
		}
		if err := fn(strings.Fields(line), line); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return sc.Err()
}

// sense returns the synset of "lemma.pos.N" (N counted from 1, in WordNet's
// frequency order), the usual way to name one sense.
func (wn *wordNet) sense(name string) (*synset, error) {
	parts := strings.Split(name, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("sense %q: want lemma.pos.N", name)
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil {
		return nil, fmt.Errorf("sense %q: %w", name, err)
	}
	ids := wn.senses[parts[1]+":"+parts[0]]
	if n < 1 || n > len(ids) {
		return nil, fmt.Errorf("sense %q: %s has %d senses", name, parts[0], len(ids))
	}
	return wn.synsets[ids[n-1]], nil
}

// common reports whether synset id is a usual meaning of lemma: it has at
// least minShare of the lemma's tagged uses in every part of speech, or, for a
// lemma never tagged, it is the first sense of the part of speech with the
// most senses.
func (wn *wordNet) common(lemma, id string, minShare float64) bool {
	r := wn.rank(lemma, id)
	if r == 0 {
		return false
	}
	total, most, mostPos := 0, 0, ""
	for _, pos := range []string{"n", "v", "a", "r"} {
		for _, c := range wn.tagged[pos+":"+lemma] {
			total += c
		}
		if n := len(wn.senses[pos+":"+lemma]); n > most {
			most, mostPos = n, pos
		}
	}
	if total == 0 {
		return r == 1 && id[:1] == mostPos
	}
	return float64(wn.tagged[id[:1]+":"+lemma][r]) >= minShare*float64(total)
}

// rank is the position (from 1) of synset id among lemma's senses, or 0.
func (wn *wordNet) rank(lemma, id string) int {
	for i, s := range wn.senses[id[:1]+":"+lemma] {
		if s == id {
			return i + 1
		}
	}
	return 0
}
