package voipbin

import (
	"strings"
	"testing"

	"github.com/switchboard/switchboard/flow"
)

// TestConfigValidationAgrees: the routing config's validation (package flow,
// which may not import this one) refuses the phone numbers VoIPBin would not
// dial and the caller IDs it would not accept, as these rules say.
func TestConfigValidationAgrees(t *testing.T) {
	for _, n := range []string{"+14155550100", "+899100200300", "14155550100", "+1415", "+1 415 555 0100", "+1415555010012345"} {
		cfg := `{"routing": {"departments": {"fallback": "` + n + `", "emergency": "+14155550911"}}}`
		_, err := flow.ParseConfig(strings.NewReader(cfg))
		if got := err == nil; got != Dialable(n) {
			t.Errorf("department number %q: config valid %v, VoIPBin dials it %v (%v)", n, got, Dialable(n), err)
		}
		cfg = `{"routing": {"departments": {"fallback": "+14155550199", "emergency": "+14155550911"}, "caller_id": "` + n + `"}}`
		_, err = flow.ParseConfig(strings.NewReader(cfg))
		if got, want := err == nil, Dialable(n) && !Virtual(n); got != want {
			t.Errorf("caller ID %q: config valid %v, VoIPBin accepts it %v (%v)", n, got, want, err)
		}
	}
	// A language tag is read as VoIPBin reads it, and one VoIPBin cannot
	// read (it would use en-US) is refused.
	for _, tag := range []string{"en-US", "es-es", "ES-es", "pt-br", "iw-IL", "en_US", "zh-hant-tw", "es-419", "english", "xx-YY", "und", "en US"} {
		// Every text is written, so the only thing left to refuse is the tag.
		cfg := `{"routing": {"language": "` + tag + `", "texts": {"` + tag + `": ` + allTexts + `}, "departments": {"fallback": "+14155550199", "emergency": "+14155550911"}}}`
		c, err := flow.ParseConfig(strings.NewReader(cfg))
		readable := Language(tag) != "en-US" || strings.EqualFold(strings.ReplaceAll(tag, "_", "-"), "en-US")
		switch {
		case readable && (err != nil || c.Routing.Language != Language(tag)):
			t.Errorf("language %q: config reads it %v (%v), VoIPBin %q", tag, c, err, Language(tag))
		case !readable && err == nil:
			t.Errorf("language %q: config valid, VoIPBin cannot read it (it would use en-US)", tag)
		}
	}
}

// allTexts writes every text a caller can hear, as a language needs them when
// the example has none in that language.
const allTexts = `{"greeting": "g", "clarify": ["c"], "still_there": "s", "routing": "r {department}", "urgent": "u",
	"menu": "m", "menu_option": "o", "menu_last": "l", "reception": "r", "acknowledge": "a",
	"keypad_invalid": "i", "keypad_timeout": "t"}`
