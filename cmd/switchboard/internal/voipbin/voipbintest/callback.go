package voipbintest

// Outgoing calls of callbacks (POST /v1.0/calls with inline actions), kept
// and refused as VoIPBin refuses them (bin-api-manager PostCalls,
// bin-call-manager callhandler CreateCallsOutgoing): a PSTN destination needs
// a verified identity, balance, a country in the outbound whitelist and a
// caller ID the account owns (else its default outgoing number); an inline
// action must be one VoIPBin runs as sent, its option only fields VoIPBin
// knows. A callback's customer is called the same way: the intro, then the
// fetch that joins them to the department (TestCallbackDialRefuses). The department's leg itself is
// not played here: a test fetches for it.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
)

// CallbackDial is an outgoing call the account placed for a callback.
type CallbackDial struct {
	ID, From string
	To       Address
	Actions  []voipbin.Action
}

// dialCallback is POST /v1.0/calls.
func (s *REST) dialCallback(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Source       *Address          `json:"source"`
		Destinations []Address         `json:"destinations"`
		Actions      []json.RawMessage `json:"actions"`
		FlowID       string            `json:"flow_id"`
	}
	if s.Down {
		s.refuse(w, http.StatusServiceUnavailable, "VoIPBin is down")
		return
	}
	if !s.decode(w, r, &body) {
		return
	}
	if len(body.Destinations) != 1 {
		s.refuse(w, http.StatusBadRequest, "calls: want one destination, got %d", len(body.Destinations))
		return
	}
	d := CallbackDial{ID: s.newID(), To: body.Destinations[0]}
	for i, raw := range body.Actions {
		var a voipbin.Action
		if err := json.Unmarshal(raw, &a); err != nil {
			s.refuse(w, http.StatusBadRequest, "calls: actions[%d] %s: %v", i, raw, err)
			return
		}
		// The same rules as a handoff's leg (conference.go): a type VoIPBin
		// runs as sent, and an option with no field VoIPBin does not know.
		if err := checkAction(a); err != nil {
			s.refuse(w, http.StatusBadRequest, "calls: actions[%d]: %v", i, err)
			return
		}
		d.Actions = append(d.Actions, a)
	}
	if len(d.Actions) == 0 && body.FlowID == "" {
		s.refuse(w, http.StatusBadRequest, "calls: neither flow_id nor actions")
		return
	}
	if body.Source != nil {
		d.From = body.Source.Target
	}
	if d.To.Type == voipbin.AddressTel {
		switch {
		case s.Customer.IdentityVerificationStatus != "verified":
			s.refuse(w, http.StatusForbidden, "IDENTITY_VERIFICATION_REQUIRED: PSTN calls need a verified identity")
			return
		case s.NoBalanceForMessages:
			s.refuse(w, http.StatusPaymentRequired, "could not pass the balance validation")
			return
		case !slices.Contains(s.Whitelist, dialCountry(d.To.Target)):
			s.refuse(w, http.StatusBadRequest, "destination %s (%s) is not in the outbound whitelist %v", d.To.Target, dialCountry(d.To.Target), s.Whitelist)
			return
		}
		if !s.ownsNumber(d.From) {
			def := ""
			for _, n := range s.Numbers {
				if n.ID == s.DefaultSource {
					def = n.Number
				}
			}
			if def == "" {
				s.refuse(w, http.StatusBadRequest, "caller ID %q is no normal number of the account and there is no default outgoing number", d.From)
				return
			}
			d.From = def
		}
	}
	s.CallbackDials = append(s.CallbackDials, d)
	s.write(w, map[string]any{"calls": []map[string]string{{"id": d.ID, "status": "dialing", "direction": "outgoing"}}, "groupcalls": []any{}})
}

// ownsNumber reports whether number is an active normal number of the account.
func (s *REST) ownsNumber(number string) bool {
	for _, n := range s.Numbers {
		if n.Number == number && n.Type == "normal" && n.Status == "active" && !voipbin.Virtual(number) {
			return true
		}
	}
	return false
}

// dialCountry is the ISO country of a few calling codes, as the whitelist names them.
func dialCountry(number string) string {
	for _, c := range []struct{ prefix, iso string }{{"+1", "us"}, {"+44", "gb"}, {"+33", "fr"}, {"+49", "de"}, {"+82", "kr"}} {
		if strings.HasPrefix(number, c.prefix) {
			return c.iso
		}
	}
	return "other"
}

// Dials returns the callbacks' outgoing calls so far.
func (s *REST) Dials() []CallbackDial {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.CallbackDials)
}

// dialsCallback reports whether an outgoing call's request fetches
// /voipbin/callback: a callback's call, not a handoff's leg. The body is
// left for the handler to read.
func dialsCallback(r *http.Request) bool {
	b, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	return err == nil && bytes.Contains(b, []byte(voipbin.CallbackPath))
}
