package flow

import (
	_ "embed"
	"slices"
	"sort"
	"strings"
)

// The local classifier's general knowledge of English: which words carry
// which broad meaning (getting something new, a fault, money owed, loss,
// deception, accidents, urgency, small-talk topics), generated from WordNet
// 3.0 by ./internal/lexgen; see LEXICON.md for its source and licence.
//
//go:generate go run ./internal/lexgen -wordnet /usr/share/wordnet -out lexicon.txt
//go:embed lexicon.txt
var lexiconText string

// A reading is the classes a word form has in one part of speech.
type reading struct {
	pos     byte // n, v, a, r
	classes []string
}

// lexicon maps a lower-case word form to its readings, the likelier first.
var lexicon = parseLexicon(lexiconText)

func parseLexicon(text string) map[string][]reading {
	m := map[string][]reading{}
	for _, line := range strings.Split(text, "\n") {
		form, rest, ok := strings.Cut(line, "\t")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		for _, part := range strings.Fields(rest) {
			pos, cls, _ := strings.Cut(part, ":")
			r := reading{pos: pos[0]}
			for _, c := range strings.Split(cls, ",") {
				r.classes = append(r.classes, "@"+c) // "@": never a stem
			}
			m[form] = append(m[form], r)
		}
	}
	return m
}

// ownedForms are past forms of buying verbs ("ordered", "bought",
// "enrolled"): they speak of something the caller already has, so they count
// by that meaning alone, not as the word that also means buying anew.
var ownedForms = func() map[string]bool {
	m := map[string]bool{}
	for form, rs := range lexicon {
		for _, r := range rs {
			if contains(r.classes, "@owned") {
				m[form] = true
			}
		}
	}
	return m
}()

// stemClasses maps the classifier's feature form of a word (see normalize)
// to the classes of its likelier reading, for words repaired by spelling.
var stemClasses = func() map[string][]string {
	m := map[string][]string{}
	for form, rs := range lexicon {
		if f := normalize(form); f != "" {
			for _, c := range rs[0].classes {
				if !contains(m[f], c) {
					m[f] = append(m[f], c)
				}
			}
		}
	}
	for _, cs := range m {
		sort.Strings(cs) // one order, so sums come out the same every run
	}
	return m
}()

// Classes that mean harm: only a caller who says one of them (or one of the
// config's priority words) can be sent to the emergency line by the local
// classifier. A topic such as "card" alone never is.
var harmClasses = map[string]bool{"@loss": true, fraudClass: true, "@accident": true, "@urgent": true}

// fraudClass is deception: fraud, scams, unauthorised use.
const fraudClass = "@fraud"

// leisureClass is small talk: evidence that no department is wanted.
const leisureClass = "@leisure"

// leisureForms are the word forms whose likelier reading is small talk,
// sorted.
var leisureForms = func() []string {
	var out []string
	for form, rs := range lexicon {
		if contains(rs[0].classes, leisureClass) {
			out = append(out, form)
		}
	}
	sort.Strings(out)
	return out
}()

// unauthorized folds the ways of saying that something was done without the
// owner's say, or taken, into one word the lexicon knows.
var unauthorized = strings.NewReplacer(
	"without my permission", "unauthorized", "without permission", "unauthorized",
	"without my authorization", "unauthorized", "without authorization", "unauthorized",
	"without my consent", "unauthorized", "without my knowledge", "unauthorized",
	"did not make", "unauthorized", "didn't make", "unauthorized", "didnt make", "unauthorized",
	"did not authorize", "unauthorized", "didn't authorize", "unauthorized",
	"do not recognize", "unauthorized", "don't recognize", "unauthorized", "dont recognize", "unauthorized",
	"do not recognise", "unauthorized", "don't recognise", "unauthorized", "dont recognise", "unauthorized",
	"without my knowing", "unauthorized", "without me knowing", "unauthorized", "without knowing", "unauthorized",
	// a possession "taken" in the passive was stolen
	"was taken", "stolen", "were taken", "stolen", "got taken", "stolen", "been taken", "stolen",
	// and one that "is gone" or "went missing" is lost
	"is gone", "missing", "are gone", "missing", "gone missing", "missing", "went missing", "missing",
)

// cues are function words WordNet has no class for that still mean harm: an
// unknown other person acting on what is the caller's ("someone used my
// card"), so only when the caller's own things follow ("someone who was born
// in Segovia" is no harm).
var cues = map[string]string{"someone": "@fraud", "somebody": "@fraud", "stranger": "@fraud"}

// ownedBy reports whether w names the caller's own: "my", "our".
func ownedBy(w string) bool { return w == "my" || w == "our" || w == "mine" || w == "ours" }

// Words that make the next word a noun ("my order") or a verb ("to order",
// "I'd like to order"), for words that are both.
var (
	beforeNoun = wordSet(`a an the my your our his her their its this that these those some any no each every another
		of for with about on in`)
	beforeVerb = wordSet(`to i we you they can could will would should shall may might must please not do does did
		want need let lets cannot`)
)

// concepts returns the classes the words of text evoke, each once, in the
// order first heard. A word that is both noun and verb is read by the word
// before it, else by its likelier reading.
func concepts(text string) []string { return conceptsOf(conceptWords(text)) }

// conceptWords returns the words of text as concepts reads them: phrases
// of harm and general phrases folded into one word each.
func conceptWords(text string) []string {
	return tokens(phrases.Replace(unauthorized.Replace(strings.ToLower(text))))
}

// conceptsOf returns the classes of words (from conceptWords), as concepts.
func conceptsOf(words []string) []string {
	var out []string
	prev := ""
	for j, w := range words {
		if c := cues[w]; c != "" && !contains(out, c) && slices.ContainsFunc(words[j+1:], ownedBy) {
			out = append(out, c)
		}
		rs := lexicon[w]
		if len(rs) > 0 {
			r := rs[0]
			if len(rs) > 1 {
				want := byte(0)
				switch {
				case beforeNoun[prev]:
					want = 'n'
				case beforeVerb[prev]:
					want = 'v'
				}
				for _, x := range rs {
					if x.pos == want || want == 'n' && x.pos == 'a' && r.pos != 'n' {
						r = x
						break
					}
				}
			}
			for _, c := range r.classes {
				if !contains(out, c) {
					out = append(out, c)
				}
			}
		}
		prev = w
	}
	return out
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
