// This file is the stand-in for VoIPBin's REST API, as strict as the real one where Switchboard's calls to it can go
// wrong, and as destructive where the real one is: auth at /auth/login (no
// /v1.0), a login JWT as Bearer or an access key as ?accesskey= (never both);
// ids are UUIDs; list resources paged under "result"; request bodies decoded
// with unknown fields refused; PUTs that write every field of their body (a
// field left out is written empty, as bin-api-manager does); numbers bought as
// normal unless "type": "virtual", which needs a verified identity; a frozen
// account refused everything;
// transcriptions stopped by id; queues read by id, their wait_flow_id always
// present (the nil UUID for none). Flows must be [answer, fetch] or, for a
// customer's flow around Switchboard, answer and fetch first, with every branch
// target an action of the flow. It remembers what was written, so a second run
// can be checked to change nothing. CONFORMANCE.md names the VoIPBin
// source of each rule.

package voipbintest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
)

var uuidForm = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// NilID is VoIPBin's "none" for an id.
const NilID = "00000000-0000-0000-0000-000000000000"

// ID is a made-up UUID, distinct for each n: VoIPBin's ids are UUIDs, and a
// path id that is not one is refused.
func ID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// Credentials the stand-in accepts.
const (
	Username  = "owner@example.com"
	Password  = "pa55word"
	AccessKey = "ak-123"
	token     = "jwt-abc"
)

// The account New starts with.
var (
	FrontDesk = ID(1)  // the normal number +15550001000
	SMSFlow   = ID(90) // the customer's own SMS flow, on FrontDesk
)

// Customer is the account as VoIPBin keeps it.
type Customer struct {
	ID                         string `json:"id"`
	Name                       string `json:"name,omitempty"`
	Detail                     string `json:"detail,omitempty"`
	Email                      string `json:"email,omitempty"`
	PhoneNumber                string `json:"phone_number,omitempty"`
	Address                    string `json:"address,omitempty"`
	WebhookMethod              string `json:"webhook_method,omitempty"`
	WebhookURI                 string `json:"webhook_uri,omitempty"`
	Status                     string `json:"status"`
	IdentityVerificationStatus string `json:"identity_verification_status"`
	WebhookSecret              string `json:"webhook_secret,omitempty"` // shown to the owner only; absent when empty
}

// Number is one of the account's numbers.
type Number struct {
	ID            string `json:"id"`
	Number        string `json:"number"`
	Type          string `json:"type"`
	CallFlowID    string `json:"call_flow_id"`
	MessageFlowID string `json:"message_flow_id"`
	Name          string `json:"name"`
	Detail        string `json:"detail"`
	Status        string `json:"status"`
}

// Flow is a stored flow.
type Flow struct {
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	Detail  string            `json:"detail"`
	Actions []json.RawMessage `json:"actions"`
}

// Agent is one of the account's agents.
type Agent struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Addresses []Address `json:"addresses"`
}

// Address is an agent's address.
type Address struct {
	Type   string `json:"type"`
	Target string `json:"target"`
}

// REST is the stand-in. Set the account's state before running.
type REST struct {
	*Server
	mu sync.Mutex
	// latency delays every answer (SetLatency): an API that is slow today.
	latency  atomic.Int64
	Customer Customer
	// Whitelist and DefaultSource are the outbound config; DefaultSource is
	// a number id, NilID for none.
	Whitelist     []string
	DefaultSource string
	Numbers       []Number
	Available     []string
	Flows         []Flow
	Agents        []Agent
	// Queues are the account's queues (GET /v1.0/queues/{id}); a wait flow
	// is one of Flows.
	Queues []voipbin.Queue
	// Transcribes maps the account's transcriptions to their status,
	// "progressing" or "done".
	Transcribes map[string]string
	// Foreign are transcriptions VoIPBin knows that belong to another
	// customer: stopping one is refused 403 PERMISSION_DENIED (bin-api-manager
	// servicehandler/transcribe.go TranscribeStop, hasPermission).
	Foreign map[string]bool
	// KeyExpired makes AccessKey expired (or deleted): every call made with
	// it is refused 401 INVALID_CREDENTIALS, as a wrong key is (bin-api-manager
	// lib/middleware/authenticate.go authenticateAccesskey, TMExpire and TMDelete).
	KeyExpired bool
	// Writes lists every accepted write, "PUT /v1.0/numbers/<id>/flow_ids".
	Writes []string
	// Problems lists every request the stand-in refused and why.
	Problems []string
	nextID   int
	// Telephony is the account's conferences and outgoing calls (conference.go).
	Telephony
	messaging // recording.go
}

// NewREST starts a stand-in for an account in use: a verified customer
// whose name, email, phone and address are filled in, one normal number
// with its name, detail and SMS flow, a whitelist of "us" and no default
// caller ID. It closes when t's test ends (t is a *testing.T or
// *testing.B: taken as an interface so that this package links no test code).
func NewREST(t interface{ Cleanup(func()) }) *REST {
	s := StartREST()
	t.Cleanup(s.Close)
	return s
}

// StartREST is NewREST outside a test: the caller closes it.
func StartREST() *REST {
	s := &REST{
		Customer: Customer{ID: ID(100), Name: "Acme Dental", Detail: "two clinics", Email: "office@acme.example",
			PhoneNumber: "+15550009999", Address: "1 Main St", Status: "active", IdentityVerificationStatus: "verified",
			WebhookSecret: "whsec-xyz"},
		Whitelist:     []string{"us"},
		DefaultSource: NilID,
		Numbers: []Number{{ID: FrontDesk, Number: "+15550001000", Type: "normal", CallFlowID: NilID, MessageFlowID: SMSFlow,
			Name: "front desk", Detail: "the number on our website", Status: "active"}},
		Flows:       []Flow{{ID: SMSFlow, Name: "sms", Detail: "the customer's SMS flow", Actions: []json.RawMessage{json.RawMessage(`{"type":"message_send"}`)}}},
		Available:   []string{"+899123456789"},
		Transcribes: map[string]string{},
		Foreign:     map[string]bool{},
		nextID:      200,
	}
	s.Server = Serve(s)
	return s
}

// Number returns the number with the given id.
func (s *REST) Number(id string) (Number, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.Numbers {
		if n.ID == id {
			return n, true
		}
	}
	return Number{}, false
}

// Transcribing adds a running transcription and returns its id.
func (s *REST) Transcribing() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := ID(s.nextID)
	s.Transcribes[id] = "progressing"
	return id
}

// track adds a running transcription started by a simulated call.
func (s *REST) track(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Transcribes[id] = "progressing"
}

// Status returns a transcription's status.
func (s *REST) Status(transcribe string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Transcribes[transcribe]
}

// Refused returns the refusals so far.
func (s *REST) Refused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.Problems)
}

func (s *REST) newID() string {
	s.nextID++
	return ID(s.nextID)
}

func (s *REST) refuse(w http.ResponseWriter, status int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.Problems = append(s.Problems, msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func (s *REST) decode(w http.ResponseWriter, r *http.Request, v any) bool {
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

func (s *REST) write(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// uuidOrNil reads an id from a body as VoIPBin does (uuid.FromStringOrNil):
// anything that is not a UUID becomes the nil UUID.
func uuidOrNil(s string) string {
	if !uuidForm.MatchString(s) {
		return NilID
	}
	return strings.ToLower(s)
}

// pathID is the UUID in a path after prefix and before an optional suffix.
func (s *REST) pathID(w http.ResponseWriter, r *http.Request, prefix, suffix string) (string, bool) {
	id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, prefix), suffix)
	if !uuidForm.MatchString(id) || id == NilID { // uuid.FromStringOrNil, the nil UUID refused: INVALID_ID
		s.refuse(w, http.StatusBadRequest, "%s %s: INVALID_ID: %q is not a valid UUID", r.Method, r.URL.Path, id)
		return "", false
	}
	return id, true
}

// ServeHTTP answers one request as VoIPBin's API would.
func (s *REST) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	time.Sleep(time.Duration(s.latency.Load()))
	s.serve(w, r)
}

// SetLatency makes every answer from now on d late.
func (s *REST) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

func (s *REST) serve(w http.ResponseWriter, r *http.Request) {
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
	case key == AccessKey && s.KeyExpired:
		s.refuse(w, http.StatusUnauthorized, "INVALID_CREDENTIALS: the access key has expired or was deleted")
		return
	case bearer == "Bearer "+token, key == AccessKey:
	default:
		s.refuse(w, http.StatusUnauthorized, "not authenticated (Authorization %q, accesskey %q)", bearer, key)
		return
	}
	if s.Customer.Status == "frozen" { // bin-api-manager middleware isFrozenAccountBlocked
		s.refuse(w, http.StatusForbidden, "PERMISSION_DENIED: the account is frozen")
		return
	}
	route := r.Method + " " + r.URL.Path
	if r.Method != http.MethodGet {
		writes := len(s.Problems)
		defer func() {
			if len(s.Problems) == writes {
				s.Writes = append(s.Writes, route)
			}
		}()
	}
	p := r.URL.Path
	switch {
	case route == "GET /v1.0/outbound_config":
		s.write(w, map[string]any{"id": ID(101), "customer_id": s.Customer.ID, "destination_whitelist": s.Whitelist,
			"default_outgoing_source_number_id": uuidOrNil(s.DefaultSource), "codecs": ""})
	case route == "GET /v1.0/numbers":
		page(s, w, r, s.Numbers)
	case route == "GET /v1.0/flows":
		page(s, w, r, s.Flows)
	case route == "GET /v1.0/agents":
		page(s, w, r, s.Agents)
	case route == "GET /v1.0/customer":
		s.write(w, s.Customer)
	case route == "GET /v1.0/available_numbers":
		if r.URL.Query().Get("type") != "virtual" && r.URL.Query().Get("country_code") == "" {
			s.refuse(w, http.StatusBadRequest, "available_numbers: country_code is required unless type=virtual")
			return
		}
		var res []map[string]string
		for _, n := range s.Available {
			res = append(res, map[string]string{"number": n, "country": "899"})
		}
		s.write(w, map[string]any{"result": res})
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/v1.0/flows/"):
		id, ok := s.pathID(w, r, "/v1.0/flows/", "")
		if !ok {
			return
		}
		i := slices.IndexFunc(s.Flows, func(f Flow) bool { return strings.EqualFold(f.ID, id) })
		if i < 0 {
			s.refuse(w, http.StatusNotFound, "NOT_FOUND: no flow %s", id)
			return
		}
		s.write(w, s.Flows[i])
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/v1.0/queues/"):
		s.getQueue(w, r)
	case route == "POST /v1.0/flows":
		var f Flow
		if !s.decode(w, r, &f) || !s.validFlow(w, f) {
			return
		}
		f.ID = s.newID()
		s.Flows = append(s.Flows, f)
		s.write(w, f)
	case r.Method == http.MethodPut && strings.HasPrefix(p, "/v1.0/flows/"):
		id, ok := s.pathID(w, r, "/v1.0/flows/", "")
		var f Flow
		if !ok || !s.decode(w, r, &f) || !s.validFlow(w, f) {
			return
		}
		i := slices.IndexFunc(s.Flows, func(f Flow) bool { return f.ID == id })
		if i < 0 {
			s.refuse(w, http.StatusNotFound, "no flow %s", id)
			return
		}
		f.ID = id
		s.Flows[i] = f
		s.write(w, f)
	case route == "POST /v1.0/numbers":
		s.buyNumber(w, r)
	case r.Method == http.MethodPut && strings.HasPrefix(p, "/v1.0/numbers/") && strings.HasSuffix(p, "/flow_ids"):
		// bin-number-manager processV1NumbersIDFlowIDsPut writes both flow ids.
		id, ok := s.pathID(w, r, "/v1.0/numbers/", "/flow_ids")
		var body struct {
			CallFlowID    string `json:"call_flow_id"`
			MessageFlowID string `json:"message_flow_id"`
		}
		if !ok || !s.decode(w, r, &body) {
			return
		}
		s.updateNumber(w, id, func(n *Number) bool {
			n.CallFlowID, n.MessageFlowID = uuidOrNil(body.CallFlowID), uuidOrNil(body.MessageFlowID)
			return s.flowsExist(w, n)
		})
	case r.Method == http.MethodPut && strings.HasPrefix(p, "/v1.0/numbers/"):
		// bin-number-manager processV1NumbersIDPut writes all four fields.
		id, ok := s.pathID(w, r, "/v1.0/numbers/", "")
		var body struct {
			CallFlowID    string `json:"call_flow_id"`
			MessageFlowID string `json:"message_flow_id"`
			Name          string `json:"name"`
			Detail        string `json:"detail"`
		}
		if !ok || !s.decode(w, r, &body) {
			return
		}
		s.updateNumber(w, id, func(n *Number) bool {
			n.CallFlowID, n.MessageFlowID = uuidOrNil(body.CallFlowID), uuidOrNil(body.MessageFlowID)
			n.Name, n.Detail = body.Name, body.Detail
			return s.flowsExist(w, n)
		})
	case route == "PUT /v1.0/customer":
		// bin-customer-manager UpdateBasicInfo writes all seven fields.
		var body struct {
			Name          string `json:"name"`
			Detail        string `json:"detail"`
			Email         string `json:"email"`
			PhoneNumber   string `json:"phone_number"`
			Address       string `json:"address"`
			WebhookMethod string `json:"webhook_method"`
			WebhookURI    string `json:"webhook_uri"`
		}
		if !s.decode(w, r, &body) {
			return
		}
		if body.WebhookMethod != http.MethodPost || !strings.HasSuffix(body.WebhookURI, voipbin.EventsPath) {
			s.refuse(w, http.StatusBadRequest, "webhook %s %s is not Switchboard's event endpoint", body.WebhookMethod, body.WebhookURI)
			return
		}
		c := &s.Customer
		c.Name, c.Detail, c.Email, c.PhoneNumber, c.Address = body.Name, body.Detail, body.Email, body.PhoneNumber, body.Address
		c.WebhookMethod, c.WebhookURI = body.WebhookMethod, body.WebhookURI
		out := *c
		out.WebhookSecret = "" // the PUT answers the public view, without the secret
		s.write(w, out)
	case r.Method == http.MethodPost && strings.HasPrefix(p, "/v1.0/transcribes/") && strings.HasSuffix(p, "/stop"):
		id, ok := s.pathID(w, r, "/v1.0/transcribes/", "/stop")
		if !ok {
			return
		}
		if _, known := s.Transcribes[id]; !known && !s.Foreign[id] {
			s.refuse(w, http.StatusNotFound, "no transcribe %s", id)
			return
		}
		if s.Foreign[id] {
			s.refuse(w, http.StatusForbidden, "PERMISSION_DENIED: transcribe %s is another customer's", id)
			return
		}
		// A transcribe already done is answered as it is (bin-transcribe-manager transcribehandler Stop).
		s.Transcribes[id] = "done"
		s.write(w, map[string]string{"id": id, "customer_id": s.Customer.ID, "reference_type": "call", "status": "done"})
	default:
		// An outgoing call that fetches /voipbin/callback is a callback's
		// (callback.go, which records its dials); any other is a handoff's
		// leg, played by the telephony (conference.go).
		if route == "POST /v1.0/calls" && dialsCallback(r) {
			s.dialCallback(w, r)
			return
		}
		if !s.serveTelephony(w, r, route) && !s.serveMessages(w, r, route) {
			s.refuse(w, http.StatusNotFound, "no route %s", route)
		}
	}
}

// getQueue is GET /v1.0/queues/{id} (bin-api-manager GetQueuesId, QueueGet):
// bin-queue-manager's WebhookMessage, where wait_flow_id is a uuid.UUID
// (present, the nil UUID for none) and wait_timeout an int left out when 0.
func (s *REST) getQueue(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "/v1.0/queues/", "")
	if !ok {
		return
	}
	i := slices.IndexFunc(s.Queues, func(q voipbin.Queue) bool { return strings.EqualFold(q.ID, id) })
	if i < 0 {
		s.refuse(w, http.StatusNotFound, "QUEUE_NOT_FOUND: the queue %s was not found", id)
		return
	}
	q := s.Queues[i]
	out := map[string]any{"id": q.ID, "customer_id": s.Customer.ID, "name": q.Name, "routing_method": "random",
		"wait_flow_id": uuidOrNil(q.WaitFlowID), "tm_create": "2026-01-01T00:00:00Z", "tm_update": nil, "tm_delete": nil}
	if q.WaitTimeout != 0 {
		out["wait_timeout"] = q.WaitTimeout
	}
	s.write(w, out)
}

// page serves a list resource as VoIPBin does: at most page_size (1 to 100,
// else 100) items under "result", and a next_page_token whenever the page has
// items.
func page[T any](s *REST, w http.ResponseWriter, r *http.Request, all []T) {
	size, err := strconv.Atoi(r.URL.Query().Get("page_size"))
	if err != nil || size <= 0 || size > 100 {
		size = 100
	}
	from := 0
	if tok := r.URL.Query().Get("page_token"); tok != "" {
		if from, err = strconv.Atoi(tok); err != nil || from < 0 || from > len(all) {
			s.refuse(w, http.StatusBadRequest, "bad page_token %q", tok)
			return
		}
	}
	items := all[from:min(from+size, len(all))]
	next := ""
	if len(items) > 0 {
		next = strconv.Itoa(from + len(items))
	}
	s.write(w, map[string]any{"result": items, "next_page_token": next})
}

func (s *REST) updateNumber(w http.ResponseWriter, id string, update func(*Number) bool) {
	i := slices.IndexFunc(s.Numbers, func(n Number) bool { return n.ID == id })
	if i < 0 {
		s.refuse(w, http.StatusNotFound, "no number %s", id)
		return
	}
	n := s.Numbers[i]
	if !update(&n) {
		return
	}
	s.Numbers[i] = n
	s.write(w, n)
}

// flowsExist refuses a number pointed at a flow the account does not have
// (bin-api-manager servicehandler NumberUpdate numberVerifyFlow).
func (s *REST) flowsExist(w http.ResponseWriter, n *Number) bool {
	for _, id := range []string{n.CallFlowID, n.MessageFlowID} {
		if id != NilID && !slices.ContainsFunc(s.Flows, func(f Flow) bool { return f.ID == id }) {
			s.refuse(w, http.StatusBadRequest, "could not verify flow %s", id)
			return false
		}
	}
	return true
}

// buyNumber is POST /v1.0/numbers (bin-api-manager servicehandler
// NumberCreate, bin-number-manager numberhandler Create and CreateVirtual):
// without "type": "virtual" it buys a normal number from the carrier, which
// needs a verified identity and cannot be a +899 number.
func (s *REST) buyNumber(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Number        string  `json:"number"`
		Type          *string `json:"type,omitempty"`
		CallFlowID    string  `json:"call_flow_id"`
		MessageFlowID string  `json:"message_flow_id"`
		Name          string  `json:"name"`
		Detail        string  `json:"detail"`
	}
	if !s.decode(w, r, &body) {
		return
	}
	typ := "normal"
	if body.Type != nil {
		typ = *body.Type
	}
	switch {
	case body.Number == "":
		s.refuse(w, http.StatusBadRequest, "not acceptable number")
		return
	case typ != "virtual" && s.Customer.IdentityVerificationStatus != "verified":
		s.refuse(w, http.StatusForbidden, "identity verification required: number purchase (a normal number; send \"type\": \"virtual\" for a +899 one)")
		return
	case typ != "virtual" && strings.HasPrefix(body.Number, "+899"):
		s.refuse(w, http.StatusBadRequest, "%s: no carrier sells +899 numbers as normal ones", body.Number)
		return
	case typ == "virtual" && !validVirtual(body.Number):
		s.refuse(w, http.StatusBadRequest, "invalid virtual number format: %s (+899, 13 characters, not +899000...)", body.Number)
		return
	case slices.ContainsFunc(s.Numbers, func(n Number) bool { return n.Number == body.Number }):
		s.refuse(w, http.StatusBadRequest, "the number already exists")
		return
	}
	n := Number{ID: s.newID(), Number: body.Number, Type: typ, CallFlowID: uuidOrNil(body.CallFlowID),
		MessageFlowID: uuidOrNil(body.MessageFlowID), Name: body.Name, Detail: body.Detail, Status: "active"}
	if !s.flowsExist(w, &n) {
		return
	}
	s.Numbers = append(s.Numbers, n)
	s.Available = slices.DeleteFunc(s.Available, func(a string) bool { return a == n.Number })
	s.write(w, n)
}

// validVirtual is bin-number-manager's ValidateVirtualNumber: +899, 13
// characters, digits, and not the reserved +899000 range.
func validVirtual(n string) bool {
	if !strings.HasPrefix(n, "+899") || len(n) != 13 || strings.HasPrefix(n, "+899000") {
		return false
	}
	for _, c := range n[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validFlow accepts Switchboard's flow only: answer, then a POST fetch to a
// public https URL that carries a token; after them, a customer's own
// actions, where VoIPBin reads action ids as UUIDs and a branch jumps only to
// an action of the same flow.
func (s *REST) validFlow(w http.ResponseWriter, f Flow) bool {
	type action struct {
		voipbin.Action
		fetch  voipbin.FetchOption
		branch voipbin.BranchOption
	}
	var acts []action
	for _, raw := range f.Actions {
		var a action
		err := json.Unmarshal(raw, &a.Action)
		if err == nil {
			// Every option comes back as JSON; only fetch's and branch's are read.
			b, _ := json.Marshal(a.Option)
			switch a.Type {
			case voipbin.TypeFetch:
				err = json.Unmarshal(b, &a.fetch)
			case voipbin.TypeBranch:
				err = json.Unmarshal(b, &a.branch)
			}
		}
		if err != nil {
			s.refuse(w, http.StatusBadRequest, "flow action: %v", err)
			return false
		}
		acts = append(acts, a)
	}
	if f.Name == "" || len(acts) < 2 || acts[0].Type != voipbin.TypeAnswer || acts[1].Type != voipbin.TypeFetch {
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
		if a.Type != voipbin.TypeBranch {
			continue
		}
		targets := []string{a.branch.DefaultTargetID}
		for _, id := range a.branch.TargetIDs {
			targets = append(targets, id)
		}
		for _, id := range targets {
			if !ids[id] {
				s.refuse(w, http.StatusBadRequest, "flow %q: branch on %s jumps to %q, no action of the flow", f.Name, a.branch.Variable, id)
				return false
			}
		}
	}
	u := acts[1].fetch.EventURL
	if !strings.HasPrefix(u, "https://") || !strings.Contains(u, voipbin.FetchPath+"?t=") || strings.HasSuffix(u, "?t=") || acts[1].fetch.EventMethod != http.MethodPost {
		s.refuse(w, http.StatusBadRequest, "fetch %s %q: want POST to a public https URL carrying ?t=TOKEN", acts[1].fetch.EventMethod, u)
		return false
	}
	return true
}
