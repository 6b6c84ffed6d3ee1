package flow

import (
	"fmt"
	"strings"
	"unicode"
)

// The priority lane. A priority signal is a word or a phrase (words separated
// by spaces); it matches the caller's words as whole words, in any case, in
// any script: "down" is heard in "the site is down", not in "download" or
// "downé", and "überlastet" is heard in "alles ist überlastet". A phrase
// matches its words in order with nothing but spaces or punctuation between.
//
// The rule for paging on-call (Router.urgent): a configured signal is the
// owner's instruction and pages on-call at once, always: in every mode and
// state, at every hour, before the local classifier or the model is asked and
// whatever they would say. Where a word is ambiguous for a business ("down" in
// "slow down"), the owner writes a phrase ("is down"); check warns about
// signals that are common words or in a department's keywords (Warnings).

// isWordRune reports whether r belongs to a word: letters, digits and the
// marks that accents are made of in decomposed text.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// words splits s into its words; everything else separates them.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !isWordRune(r) })
}

// signalProblem says why s cannot be a priority signal, or "" when it can.
func signalProblem(s string) string {
	if strings.TrimSpace(s) == "" {
		return "empty signal"
	}
	for _, f := range strings.Fields(s) {
		for _, r := range f {
			if r == unicode.ReplacementChar || !isWordRune(r) {
				return fmt.Sprintf("%q is not a word or phrase: use letters and digits, words separated by spaces", s)
			}
		}
	}
	return ""
}

// compileSignals turns the config's signals into word lists; a signal that
// is not a word or phrase is left out (Validate reports it).
func compileSignals(signals []string) [][]string {
	var out [][]string
	for _, s := range signals {
		if signalProblem(s) == "" {
			out = append(out, strings.Fields(s))
		}
	}
	return out
}

// prioritySignal returns the words of the priority signal the text holds,
// a phrase before a single word, or nil.
func (r *Routing) prioritySignal(text string) []string {
	if len(r.signals) == 0 {
		return nil
	}
	said := words(text)
	var single []string
	for _, sig := range r.signals {
		if !holds(said, sig) {
			continue
		}
		if len(sig) > 1 {
			return sig
		}
		if single == nil {
			single = sig
		}
	}
	return single
}

// holds reports whether sig occurs in said as consecutive words, ignoring case.
func holds(said, sig []string) bool {
	for i := 0; i+len(sig) <= len(said); i++ {
		j := 0
		for j < len(sig) && strings.EqualFold(said[i+j], sig[j]) {
			j++
		}
		if j == len(sig) {
			return true
		}
	}
	return false
}

// IsPriority reports whether the words hold a priority signal, a word or a
// phrase, as whole words in any case.
func (r *Routing) IsPriority(words string) bool {
	return r.prioritySignal(words) != nil
}
