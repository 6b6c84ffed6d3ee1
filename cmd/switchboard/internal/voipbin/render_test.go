package voipbin

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard/switchboard/flow"
)

// TestRender pins the VoIPBin actions we send for each flow action.
func TestRender(t *testing.T) {
	tests := []struct {
		name string
		act  flow.Action
		want string // types and options, ids left out
	}{
		{"transfer to a number: the dialled number as caller ID",
			flow.Action{Kind: flow.ActConnect, To: flow.Destination{Kind: flow.ToTel, Target: "+14155550100"}},
			`[{"type":"connect","option":{"source":{"type":"tel","target":"${voipbin.call.destination.target}"},"destinations":[{"type":"tel","target":"+14155550100"}]}}]`},
		{"transfer with a configured caller ID",
			flow.Action{Kind: flow.ActConnect, To: flow.Destination{Kind: flow.ToTel, Target: "+14155550100"}, CallerID: "+14155550150"},
			`[{"type":"connect","option":{"source":{"type":"tel","target":"+14155550150"},"destinations":[{"type":"tel","target":"+14155550100"}]}}]`},
		{"SIP", flow.Action{Kind: flow.ActConnect, To: flow.Destination{Kind: flow.ToSIP, Target: "support@pbx.example.com"}},
			`[{"type":"connect","option":{"source":{"type":"tel","target":"${voipbin.call.destination.target}"},"destinations":[{"type":"sip","target":"support@pbx.example.com"}]}}]`},
		{"extension", flow.Action{Kind: flow.ActConnect, To: flow.Destination{Kind: flow.ToExtension, Target: "2001"}},
			`[{"type":"connect","option":{"source":{"type":"tel","target":"${voipbin.call.destination.target}"},"destinations":[{"type":"extension","target":"2001","target_name":"2001"}]}}]`},
		{"agent", flow.Action{Kind: flow.ActConnect, To: flow.Destination{Kind: flow.ToAgent, Target: "3e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b"}},
			`[{"type":"connect","option":{"source":{"type":"tel","target":"${voipbin.call.destination.target}"},"destinations":[{"type":"agent","target":"3e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b"}]}}]`},
		{"queue", flow.Action{Kind: flow.ActConnect, To: flow.Destination{Kind: flow.ToQueue, Target: "7f3c2a10-5b1e-4c8a-9d2f-0a1b2c3d4e5f"}},
			`[{"type":"queue_join","option":{"queue_id":"7f3c2a10-5b1e-4c8a-9d2f-0a1b2c3d4e5f"}}]`},
		{"forget keys", flow.Action{Kind: flow.ActForgetKeys},
			`[{"type":"variable_set","option":{"key":"voipbin.call.digits","value":""}}]`},
		{"menu: length 1, no terminating key", flow.Action{Kind: flow.ActMenu, Millis: 5000},
			`[{"type":"digits_receive","option":{"duration":5000,"length":1}},{"type":"fetch","option":{"event_url":"https://h/voipbin/fetch?t=x&d=${voipbin.call.digits}","event_method":"POST"}}]`},
		{"menu: one key asked for, no terminating key", flow.Action{Kind: flow.ActMenu, Millis: 5000, Length: 1},
			`[{"type":"digits_receive","option":{"duration":5000,"length":1}},{"type":"fetch","option":{"event_url":"https://h/voipbin/fetch?t=x&d=${voipbin.call.digits}","event_method":"POST"}}]`},
		{"entry of 4 keys, ended early by #", flow.Action{Kind: flow.ActMenu, Millis: 8000, Length: 4},
			`[{"type":"digits_receive","option":{"duration":8000,"length":4,"key":"#"}},{"type":"fetch","option":{"event_url":"https://h/voipbin/fetch?t=x&d=${voipbin.call.digits}","event_method":"POST"}}]`},
		{"a message: beep, recording to # or silence, a wait for #, the recording stopped, a fetch naming it",
			flow.Action{Kind: flow.ActRecord, Millis: 120000, SilenceMS: 5000},
			`[{"type":"beep"},{"type":"recording_start","option":{"format":"wav","end_of_silence":5,"end_of_key":"#","duration":120}},` +
				`{"type":"digits_receive","option":{"duration":120000,"length":0,"key":"#"}},{"type":"recording_stop"},` +
				`{"type":"fetch","option":{"event_url":"https://h/voipbin/fetch?t=x&to=${voipbin.call.destination.target}&from=${voipbin.call.source.target}&rec=${voipbin.recording.id}","event_method":"POST"}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Render([]flow.Action{tt.act}, FetchURL{Base: "https://h", Token: "x"})
			for i := range out {
				out[i].ID = ""
			}
			var b strings.Builder
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false) // as a fetch answer is written
			if err := enc.Encode(out); err != nil {
				t.Fatal(err)
			}
			got := strings.TrimSpace(b.String())
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestRenderPrompt: the talks before a menu become one async talk, the menu's
// digits_receive collecting while it plays, its time counted from the
// prompt's start, so keys typed during the prompt reach it whole.
func TestRenderPrompt(t *testing.T) {
	out := Render([]flow.Action{
		{Kind: flow.ActForgetKeys},
		{Kind: flow.ActTalk, Text: "That key is not on the menu.", Language: "en-US"},
		{Kind: flow.ActTalk, Text: "1 for Sales & more.", Language: "en-US"},
		{Kind: flow.ActMenu, Millis: 5000},
		{Kind: flow.ActTalk, Text: "Goodbye.", Language: "en-US"},
	}, FetchURL{Base: "https://h", Token: "x"})
	var types []string
	for _, a := range out {
		types = append(types, a.Type)
	}
	if diff := cmp.Diff([]string{"variable_set", "talk", "digits_receive", "fetch", "talk"}, types); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	want := TalkOption{Text: "That key is not on the menu. 1 for Sales &amp; more.", Language: "en-US", Async: true}
	if diff := cmp.Diff(want, out[1].Option); diff != "" {
		t.Errorf("prompt (-want +got):\n%s", diff)
	}
	// 48 characters: about 4 s of speech, then the menu's 5 s.
	if got := out[2].Option.(DigitsReceiveOption).Duration; got != 4000+5000 {
		t.Errorf("digits_receive of %d ms; want 9000, from the prompt's start", got)
	}
	if diff := cmp.Diff(TalkOption{Text: "Goodbye.", Language: "en-US"}, out[4].Option); diff != "" {
		t.Errorf("a talk no menu follows (-want +got):\n%s", diff)
	}
}

// TestRenderCost: the flow's action budget counts what a rendering spends
// of VoIPBin's 100 actions (a connect's confbridge_join, which VoIPBin adds,
// included), never less: merged prompt talks spend less than counted.
func TestRenderCost(t *testing.T) {
	tel := flow.Destination{Kind: flow.ToTel, Target: "+14155550100"}
	for name, acts := range map[string][]flow.Action{
		"answer":        {{Kind: flow.ActTranscribe, Language: "en-US"}, {Kind: flow.ActTalk, Text: "Hi"}, {Kind: flow.ActListen, Millis: 3000}},
		"fetch at once": {{Kind: flow.ActListen}},
		"menu":          {{Kind: flow.ActForgetKeys}, {Kind: flow.ActTalk, Text: "a"}, {Kind: flow.ActTalk, Text: "b"}, {Kind: flow.ActMenu, Millis: 5000}},
		"transfer":      {{Kind: flow.ActTalk, Text: "Routing"}, {Kind: flow.ActConnect, To: tel}},
		"hand back":     {{Kind: flow.ActSet, Variable: "v", Value: "x"}},
		"hangup":        {{Kind: flow.ActTalk, Text: "Bye"}, {Kind: flow.ActHangup}},
		"message":       {{Kind: flow.ActForgetKeys}, {Kind: flow.ActTalk, Text: "Leave a message"}, {Kind: flow.ActRecord, Millis: 60000, SilenceMS: 5000}},
	} {
		spent := 0
		for _, a := range Render(acts, FetchURL{Base: "https://h", Token: "x"}) {
			spent++
			if a.Type == TypeConnect {
				spent++ // VoIPBin's confbridge_join
			}
		}
		if got := flow.Cost(acts); got < spent {
			t.Errorf("%s: the flow counts %d actions, the rendering spends %d", name, got, spent)
		}
	}
}
