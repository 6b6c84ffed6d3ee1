package voipbin

import (
	"regexp"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// VoIPBin's limits, as its source has them (see CONFORMANCE.md).
const (
	// MaxActions is how many actions a call may run, VoIPBin's own (answer,
	// fetch, confbridge_join) included. VoIPBin runs one more, and stops the
	// call at the next (flow-manager updateNextAction checks the count
	// before counting the action): one is kept in hand.
	MaxActions = 100
	// MaxStack is how many fetched frames VoIPBin nests.
	MaxStack = 100
	// FetchTimeout is how long VoIPBin waits for a fetch answer, its own
	// work around the fetch included.
	FetchTimeout = 3 * time.Second
	// EventAttempts is how often VoIPBin posts an event that got a 5xx or no
	// answer, RetryPause apart.
	EventAttempts = 3
	RetryPause    = time.Second
)

// telTarget is the form of a tel address VoIPBin dials safely: E.164.
var telTarget = regexp.MustCompile(`^\+[0-9]{7,15}$`)

// Language is the tag VoIPBin transcribes in for a transcribe_start's
// language, and reports in its events: x/text's BCP47.Make ("es-es" is
// es-ES), and en-US for a tag it cannot read (bin-transcribe-manager
// transcribehandler Start, getBCP47LanguageCode). flow.NormalizeLanguage
// must agree (TestConfigValidationAgrees).
func Language(tag string) string {
	t := language.BCP47.Make(tag).String()
	if t == "und" {
		return "en-US"
	}
	return t
}

// Dialable reports whether VoIPBin dials target as a tel destination.
func Dialable(target string) bool { return telTarget.MatchString(target) }

// VirtualPrefix starts VoIPBin's free virtual numbers, never accepted as
// the caller ID of an outgoing call.
const VirtualPrefix = "+899"

// Virtual reports whether number is one of VoIPBin's virtual numbers.
func Virtual(number string) bool { return strings.HasPrefix(number, VirtualPrefix) }
