package service

// Bounds on what a request may make us store: ids, words, languages. JSON
// can carry what UTF-8 checks miss: "\u0000" decodes to a NUL and a lone
// "\ud800" to U+FFFD, so the decoded strings are checked rune by rune.

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Longest values taken from a request.
const (
	maxSeedCallID = 128 // the seed webhook's call_id: a caller's own short id
	maxLanguage   = 35  // a BCP-47 tag, with room for extensions
	maxDigits     = 64  // keys pressed for one menu or entry
	maxDialled    = 128 // the number (or SIP address) the caller dialled
)

// idProblem says what is wrong with a VoIPBin id, or "". VoIPBin's ids are
// UUIDs, written by its Go structs in the canonical lower-case form.
func idProblem(field, v string) string {
	if id, err := uuid.Parse(v); err != nil || id.String() != v {
		return fmt.Sprintf("%s: %s is not a VoIPBin id (a UUID such as 0f2a4b6c-1234-4d5e-8f90-123456789012)", field, quote(v))
	}
	return ""
}

// textProblem says what is wrong with text we may store, or "": longer than
// max bytes (0: no bound), or holding a control character or U+FFFD (a
// broken or lone-surrogate escape). Tabs and line breaks are spacing.
func textProblem(field, v string, max int) string {
	if max > 0 && len(v) > max {
		return fmt.Sprintf("%s: %d bytes, at most %d", field, len(v), max)
	}
	for i, r := range v {
		if r == utf8.RuneError || unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return fmt.Sprintf("%s: character %U at byte %d is not text", field, r, i)
		}
	}
	return ""
}

// seedIDProblem says what is wrong with the seed webhook's call_id, or "":
// a short line of printable text.
func seedIDProblem(v string) string {
	if p := textProblem("call_id", v, maxSeedCallID); p != "" {
		return p
	}
	if strings.ContainsAny(v, "\t\n\r") {
		return "call_id: a line break or tab is not allowed"
	}
	return ""
}

// tokenProblem says what is wrong with a short token (a language tag, keys
// pressed), or "": longer than max, or a byte outside allowed.
func tokenProblem(field, v string, max int, allowed func(byte) bool) string {
	if len(v) > max {
		return fmt.Sprintf("%s: %d bytes, at most %d", field, len(v), max)
	}
	for i := 0; i < len(v); i++ {
		if !allowed(v[i]) {
			return fmt.Sprintf("%s: %s is not allowed", field, quote(v))
		}
	}
	return ""
}

func languageByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-'
}

// digitByte reports whether b is a DTMF key: VoIPBin keeps whichever key
// Asterisk reports (call-manager digitsReceived), A to D included.
func digitByte(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'A' && b <= 'D' || b == '*' || b == '#'
}

// wrongKey stands for keys that are no keys: no menu has it, so the caller
// hears the menu's answer to a wrong key.
const wrongKey = "?"

// quote shows a refused value in a problem, cut short: a problem must not
// echo 60 KB back.
func quote(v string) string {
	if len(v) > 40 {
		return fmt.Sprintf("%q... (%d bytes)", v[:40], len(v))
	}
	return fmt.Sprintf("%q", v)
}

// problemsOf keeps the non-empty problems.
func problemsOf(ps ...string) []string {
	var out []string
	for _, p := range ps {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
