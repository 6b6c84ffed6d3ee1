package voipbintest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
)

// restCall sends one request to the stand-in with the access key and returns the
// status and body.
func restCall(t *testing.T, s *REST, method, path, body string) (int, string) {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path+sep+"accesskey="+AccessKey, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRESTOverwrites: VoIPBin's PUTs write every field of their body, so the
// stand-in's do too. A body with only the field a client means to change
// damages the account, and the stand-in shows the damage.
func TestRESTOverwrites(t *testing.T) {
	s := NewREST(t)
	if status, body := restCall(t, s, "PUT", "/v1.0/customer", `{"webhook_method":"POST","webhook_uri":"https://sb.example.com/voipbin/events"}`); status != 200 {
		t.Fatalf("PUT /v1.0/customer: %d %s", status, body)
	}
	if c := s.Customer; c.Name != "" || c.Email != "" || c.PhoneNumber != "" || c.Address != "" || c.Detail != "" {
		t.Errorf("a PUT without the customer's fields must wipe them, as VoIPBin's does: %+v", c)
	}
	if c := s.Customer; c.WebhookSecret != "whsec-xyz" || c.Status != "active" {
		t.Errorf("a PUT must not touch what it does not carry: %+v", c)
	}

	s = NewREST(t)
	if status, body := restCall(t, s, "PUT", "/v1.0/numbers/"+FrontDesk, `{"call_flow_id":"`+SMSFlow+`"}`); status != 200 {
		t.Fatalf("PUT /v1.0/numbers/{id}: %d %s", status, body)
	}
	if n, _ := s.Number(FrontDesk); n.MessageFlowID != NilID || n.Name != "" || n.Detail != "" || n.CallFlowID != SMSFlow {
		t.Errorf("PUT /v1.0/numbers/{id} must write all four fields: %+v", n)
	}

	s = NewREST(t)
	if status, body := restCall(t, s, "PUT", "/v1.0/numbers/"+FrontDesk+"/flow_ids", `{"call_flow_id":"`+SMSFlow+`"}`); status != 200 {
		t.Fatalf("PUT flow_ids: %d %s", status, body)
	}
	if n, _ := s.Number(FrontDesk); n.MessageFlowID != NilID || n.Name != "front desk" {
		t.Errorf("flow_ids writes both flow ids and nothing else: %+v", n)
	}
	// An id that is not a UUID becomes the nil UUID, as uuid.FromStringOrNil makes it.
	if status, _ := restCall(t, s, "PUT", "/v1.0/numbers/"+FrontDesk+"/flow_ids", `{"call_flow_id":"flow-1","message_flow_id":"`+SMSFlow+`"}`); status != 200 {
		t.Fatal(status)
	}
	if n, _ := s.Number(FrontDesk); n.CallFlowID != NilID {
		t.Errorf("a call_flow_id that is no UUID must unset the flow: %+v", n)
	}
}

// TestRESTRefuses lists the forms VoIPBin refuses, each refused here too.
func TestRESTRefuses(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		verified                 bool
		status                   int
	}{
		{"a path id that is no UUID", "PUT", "/v1.0/numbers/num-1/flow_ids", `{"call_flow_id":"","message_flow_id":""}`, true, 400},
		{"a number of another account", "PUT", "/v1.0/numbers/" + ID(9) + "/flow_ids", `{"call_flow_id":"","message_flow_id":""}`, true, 404},
		{"a flow the account has not", "PUT", "/v1.0/numbers/" + FrontDesk, `{"call_flow_id":"` + ID(9) + `","message_flow_id":"","name":"","detail":""}`, true, 400},
		{"an unknown field", "PUT", "/v1.0/customer", `{"webhook_uri":"https://sb.example.com/voipbin/events","webhook_method":"POST","webhook_secret":"x"}`, true, 400},
		{"a normal number bought unverified", "POST", "/v1.0/numbers", `{"number":"+15550003000"}`, false, 403},
		{"a +899 number bought as normal", "POST", "/v1.0/numbers", `{"number":"+899123456789"}`, true, 400},
		{"a virtual number in the reserved range", "POST", "/v1.0/numbers", `{"number":"+899000123456","type":"virtual"}`, false, 400},
		{"a virtual number too short", "POST", "/v1.0/numbers", `{"number":"+89912345","type":"virtual"}`, false, 400},
		{"a virtual number not +899", "POST", "/v1.0/numbers", `{"number":"+15550001000","type":"virtual"}`, false, 400},
		{"available numbers, neither virtual nor a country", "GET", "/v1.0/available_numbers", "", true, 400},
		{"stop, an id that is no UUID", "POST", "/v1.0/transcribes/tr-1/stop", "", true, 400},
		{"stop, an unknown transcribe", "POST", "/v1.0/transcribes/" + ID(9) + "/stop", "", true, 404},
		{"anything, the account frozen", "GET", "/v1.0/customer", "", true, 403},
		{"a queue id that is no UUID", "GET", "/v1.0/queues/sales-queue", "", true, 400},
		{"a queue id, the nil UUID", "GET", "/v1.0/queues/" + NilID, "", true, 400},
		{"an unknown queue", "GET", "/v1.0/queues/" + ID(9), "", true, 404},
		{"a flow id that is no UUID", "GET", "/v1.0/flows/hold-music", "", true, 400},
		{"an unknown flow", "GET", "/v1.0/flows/" + ID(9), "", true, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewREST(t)
			if !tt.verified {
				s.Customer.IdentityVerificationStatus = "none"
			}
			if strings.Contains(tt.name, "frozen") {
				s.Customer.Status = "frozen"
			}
			before := len(s.Numbers)
			if status, body := restCall(t, s, tt.method, tt.path, tt.body); status != tt.status {
				t.Errorf("%s %s: %d %s, want %d", tt.method, tt.path, status, body, tt.status)
			}
			if len(s.Writes) != 0 || len(s.Numbers) != before {
				t.Errorf("a refused request wrote %v", s.Writes)
			}
		})
	}
}

// TestRESTBuys: a number bought without "type" is a normal one (a verified
// account's); with "type": "virtual" it is virtual, and needs no verification.
func TestRESTBuys(t *testing.T) {
	s := NewREST(t)
	if status, body := restCall(t, s, "POST", "/v1.0/numbers", `{"number":"+15550003000"}`); status != 200 || !strings.Contains(body, `"type":"normal"`) {
		t.Errorf("normal purchase: %d %s", status, body)
	}
	s.Customer.IdentityVerificationStatus = "pending"
	if status, body := restCall(t, s, "POST", "/v1.0/numbers", `{"number":"+899123456789","type":"virtual"}`); status != 200 || !strings.Contains(body, `"type":"virtual"`) {
		t.Errorf("virtual purchase: %d %s", status, body)
	}
	if status, _ := restCall(t, s, "POST", "/v1.0/numbers", `{"number":"+899123456789","type":"virtual"}`); status != 400 {
		t.Errorf("a number held already: %d, want 400", status)
	}
	if len(s.Available) != 0 {
		t.Errorf("a taken number is still offered: %v", s.Available)
	}
}

// TestRESTReads: the outbound config always carries its default caller ID,
// the nil UUID for none; the customer shows its webhook secret only when it
// has one; lists come in pages with a next page token.
func TestRESTReads(t *testing.T) {
	s := NewREST(t)
	if _, body := restCall(t, s, "GET", "/v1.0/outbound_config", ""); !strings.Contains(body, `"default_outgoing_source_number_id":"`+NilID+`"`) {
		t.Errorf("outbound config without a default: %s", body)
	}
	s.DefaultSource = ""
	if _, body := restCall(t, s, "GET", "/v1.0/outbound_config", ""); !strings.Contains(body, `"default_outgoing_source_number_id":"`+NilID+`"`) {
		t.Errorf("an empty default must read as the nil UUID: %s", body)
	}
	s.Customer.WebhookSecret = ""
	if _, body := restCall(t, s, "GET", "/v1.0/customer", ""); strings.Contains(body, "webhook_secret") || !strings.Contains(body, `"identity_verification_status":"verified"`) {
		t.Errorf("customer without a secret: %s", body)
	}
	for i := range 3 {
		s.Agents = append(s.Agents, Agent{ID: ID(60 + i)})
	}
	var pg struct {
		Result []Agent `json:"result"`
		Next   string  `json:"next_page_token"`
	}
	_, body := restCall(t, s, "GET", "/v1.0/agents?page_size=2", "")
	if err := json.Unmarshal([]byte(body), &pg); err != nil || len(pg.Result) != 2 || pg.Next == "" {
		t.Fatalf("first page: %s", body)
	}
	_, body = restCall(t, s, "GET", "/v1.0/agents?page_size=2&page_token="+pg.Next, "")
	if err := json.Unmarshal([]byte(body), &pg); err != nil || len(pg.Result) != 1 || pg.Result[0].ID != ID(62) {
		t.Errorf("second page: %s", body)
	}
}

// TestRESTStopTranscribe: a stop is refused without the key, and answered
// 200 for a transcribe stopped already, as VoIPBin does.
func TestRESTStopTranscribe(t *testing.T) {
	s := NewREST(t)
	id := s.Transcribing()
	resp, err := http.Post(s.URL+"/v1.0/transcribes/"+id+"/stop?accesskey=wrong", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || s.Status(id) != "progressing" {
		t.Errorf("a wrong key: %d, status %s", resp.StatusCode, s.Status(id))
	}
	for range 2 {
		if status, body := restCall(t, s, "POST", "/v1.0/transcribes/"+id+"/stop", ""); status != 200 || !strings.Contains(body, `"status":"done"`) {
			t.Errorf("stop: %d %s", status, body)
		}
	}
	if s.Status(id) != "done" {
		t.Errorf("status %s, want done", s.Status(id))
	}

	// Another customer's transcription: 403, and it runs on.
	s.mu.Lock()
	foreign := s.newID()
	s.Foreign[foreign] = true
	s.mu.Unlock()
	if status, body := restCall(t, s, "POST", "/v1.0/transcribes/"+foreign+"/stop", ""); status != 403 || !strings.Contains(body, "PERMISSION_DENIED") {
		t.Errorf("another customer's transcription: %d %s, want 403 PERMISSION_DENIED", status, body)
	}
	// An expired (or deleted) key is refused as a wrong one: 401, nothing stopped.
	other := s.Transcribing()
	s.mu.Lock()
	s.KeyExpired = true
	s.mu.Unlock()
	if status, body := restCall(t, s, "POST", "/v1.0/transcribes/"+other+"/stop", ""); status != 401 || s.Status(other) != "progressing" {
		t.Errorf("an expired key: %d %s, status %s; want 401 and the transcription running", status, body, s.Status(other))
	}
}

// TestRESTQueues: a queue reads as VoIPBin shows it, its wait_flow_id there
// even when it has none (the nil UUID) and wait_timeout left out when 0; its
// wait flow reads by id; neither is shown without the key.
func TestRESTQueues(t *testing.T) {
	s := NewREST(t)
	hold := ID(70)
	s.Flows = append(s.Flows, Flow{ID: hold, Name: "hold", Actions: []json.RawMessage{json.RawMessage(`{"type":"talk","option":{"text":"Please hold."}}`)}})
	s.Queues = []voipbin.Queue{{ID: ID(71), Name: "sales", WaitFlowID: hold, WaitTimeout: 300000}, {ID: ID(72), Name: "bare"}}
	if _, body := restCall(t, s, "GET", "/v1.0/queues/"+ID(71), ""); !strings.Contains(body, `"wait_flow_id":"`+hold+`"`) || !strings.Contains(body, `"wait_timeout":300000`) {
		t.Errorf("a queue with a wait flow: %s", body)
	}
	if _, body := restCall(t, s, "GET", "/v1.0/queues/"+ID(72), ""); !strings.Contains(body, `"wait_flow_id":"`+NilID+`"`) || strings.Contains(body, "wait_timeout") {
		t.Errorf("a queue without a wait flow or timeout: %s", body)
	}
	if _, body := restCall(t, s, "GET", "/v1.0/flows/"+hold, ""); !strings.Contains(body, "Please hold.") {
		t.Errorf("the wait flow: %s", body)
	}
	for _, path := range []string{"/v1.0/queues/" + ID(71), "/v1.0/flows/" + hold} {
		resp, err := http.Get(s.URL + path + "?accesskey=wrong")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("GET %s with a wrong key: %d, want 401", path, resp.StatusCode)
		}
	}
}
