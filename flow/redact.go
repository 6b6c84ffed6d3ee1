package flow

import (
	"strings"
	"unicode"
)

// Redact hides card and account numbers in what a caller said before it is
// logged or sent anywhere: runs of digits as Mask does ("4111 1111 1111 1234"
// keeps its last four), and the same numbers spoken as words ("four one one
// one ...", "double one", "oh"), which speech-to-text often writes out. A
// spoken run of six digits or more becomes "[number]"; shorter ones ("press
// two", "one or two things") stay.
func Redact(s string) string {
	words := strings.Fields(s)
	var out []string
	for i := 0; i < len(words); {
		n, spoken, end := spokenRun(words, i)
		if n >= minMasked && spoken > 0 { // digits alone are Mask's, which keeps the last four
			out = append(out, "[number]"+trailing(words[end-1]))
			i = end
			continue
		}
		out = append(out, words[i])
		i++
	}
	return Mask(strings.Join(out, " "))
}

// spokenDigits are the words a caller reads a number with, and how many digits each stands for.
var spokenDigits = map[string]int{
	"zero": 1, "oh": 1, "o": 1, "one": 1, "two": 1, "three": 1, "four": 1, "five": 1, "six": 1, "seven": 1,
	"eight": 1, "nine": 1,
	// Spanish, for the callers the multilingual mode serves.
	"cero": 1, "uno": 1, "dos": 1, "tres": 1, "cuatro": 1, "cinco": 1, "seis": 1, "siete": 1, "ocho": 1, "nueve": 1,
}

// spokenRun counts the digits spoken from words[i] on ("double", "triple"
// and digit groups between them included), how many were words, and where the run ends.
func spokenRun(words []string, i int) (digits, spoken, end int) {
	end = i
	for j := i; j < len(words); j++ {
		w := strings.ToLower(strings.TrimFunc(words[j], func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }))
		switch {
		case (w == "double" || w == "triple") && j+1 < len(words):
			continue // counted with the digit after it
		case spokenDigits[w] > 0:
			mult := 1
			if j > i {
				switch strings.ToLower(words[j-1]) {
				case "double":
					mult = 2
				case "triple":
					mult = 3
				}
			}
			digits += mult
			spoken++
			end = j + 1
		case isDigits(w) && w != "":
			digits += len(w) // a digit group written as digits inside a spoken run
			end = j + 1
		default:
			return digits, spoken, end
		}
		if strings.ContainsAny(words[j], ".?!") && j+1 < len(words) && digits < minMasked {
			return digits, spoken, end // a sentence ended before the run was a number
		}
	}
	return digits, spoken, end
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// trailing keeps the punctuation that ended a run's last word.
func trailing(w string) string {
	i := len(w)
	for i > 0 && strings.ContainsRune(".,;:!?", rune(w[i-1])) {
		i--
	}
	return w[i:]
}
