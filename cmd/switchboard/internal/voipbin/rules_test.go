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
}
