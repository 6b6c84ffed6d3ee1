package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// expectation is a conversation's outcome for its caller, stated apart from
// the recording: a golden file records what happened and -update rewrites
// it, so a regression re-recorded by mistake would pass; an expectation is
// written by hand, read on every run, and never rewritten.
type expectation struct {
	// Reaches is where the caller is connected in the end (a connect's
	// target, "queue <id>"; for the webhook, the last transfer's
	// destination); "" is nobody. It must be present.
	Reaches *string `json:"reaches"`
	// Language is the language of every text the caller hears after their
	// first words or key (VoIPBin only).
	Language string `json:"language,omitempty"`
	// MaxActions bounds the VoIPBin actions the call used.
	MaxActions int `json:"max_actions,omitempty"`
	// Hears are pieces of text the caller hears; NeverHears are pieces of
	// text they must not hear (case-insensitive).
	Hears      []string `json:"hears,omitempty"`
	NeverHears []string `json:"never_hears,omitempty"`
	// HangsUp says the service ends the call with a hangup (closed, say).
	HangsUp bool `json:"hangs_up,omitempty"`
	// Leaves is what a caller who reached nobody left the business:
	// "message" (they spoke into a recording) or "callback" (one was
	// booked); "" is neither.
	Leaves string `json:"leaves,omitempty"`
}

// problem says what is wrong with e itself, or "".
func (e *expectation) problem() string {
	if e == nil {
		return `"expect": missing; state the caller's outcome, e.g. {"reaches": "+14155550101", "hears": ["Routing you to"]}`
	}
	if e.Reaches == nil {
		return `"expect.reaches": missing; where the caller ends up ("" for nobody)`
	}
	return ""
}

// outcome is what a transcript shows the caller got.
type outcome struct {
	reaches   string
	actions   int // -1: not shown (webhook)
	heard     []heardText
	hungUp    bool
	leaves    string // "message", "callback" or ""
	firstMove int    // index in heard of the first text after the caller's first words or key; -1: none
}

type heardText struct{ lang, text string }

var (
	talkLine   = regexp.MustCompile(`^\s+talk \(([^)]*)\)[^:]*: (.*)$`)
	resultLine = regexp.MustCompile(`^result: connected="([^"]*)".* actions=(\d+)`)
)

// readOutcome reads a conversation's transcript (record's output).
func readOutcome(transcript string) outcome {
	o := outcome{actions: -1, firstMove: -1}
	callerActed := false
	for _, line := range strings.Split(transcript, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "caller: ") || strings.HasPrefix(line, "caller presses ") && line != "caller presses nothing":
			callerActed = true
		case talkLine.MatchString(line):
			m := talkLine.FindStringSubmatch(line)
			if callerActed && o.firstMove < 0 {
				o.firstMove = len(o.heard)
			}
			o.heard = append(o.heard, heardText{m[1], m[2]})
		case strings.HasPrefix(trimmed, "hangup"):
			o.hungUp = true
		case strings.HasPrefix(line, "caller (into the recording): "):
			o.leaves = "message"
		case strings.HasPrefix(trimmed, "moves: ") && strings.HasSuffix(trimmed, "callback -closed-> ended"):
			o.leaves = "callback"
		case resultLine.MatchString(line):
			m := resultLine.FindStringSubmatch(line)
			o.reaches = m[1]
			o.actions, _ = strconv.Atoi(m[2])
		case strings.HasPrefix(line, "  200 {"):
			var body struct {
				Actions []struct{ Type, Text, Destination string }
			}
			if json.Unmarshal([]byte(strings.TrimPrefix(line, "  200 ")), &body) != nil {
				continue
			}
			for _, a := range body.Actions {
				switch a.Type {
				case "talk":
					o.heard = append(o.heard, heardText{"", a.Text})
				case "transfer":
					o.reaches = a.Destination
				case "hangup":
					o.hungUp = true
				}
			}
		}
	}
	return o
}

// check reports every way the transcript misses the expectation.
func (e *expectation) check(transcript string) []string {
	if p := e.problem(); p != "" {
		return []string{p}
	}
	o := readOutcome(transcript)
	var bad []string
	if o.reaches != *e.Reaches {
		bad = append(bad, fmt.Sprintf("reaches %q, expected %q", o.reaches, *e.Reaches))
	}
	if e.MaxActions > 0 && o.actions > e.MaxActions {
		bad = append(bad, fmt.Sprintf("used %d actions, expected at most %d", o.actions, e.MaxActions))
	}
	if e.Language != "" && o.firstMove >= 0 {
		for _, h := range o.heard[o.firstMove:] {
			if h.lang != e.Language {
				bad = append(bad, fmt.Sprintf("hears %q in %s, expected %s", h.text, h.lang, e.Language))
			}
		}
	}
	all := strings.ToLower(fmt.Sprint(o.heard))
	for _, s := range e.Hears {
		if !strings.Contains(all, strings.ToLower(s)) {
			bad = append(bad, fmt.Sprintf("never hears %q", s))
		}
	}
	for _, s := range e.NeverHears {
		if strings.Contains(all, strings.ToLower(s)) {
			bad = append(bad, fmt.Sprintf("hears %q, which it must not", s))
		}
	}
	if e.Leaves != o.leaves {
		bad = append(bad, fmt.Sprintf("leaves %q, expected %q", o.leaves, e.Leaves))
	}
	if e.HangsUp != o.hungUp {
		bad = append(bad, fmt.Sprintf("hung up: %v, expected %v", o.hungUp, e.HangsUp))
	}
	return bad
}

// checkExpect fails t for every way transcript misses conv's expectation.
func checkExpect(t *testing.T, name string, conv conversation, transcript string) {
	t.Helper()
	if bad := conv.Expect.check(transcript); len(bad) > 0 {
		t.Errorf("%s: the caller's outcome is not what the conversation expects:\n  %s\ntranscript:\n%s",
			name, strings.Join(bad, "\n  "), transcript)
	}
}

func TestExpectationsCatchWrongOutcomes(t *testing.T) {
	transcript := `# x
fetch /voipbin/fetch?t=TOKEN
  talk (en-US): Thank you for calling.
  talk (es-ES): Gracias por llamar.
caller: hola, me cobraron dos veces
  talk (es-ES): Le paso con Facturación.
  connect tel +14155550102
result: connected="+14155550102" fetches=3 actions=12
`
	reaches := func(s string) *string { return &s }
	for _, tt := range []struct {
		name string
		e    expectation
		want string // "" passes
	}{
		{"right", expectation{Reaches: reaches("+14155550102"), Language: "es-ES", MaxActions: 12, Hears: []string{"facturación"}, NeverHears: []string{"Routing you"}}, ""},
		{"wrong person", expectation{Reaches: reaches("+14155550101")}, "reaches"},
		{"nobody expected", expectation{Reaches: reaches("")}, "reaches"},
		{"wrong language", expectation{Reaches: reaches("+14155550102"), Language: "en-US"}, "in es-ES, expected en-US"},
		{"too many actions", expectation{Reaches: reaches("+14155550102"), MaxActions: 11}, "actions"},
		{"not heard", expectation{Reaches: reaches("+14155550102"), Hears: []string{"Billing"}}, "never hears"},
		{"heard", expectation{Reaches: reaches("+14155550102"), NeverHears: []string{"paso"}}, "must not"},
		{"no hangup", expectation{Reaches: reaches("+14155550102"), HangsUp: true}, "hung up"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(tt.e.check(transcript), "; ")
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("check = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := parseConversation([]byte(`{"about":"x","steps":[{"say":"hi"}]}`)); err == nil || !errors.Is(err, errNoExpectation) {
		t.Errorf("a conversation without expect: %v, want errNoExpectation", err)
	}
}

// errNoExpectation is a conversation that does not say what its caller gets.
var errNoExpectation = errors.New(`"expect": missing; state the caller's outcome apart from the recording`)
