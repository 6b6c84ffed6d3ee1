// Package voipbintest is a stand-in for VoIPBin's provisioning REST API, as
// strict as the real one where provisioning can go wrong: auth at /auth/login
// (no /v1.0), a login JWT as Bearer or an access key as ?accesskey= (never
// both, never a key as Bearer), list resources paged under "result", request
// bodies decoded with unknown fields refused, flows that must be
// [answer, fetch] or, for a customer's flow around Switchboard, answer and
// fetch first, with every branch target an action of the flow. It remembers what was written, so a second run can be
// checked to change nothing.
package voipbintest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var uuidForm = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Credentials the stand-in accepts.
const (
	Username  = "owner@example.com"
	Password  = "pa55word"
	AccessKey = "ak-123"
	token     = "jwt-abc"
)

// Number is one of the account's numbers.
type Number struct {
	ID         string `json:"id"`
	Number     string `json:"number"`
	CallFlowID string `json:"call_flow_id"`
	Status     string `json:"status"`
}

// Server is the stand-in. Set the account's state before running.
type Server struct {
	*httptest.Server
	mu sync.Mutex
	// Whitelist and DefaultSource are the outbound config.
	Whitelist     []string
	DefaultSource string
	Numbers       []Number
	Available     []string
	WebhookURI    string
	WebhookMethod string
	WebhookSecret string
	Flows         []Flow
	// Writes lists every accepted write, "PUT /v1.0/numbers/n1".
	Writes []string
	// Problems lists every request the stand-in refused and why.
	Problems []string
	nextID   int
}

// Flow is a stored flow.
type Flow struct {
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	Detail  string            `json:"detail"`
	Actions []json.RawMessage `json:"actions"`
}

// New starts a stand-in with an account that has one normal number, +15550001000.
func New(t *testing.T) *Server {
	s := &Server{
		Whitelist:     []string{"us"},
		Numbers:       []Number{{ID: "num-1", Number: "+15550001000", Status: "active"}},
		Available:     []string{"+899123456789"},
		WebhookSecret: "whsec-xyz",
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *Server) refuse(w http.ResponseWriter, status int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.Problems = append(s.Problems, msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Header.Get("Content-Type") != "application/json" {
		s.refuse(w, http.StatusBadRequest, "%s %s: Content-Type %q, want application/json", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		return false
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		s.refuse(w, http.StatusBadRequest, "%s %s: bad body: %v", r.Method, r.URL.Path, err)
		return false
	}
	return true
}

func (s *Server) write(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == "/auth/login" {
		var body struct{ Username, Password string }
		if r.Method != http.MethodPost || !s.decode(w, r, &body) {
			return
		}
		if body.Username != Username || body.Password != Password {
			s.refuse(w, http.StatusUnauthorized, "wrong username or password")
			return
		}
		s.write(w, map[string]string{"username": body.Username, "token": token})
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/v1.0/") {
		s.refuse(w, http.StatusNotFound, "no such path %s (auth is /auth/login, the rest under /v1.0)", r.URL.Path)
		return
	}
	bearer := r.Header.Get("Authorization")
	key := r.URL.Query().Get("accesskey")
	switch {
	case bearer != "" && key != "":
		s.refuse(w, http.StatusBadRequest, "both a Bearer token and an access key")
		return
	case bearer == "Bearer "+token, key == AccessKey:
	default:
		s.refuse(w, http.StatusUnauthorized, "not authenticated (Authorization %q, accesskey %q)", bearer, key)
		return
	}
	route := r.Method + " " + r.URL.Path
	if r.Method != http.MethodGet {
		defer func() { s.Writes = append(s.Writes, route) }()
	}
	switch {
	case route == "GET /v1.0/outbound_config":
		s.write(w, map[string]any{"destination_whitelist": s.Whitelist, "default_outgoing_source_number_id": s.DefaultSource})
	case route == "GET /v1.0/numbers":
		s.write(w, map[string]any{"result": s.Numbers, "next_page_token": ""})
	case route == "GET /v1.0/flows":
		s.write(w, map[string]any{"result": s.Flows, "next_page_token": ""})
	case route == "GET /v1.0/customer":
		s.write(w, map[string]any{"id": "cust-1", "webhook_method": s.WebhookMethod, "webhook_uri": s.WebhookURI, "webhook_secret": s.WebhookSecret})
	case route == "GET /v1.0/available_numbers":
		if r.URL.Query().Get("type") != "virtual" {
			s.refuse(w, http.StatusBadRequest, "available_numbers without type=virtual")
			return
		}
		var res []map[string]string
		for _, n := range s.Available {
			res = append(res, map[string]string{"number": n})
		}
		s.write(w, map[string]any{"result": res})
	case route == "POST /v1.0/flows" || strings.HasPrefix(route, "PUT /v1.0/flows/"):
		var f Flow
		if !s.decode(w, r, &f) || !s.validFlow(w, f) {
			return
		}
		if r.Method == http.MethodPost {
			s.nextID++
			f.ID = fmt.Sprintf("flow-%d", s.nextID)
			s.Flows = append(s.Flows, f)
			s.write(w, f)
			return
		}
		id := strings.TrimPrefix(r.URL.Path, "/v1.0/flows/")
		for i := range s.Flows {
			if s.Flows[i].ID == id {
				f.ID = id
				s.Flows[i] = f
				s.write(w, f)
				return
			}
		}
		s.refuse(w, http.StatusNotFound, "no flow %s", id)
	case route == "POST /v1.0/numbers":
		var body struct {
			Number string `json:"number"`
		}
		if !s.decode(w, r, &body) {
			return
		}
		s.nextID++
		n := Number{ID: fmt.Sprintf("num-%d", 100+s.nextID), Number: body.Number, Status: "active"}
		s.Numbers = append(s.Numbers, n)
		s.write(w, n)
	case strings.HasPrefix(route, "PUT /v1.0/numbers/"):
		var body struct {
			CallFlowID string `json:"call_flow_id"`
		}
		if !s.decode(w, r, &body) {
			return
		}
		id := strings.TrimPrefix(r.URL.Path, "/v1.0/numbers/")
		for i := range s.Numbers {
			if s.Numbers[i].ID == id {
				if !s.hasFlow(body.CallFlowID) {
					s.refuse(w, http.StatusBadRequest, "call_flow_id %q: no such flow", body.CallFlowID)
					return
				}
				s.Numbers[i].CallFlowID = body.CallFlowID
				s.write(w, s.Numbers[i])
				return
			}
		}
		s.refuse(w, http.StatusNotFound, "no number %s", id)
	case route == "PUT /v1.0/customer":
		var body struct {
			WebhookMethod string `json:"webhook_method"`
			WebhookURI    string `json:"webhook_uri"`
		}
		if !s.decode(w, r, &body) {
			return
		}
		if body.WebhookMethod != http.MethodPost || !strings.HasSuffix(body.WebhookURI, "/voipbin/events") {
			s.refuse(w, http.StatusBadRequest, "webhook %s %s is not Switchboard's event endpoint", body.WebhookMethod, body.WebhookURI)
			return
		}
		s.WebhookMethod, s.WebhookURI = body.WebhookMethod, body.WebhookURI
		s.write(w, map[string]string{"webhook_method": s.WebhookMethod, "webhook_uri": s.WebhookURI})
	default:
		s.refuse(w, http.StatusNotFound, "no route %s", route)
	}
}

func (s *Server) hasFlow(id string) bool {
	for _, f := range s.Flows {
		if f.ID == id {
			return true
		}
	}
	return false
}

// validFlow accepts Switchboard's flow only: answer, then a POST fetch to a
// public https URL that carries a token; after them, a customer's own
// actions, where VoIPBin reads action ids as UUIDs and a branch jumps only to
// an action of the same flow.
func (s *Server) validFlow(w http.ResponseWriter, f Flow) bool {
	type action struct {
		ID     string `json:"id"`
		Type   string `json:"type"`
		Option struct {
			EventURL        string            `json:"event_url"`
			EventMethod     string            `json:"event_method"`
			Variable        string            `json:"variable"`
			TargetIDs       map[string]string `json:"target_ids"`
			DefaultTargetID string            `json:"default_target_id"`
		} `json:"option"`
	}
	var acts []action
	for _, raw := range f.Actions {
		var a action
		if err := json.Unmarshal(raw, &a); err != nil {
			s.refuse(w, http.StatusBadRequest, "flow action: %v", err)
			return false
		}
		acts = append(acts, a)
	}
	if f.Name == "" || len(acts) < 2 || acts[0].Type != "answer" || acts[1].Type != "fetch" {
		s.refuse(w, http.StatusBadRequest, "flow %q: want a name and [answer, fetch, ...], got %d actions", f.Name, len(acts))
		return false
	}
	ids := map[string]bool{}
	for _, a := range acts {
		if a.ID == "" {
			continue
		}
		if !uuidForm.MatchString(a.ID) || ids[a.ID] {
			s.refuse(w, http.StatusBadRequest, "flow %q: action id %q is no UUID, or is used twice", f.Name, a.ID)
			return false
		}
		ids[a.ID] = true
	}
	for _, a := range acts {
		if a.Type != "branch" {
			continue
		}
		targets := []string{a.Option.DefaultTargetID}
		for _, id := range a.Option.TargetIDs {
			targets = append(targets, id)
		}
		for _, id := range targets {
			if !ids[id] {
				s.refuse(w, http.StatusBadRequest, "flow %q: branch on %s jumps to %q, no action of the flow", f.Name, a.Option.Variable, id)
				return false
			}
		}
	}
	u := acts[1].Option.EventURL
	if !strings.HasPrefix(u, "https://") || !strings.Contains(u, "/voipbin/fetch?t=") || strings.HasSuffix(u, "?t=") || acts[1].Option.EventMethod != http.MethodPost {
		s.refuse(w, http.StatusBadRequest, "fetch %s %q: want POST to a public https URL carrying ?t=TOKEN", acts[1].Option.EventMethod, u)
		return false
	}
	return true
}
