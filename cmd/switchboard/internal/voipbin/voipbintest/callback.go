package voipbintest

// Outgoing calls of callbacks (POST /v1.0/calls with inline actions), kept,
// and refused on the rules of every outgoing call (conference.go
// readOutgoing; TestCallbackDialRefuses). A callback's customer is called
// the same way: the intro, then the fetch that joins them to the department.
// The department's leg itself is not played here: a test fetches for it.

import (
	"bytes"
	"io"
	"net/http"
	"slices"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
)

// CallbackDial is an outgoing call the account placed for a callback.
type CallbackDial struct {
	ID, From string
	To       Address
	Actions  []voipbin.Action
}

// dialCallback keeps a callback's outgoing call (POST /v1.0/calls), taken
// on the rules every outgoing call is (readOutgoing).
func (s *REST) dialCallback(w http.ResponseWriter, r *http.Request) {
	o, ok := s.readOutgoing(w, r)
	if !ok {
		return
	}
	d := CallbackDial{ID: s.newID(), From: o.source, To: o.to, Actions: o.actions}
	s.CallbackDials = append(s.CallbackDials, d)
	s.write(w, map[string]any{"calls": []map[string]string{{"id": d.ID, "status": "dialing", "direction": "outgoing"}}, "groupcalls": []any{}})
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
