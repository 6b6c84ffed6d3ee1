package voipbintest

import (
	"strings"
	"testing"
)

// callbackActions are a callback's customer leg: the intro, then the fetch
// that joins them to the department's conference.
const callbackActions = `[{"id":"5d0f1c7e-0d5e-4a48-9a1b-6c2f3f7c0001","type":"talk","option":{"text":"Hello, this is Billing calling you back.","language":"en-US"}},` +
	`{"id":"5d0f1c7e-0d5e-4a48-9a1b-6c2f3f7c0002","type":"fetch","option":{"event_url":"http://127.0.0.1/voipbin/callback?t=x&cb=c&conf=f","event_method":"POST"}}]`

// TestCallbackDialRefuses: each rule the stand-in enforces on a callback's
// outgoing calls, refused as VoIPBin refuses it; a good one is kept.
func TestCallbackDialRefuses(t *testing.T) {
	front := "+15550001000" // the account's normal number
	tests := []struct {
		name   string
		setup  func(*REST)
		body   string
		status int
		want   string
	}{
		{"two destinations", nil, strings.Replace(callBody(front, "+14155550123", callbackActions), `}],"actions"`,
			`},{"type":"tel","target":"+14155550124"}],"actions"`, 1), 400, "want one destination"},
		{"an action VoIPBin does not run inline", nil, callBody(front, "+14155550123", strings.Replace(callbackActions, `"type":"talk"`, `"type":"connect"`, 1)), 400, "connect"},
		{"an option field VoIPBin does not know", nil, callBody(front, "+14155550123", strings.Replace(callbackActions, `"language"`, `"lang"`, 1)), 400, "lang"},
		{"without a verified identity", func(s *REST) { s.Customer.IdentityVerificationStatus = "unverified" },
			callBody(front, "+14155550123", callbackActions), 403, "IDENTITY_VERIFICATION_REQUIRED"},
		{"without balance", func(s *REST) { s.NoBalance = true }, callBody(front, "+14155550123", callbackActions), 402, "balance"},
		{"to a country not whitelisted", nil, callBody(front, "+61255550123", callbackActions), 400, "whitelist"},
		{"from a caller ID not the account's, no default", nil, callBody("+14155559999", "+14155550123", callbackActions), 400, "caller ID"},
		{"a body field VoIPBin does not know", nil, strings.Replace(callBody(front, "+14155550123", `[]`), `"actions":[]`,
			`"actions":[],"x":"/voipbin/callback"`, 1), 400, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewREST(t)
			if tt.setup != nil {
				tt.setup(s)
			}
			status, body := restCall(t, s, "POST", "/v1.0/calls", tt.body)
			if status != tt.status || !strings.Contains(body, tt.want) || len(s.Dials()) != 0 {
				t.Errorf("POST /v1.0/calls = %d %s (%d dials kept), want %d naming %q", status, body, len(s.Dials()), tt.status, tt.want)
			}
		})
	}
	s := NewREST(t)
	if status, body := restCall(t, s, "POST", "/v1.0/calls", callBody(front, "+14155550123", callbackActions)); status != 200 || len(s.Dials()) != 1 {
		t.Errorf("the customer's leg: %d %s, %d dials; want it kept", status, body, len(s.Dials()))
	}
}
