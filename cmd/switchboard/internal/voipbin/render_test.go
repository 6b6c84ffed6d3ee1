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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Render([]flow.Action{tt.act}, "https://h/voipbin/fetch?t=x")
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
