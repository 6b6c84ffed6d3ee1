package flow

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// handoffConfig is a routing table with handoff settings, with extra put
// into billing's department object.
func handoffConfig(billing, handoff string) string {
	return `{"routing": {"departments": {
		"billing": {"number": "+14155550102"` + billing + `},
		"support": {"queue": "5d0f1c7e-0d5e-4a48-9a1b-6c2f3f7c9999"},
		"fallback": {"number": "+14155550199", "handoff": {"then": ["desk2@pbx.example.com"]}},
		"emergency": {"number": "+14155550911"}}` + handoff + `}}`
}

func TestValidateHandoff(t *testing.T) {
	tests := []struct {
		name          string
		billing, more string
		want          []string // substrings of the error, one per problem; none means valid
	}{
		{"defaults", "", "", nil},
		{"full", `, "handoff": {"then": ["+14155550111", "sip:b@pbx.example.com"], "ring_seconds": 20, "whisper": false, "language": "en-US"}`,
			`, "handoff": {"ring_seconds": 25, "whisper": true, "texts": {"en-US": {"next": "One moment."}}}`, nil},
		{"ring too short", `, "handoff": {"ring_seconds": 3}`, "",
			[]string{"routing.departments.billing.handoff.ring_seconds: 3; must be 5..60"}},
		{"ring too long", "", `, "handoff": {"ring_seconds": 90}`, []string{"routing.handoff.ring_seconds: 90; must be 5..60"}},
		{"bad then", `, "handoff": {"then": ["+1415", "not a place"]}`, "", []string{
			`routing.departments.billing.handoff.then[0]: "+1415" is neither`, `routing.departments.billing.handoff.then[1]: "not a place" is neither`}},
		{"whisper without key", "", `, "handoff": {"texts": {"en-US": {"whisper": "Call from {caller}."}}}`,
			[]string{"routing.handoff.texts.en-US.whisper: must tell the person answering to press 1"}},
		{"unknown language", `, "handoff": {"language": "fr-FR"}`, "", []string{`routing.departments.billing.handoff.language: "fr-FR" has no texts`}},
		{"unknown field", `, "handoff": {"ring": 20}`, "", []string{"routing.departments.billing.handoff.ring"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader(handoffConfig(tt.billing, tt.more)))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want %q, got a valid config", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
	// A queue department keeps its callers in its queue.
	q := strings.Replace(handoffConfig("", ""), `"queue": "5d0f1c7e-0d5e-4a48-9a1b-6c2f3f7c9999"`, `"queue": "5d0f1c7e-0d5e-4a48-9a1b-6c2f3f7c9999", "handoff": {}`, 1)
	if _, err := ParseConfig(strings.NewReader(q)); err == nil || !strings.Contains(err.Error(), "routing.departments.support.handoff: a queue department") {
		t.Errorf("handoff on a queue department: got %v", err)
	}
}

func TestHandoffTargets(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader(handoffConfig(`, "handoff": {"then": ["+14155550111"], "ring_seconds": 20, "whisper": false}`, "")))
	if err != nil {
		t.Fatal(err)
	}
	r := &cfg.Routing
	type row struct {
		Dept, To string
		Ring     int
		Whisper  bool
	}
	rows := func(ts []HandoffTarget) []row {
		var out []row
		for _, t := range ts {
			out = append(out, row{t.Dept, t.To.Target, t.RingSeconds, t.Whisper})
		}
		return out
	}
	want := []row{
		{"billing", "+14155550102", 20, false}, {"billing", "+14155550111", 20, false},
		{"fallback", "+14155550199", DefaultRingSeconds, true}, {"fallback", "desk2@pbx.example.com", DefaultRingSeconds, true},
	}
	if diff := cmp.Diff(want, rows(r.HandoffTargets("billing"))); diff != "" {
		t.Errorf("billing (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[2:], rows(r.HandoffTargets("fallback"))); diff != "" {
		t.Errorf("the fallback desk is tried once (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[2:], rows(r.HandoffTargets("support"))); diff != "" {
		t.Errorf("a queue department is no target (-want +got):\n%s", diff)
	}
}

func TestWhisper(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader(handoffConfig("", "")))
	if err != nil {
		t.Fatal(err)
	}
	r := &cfg.Routing
	target := r.HandoffTargets("billing")[0]
	tests := []struct {
		name, caller, reason string
		turns                []string
		want                 string
	}{
		{"caller's words", "+16505550123", "", []string{"hi", "my invoice shows a double charge & I want it back!"},
			"Call from +1 650 555 0123, about my invoice shows a double charge I want it back. Press 1 to take it."},
		{"a summary wins", "+16505550123", "a double charge on the last invoice", []string{"hi"},
			"Call from +1 650 555 0123, about a double charge on the last invoice. Press 1 to take it."},
		{"clipped", "+442079460000", "", []string{strings.Repeat("word ", 30)},
			"Call from +44 207 946 0000, about word word word word word word word word word word word word word word.... Press 1 to take it."},
		{"nothing known", "anonymous", "", nil, "Call from a withheld number, about something they did not say. Press 1 to take it."},
		{"no markup survives", "+16505550123", "", []string{`<speak>refund</speak> "now"`},
			"Call from +1 650 555 0123, about refund now. Press 1 to take it."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Whisper(target, tt.caller, tt.reason, tt.turns); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
	es, err := ParseConfig(strings.NewReader(handoffConfig(`, "handoff": {"language": "es-ES"}`, `, "texts": {"es-ES": {}}`)))
	if err != nil {
		t.Fatal(err)
	}
	got := es.Routing.Whisper(es.Routing.HandoffTargets("billing")[0], "+34911234567", "", []string{"una factura duplicada"})
	if want := "Llamada de +34 911 234 567, sobre una factura duplicada. Pulse 1 para atenderla."; got != want {
		t.Errorf("in the department's language:\ngot  %q\nwant %q", got, want)
	}
}

func TestLegOutcome(t *testing.T) {
	tests := []struct{ phase, reason, want string }{
		{PhaseRinging, "busy", OutcomeBusy},
		{PhaseRinging, "noanswer", OutcomeUnanswered},
		{PhaseRinging, "dialout", OutcomeUnanswered},
		{PhaseRinging, "cancel", OutcomeUnanswered},
		{PhaseRinging, "normal", OutcomeDeclined},
		{PhaseRinging, "failed", OutcomeFailed},
		{PhaseRinging, "", OutcomeFailed},
		{PhaseAnswered, "normal", OutcomeDeclined},
	}
	for _, tt := range tests {
		if got := LegOutcome(tt.phase, tt.reason); got != tt.want {
			t.Errorf("LegOutcome(%s, %q) = %s, want %s", tt.phase, tt.reason, got, tt.want)
		}
	}
}
