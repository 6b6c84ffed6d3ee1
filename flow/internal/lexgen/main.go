// Command lexgen writes flow/lexicon.txt, the local classifier's general
// English knowledge, from WordNet 3.0 (Princeton University; the WordNet 3.0
// licence, see flow/LEXICON.md). Debian packages the database as
// wordnet-base:
//
//	apt-get install wordnet-base
//	go generate ./flow
//
// Each class below is named by a few WordNet senses, general English, chosen
// without looking at any business's calls; WordNet supplies the rest: the
// words of those senses, their more specific kinds (hyponyms, to a depth),
// words derived from them, and every inflected form. Run with -show LEMMA to
// list a lemma's senses when choosing seeds.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// class is one meaning the classifier can hear in a caller's words.
type class struct {
	name  string
	doc   string
	seeds []string // WordNet senses, lemma.pos.N, or lemma.pos.N/D to follow only D levels below it
	depth int      // how many levels of more specific kinds to follow
	// notPast gives verbs' past forms the class "owned" instead: "I ordered"
	// speaks of something already had, not of getting something new.
	notPast bool
}

// classes are the meanings that separate what callers want, whatever a
// business sells: getting something new, something not working, money owed,
// harm (loss, theft, deception, accidents, urgency), and the leisure topics
// of small talk.
var classes = []class{
	{"acquire", "getting something new: buying, ordering, subscribing, applying, enrolling, joining, opening, prices", []string{
		"buy.v.1", "purchase.n.1", "purchase.v.1", "order.v.2", "subscribe.v.5", "enroll.v.1", "apply.v.3", "join.v.1/0",
		"open.v.2/0", "price.n.2/0", "cost.n.1/0", "price.v.2", "quote.v.2", "quotation.n.3", "afford.v.3", "sell.v.1/1",
		"sale.n.1", "sale.n.3", "customer.n.1", "buyer.n.1", "shop.v.1", "shopping.n.1",
	}, 2, true},
	{"problem", "something not working as it should: faults, errors, breakdowns, delays, damage", []string{
		"malfunction.n.1", "malfunction.v.1", "fail.v.4", "problem.n.1", "trouble.n.1", "error.n.1", "error.n.6",
		"mistake.n.1", "defect.n.3", "faulty.a.1", "damage.n.1", "damage.v.1", "delay.n.2", "delay.v.2", "wrong.a.1",
		"broken.a.1", "late.a.2", "stuck.a.1", "complaint.n.3", "issue.n.1",
	}, 2, false},
	{"owe", "money owed or paid on an existing account: bills, payments, charges, balances, refunds, debts", []string{
		"pay.v.1", "pay.v.3", "payment.n.1", "payment.n.2", "bill.n.2", "charge.n.3", "charge.n.11", "debt.n.2",
		"owe.v.1", "balance.n.2", "balance.n.6", "refund.n.1", "refund.v.1", "fee.n.1", "installment.n.1",
		"statement.n.7", "overcharge.v.1/0", "deduct.v.2", "interest.n.4",
	}, 1, false},
	{"loss", "losing something or having it taken: lost, missing, stolen, robbed", []string{
		"lose.v.1", "lose.v.4", "lose.v.5", "steal.v.1", "rob.v.1", "theft.n.1", "thief.n.1", "lost.a.1",
		"missing.a.1", "disappear.v.1", "burglary.n.1", "mug.v.1",
	}, 2, false},
	{"fraud", "deception and intrusion: fraud, scams, forgery, unauthorised use, break-ins", []string{
		"fraud.n.1", "fraud.n.3", "swindle.v.1", "deceive.v.2", "fraudulent.a.1", "forge.v.2", "unauthorized.a.1",
		"unauthorized.a.2", "suspicious.a.2", "intrude.v.2", "hacker.n.2", "compromise.v.3", "counterfeit.a.1",
		"impostor.n.1", "breach.n.1", "breach.v.1", "shady.a.1",
	}, 2, false},
	{"accident", "accidents, collisions and injuries", []string{
		"accident.n.1", "collision.n.2", "crash.n.2", "crash.v.3", "collide.v.3", "wreck.n.3", "injury.n.2",
		"injure.v.1", "destroy.v.2",
	}, 2, false},
	{"urgent", "urgency, danger and outages", []string{
		"urgent.a.1", "emergency.n.1", "immediately.r.1", "danger.n.1", "crisis.n.1", "outage.n.2", "critical.a.6",
	}, 1, false},
	{"leisure", "small-talk topics: pastimes, games, sport, music, films, meals, animals, weather, jokes", []string{
		"sport.n.1", "game.n.1", "game.n.3", "music.n.1", "movie.n.1", "meal.n.1", "food.n.2", "animal.n.1",
		"pet.n.1", "weather.n.1", "joke.n.1", "hobby.n.1", "diversion.n.1", "celebrity.n.1", "holiday.n.1",
		"book.n.1", "song.n.1", "color.n.1", "fun.n.1", "amusing.a.2", "bored.a.2",
	}, 3, false},
}

// minShare keeps a word only for meanings it commonly has: a word counts for
// a class when that meaning has at least this share of the word's uses in
// WordNet's sense-tagged corpus ("funny" is seldom "fishy").
const minShare = 0.25

var plainWord = regexp.MustCompile(`^[a-z]+$`)

func main() {
	dir := flag.String("wordnet", "/usr/share/wordnet", "WordNet 3.0 database `DIR` (Debian: wordnet-base)")
	out := flag.String("out", "lexicon.txt", "write the table to `FILE`")
	show := flag.String("show", "", "list the senses of `LEMMA` and exit")
	flag.Parse()
	wn, err := loadWordNet(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lexgen:", err)
		os.Exit(1)
	}
	if *show != "" {
		for _, pos := range "nvar" {
			for i, id := range wn.senses[string(pos)+":"+*show] {
				s := wn.synsets[id]
				fmt.Printf("%s.%c.%d  %s  %s\n", *show, pos, i+1, strings.Join(s.words, ","), s.gloss)
			}
		}
		return
	}
	f, err := os.Create(*out)
	if err == nil {
		err = write(f, wn)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lexgen:", err)
		os.Exit(1)
	}
}

// write prints the table: a header, then one line a word form,
// "form<TAB>pos:class,class pos:class", the parts of speech in the order of
// how many senses the word has in each (the likelier reading first).
func write(w io.Writer, wn *wordNet) error {
	table := map[string]map[byte]map[string]bool{} // form -> pos -> classes
	senseCount := map[string]map[byte]int{}
	for _, c := range classes {
		words, err := expand(wn, c)
		if err != nil {
			return fmt.Errorf("class %s: %w", c.name, err)
		}
		for key := range words {
			pos, lemma := key[0], key[2:]
			for _, form := range forms(wn, pos, lemma) {
				name := c.name
				if c.notPast && pos == 'v' && isPast(wn, lemma, form) {
					name = "owned"
				}
				if table[form] == nil {
					table[form], senseCount[form] = map[byte]map[string]bool{}, map[byte]int{}
				}
				if table[form][pos] == nil {
					table[form][pos] = map[string]bool{}
				}
				table[form][pos][name] = true
				senseCount[form][pos] = max(senseCount[form][pos], len(wn.senses[key]))
			}
		}
	}
	fmt.Fprintln(w, "# Generated by flow/internal/lexgen from WordNet 3.0 (Princeton University, WordNet 3.0 licence:")
	fmt.Fprintln(w, "# see flow/LEXICON.md). DO NOT EDIT: change the classes in lexgen and run go generate ./flow.")
	for _, c := range classes {
		fmt.Fprintf(w, "# %s: %s\n", c.name, c.doc)
		if c.notPast {
			fmt.Fprintf(w, "# owned: past forms of the %s verbs (already had, not new)\n", c.name)
		}
	}
	forms := make([]string, 0, len(table))
	for f := range table {
		forms = append(forms, f)
	}
	sort.Strings(forms)
	for _, form := range forms {
		var poss []byte
		for p := range table[form] {
			poss = append(poss, p)
		}
		sort.Slice(poss, func(i, j int) bool {
			a, b := senseCount[form][poss[i]], senseCount[form][poss[j]]
			return a > b || a == b && poss[i] < poss[j]
		})
		var parts []string
		for _, p := range poss {
			var cs []string
			for c := range table[form][p] {
				cs = append(cs, c)
			}
			sort.Strings(cs)
			parts = append(parts, string(p)+":"+strings.Join(cs, ","))
		}
		if _, err := fmt.Fprintf(w, "%s\t%s\n", form, strings.Join(parts, " ")); err != nil {
			return err
		}
	}
	return nil
}

// expand returns the "pos:lemma" keys of a class: its seeds' words, then
// more specific kinds to c.depth levels and words derived from them, each
// kept when the sense is a common one for that word.
func expand(wn *wordNet, c class) (map[string]bool, error) {
	words := map[string]bool{}
	seedLemma := ""
	keep := func(s *synset, seed bool) {
		for _, w := range s.words {
			if !plainWord.MatchString(w) {
				continue
			}
			if seed && w == seedLemma || wn.common(w, s.id, minShare) {
				words[s.id[:1]+":"+w] = true
			}
		}
	}
	type item struct {
		s     *synset
		depth int
	}
	var queue []item
	seen, seedIDs := map[string]bool{}, map[string]bool{}
	for _, seed := range c.seeds {
		name, d, limited := strings.Cut(seed, "/")
		s, err := wn.sense(name)
		if err != nil {
			return nil, err
		}
		seedLemma = strings.SplitN(name, ".", 2)[0]
		seedIDs[s.id] = true
		keep(s, true)
		start := 0
		if limited {
			n, err := strconv.Atoi(d)
			if err != nil {
				return nil, fmt.Errorf("seed %q: %w", seed, err)
			}
			start = c.depth - n // so it goes n levels down
		}
		queue = append(queue, item{s, start})
		seen[s.id] = true
	}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		for _, p := range it.s.ptrs {
			t := wn.synsets[p.target]
			if t == nil || seen[t.id] {
				continue
			}
			switch {
			case (p.symbol == "~" || p.symbol == "&") && it.depth < c.depth:
				seen[t.id] = true
				keep(t, false)
				queue = append(queue, item{t, it.depth + 1})
			case p.symbol == "+" && seedIDs[it.s.id]:
				seen[t.id] = true
				keep(t, false)
			}
		}
	}
	return words, nil
}

// forms returns a lemma's inflected forms: WordNet's irregular ones and the
// regular English endings.
func forms(wn *wordNet, pos byte, lemma string) []string {
	out := []string{lemma}
	out = append(out, wn.irreg[string(pos)+":"+lemma]...)
	n := len(lemma)
	last := lemma[n-1]
	switch pos {
	case 'n':
		out = append(out, plural(lemma))
	case 'v':
		out = append(out, plural(lemma))
		base := lemma
		if last == 'e' {
			base = lemma[:n-1]
		}
		switch {
		case last == 'y' && n > 2 && !strings.ContainsRune("aeiou", rune(lemma[n-2])):
			out = append(out, lemma[:n-1]+"ied", lemma+"ing")
		case last == 'e':
			out = append(out, lemma+"d", base+"ing")
		default:
			out = append(out, lemma+"ed", lemma+"ing")
			// One short vowel before a final consonant doubles it: stop, stopped.
			if n >= 3 && !strings.ContainsRune("aeiouwxy", rune(last)) && strings.ContainsRune("aeiou", rune(lemma[n-2])) &&
				!strings.ContainsRune("aeiou", rune(lemma[n-3])) {
				out = append(out, lemma+string(last)+"ed", lemma+string(last)+"ing")
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// isPast reports whether form is a past tense or participle of the verb
// lemma: an irregular form WordNet lists that is not a present one, or a
// regular one ending in -ed (-d after e).
func isPast(wn *wordNet, lemma, form string) bool {
	if form == lemma || form == plural(lemma) || strings.HasSuffix(form, "ing") {
		return false
	}
	if slices.Contains(wn.irreg["v:"+lemma], form) {
		return true
	}
	return strings.HasSuffix(form, "ed")
}

func plural(w string) string {
	n := len(w)
	switch {
	case strings.HasSuffix(w, "s") || strings.HasSuffix(w, "x") || strings.HasSuffix(w, "ch") || strings.HasSuffix(w, "sh"):
		return w + "es"
	case w[n-1] == 'y' && n > 2 && !strings.ContainsRune("aeiou", rune(w[n-2])):
		return w[:n-1] + "ies"
	}
	return w + "s"
}
