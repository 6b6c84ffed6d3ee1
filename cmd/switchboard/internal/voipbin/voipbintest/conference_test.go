package voipbintest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const (
	conferenceBody = `{"type":"connect","name":"n","detail":"d","timeout":0,"data":{},"pre_flow_id":"` + NilID + `","post_flow_id":"` + NilID + `"}`
	callActions    = `[{"id":"5d0f1c7e-0d5e-4a48-9a1b-6c2f3f7c0001","type":"talk","option":{"text":"hi","language":"en-US"}}]`
)

func callBody(source, target, actions string) string {
	return `{"source":{"type":"tel","target":"` + source + `"},"destinations":[{"type":"tel","target":"` + target + `"}],"actions":` + actions + `}`
}

// TestTelephonyRefuses: each rule of VoIPBin's conferences and outgoing
// calls that the stand-in enforces, refused in the form VoIPBin refuses.
func TestTelephonyRefuses(t *testing.T) {
	front := "+15550001000" // the account's normal number
	tests := []struct {
		name         string
		setup        func(*REST)
		method, path string
		body         string
		status       int
		want         string
	}{
		{"conference of an unknown type", nil, "POST", "/v1.0/conferences", strings.Replace(conferenceBody, "connect", "bridge", 1), 400, "conference type"},
		{"conference field VoIPBin does not know", nil, "POST", "/v1.0/conferences", strings.Replace(conferenceBody, `"name"`, `"nmae"`, 1), 400, "nmae"},
		{"conference over the plan's limit", func(s *REST) { s.ConferenceLimit = 1; s.conferences = map[string]*conference{ID(7): {id: ID(7)}} },
			"POST", "/v1.0/conferences", conferenceBody, 400, "resource limit exceeded"},
		{"delete an unknown conference", nil, "DELETE", "/v1.0/conferences/" + ID(9), "", 404, "CONFERENCE_NOT_FOUND"},
		{"delete a deleted conference", func(s *REST) { s.conferences = map[string]*conference{ID(7): {id: ID(7), deleted: true}} },
			"DELETE", "/v1.0/conferences/" + ID(7), "", 404, "CONFERENCE_NOT_FOUND"},
		{"call without a verified identity", func(s *REST) { s.Customer.IdentityVerificationStatus = "unverified" },
			"POST", "/v1.0/calls", callBody(front, "+14155550102", callActions), 403, "IDENTITY_VERIFICATION_REQUIRED"},
		{"call without balance", func(s *REST) { s.NoBalance = true }, "POST", "/v1.0/calls", callBody(front, "+14155550102", callActions), 402, "balance"},
		{"call while VoIPBin is down", func(s *REST) { s.Down = true }, "POST", "/v1.0/calls", callBody(front, "+14155550102", callActions), 503, "down"},
		{"call to a country not whitelisted", nil, "POST", "/v1.0/calls", callBody(front, "+442079460000", callActions), 400, "whitelist"},
		{"call from a caller ID not the account's, no default", nil, "POST", "/v1.0/calls", callBody("+14155559999", "+14155550102", callActions), 400, "caller ID"},
		{"call from a virtual number", func(s *REST) {
			s.Numbers = append(s.Numbers, Number{ID: ID(3), Number: "+899123456789", Type: "virtual", Status: "active"})
		}, "POST", "/v1.0/calls", callBody("+899123456789", "+14155550102", callActions), 400, "caller ID"},
		{"call with an action VoIPBin does not know", nil, "POST", "/v1.0/calls",
			callBody(front, "+14155550102", `[{"id":"5d0f1c7e-0d5e-4a48-9a1b-6c2f3f7c0001","type":"whisper","option":{}}]`), 400, "whisper"},
		{"call with an option field VoIPBin does not know", nil, "POST", "/v1.0/calls",
			callBody(front, "+14155550102", `[{"id":"5d0f1c7e-0d5e-4a48-9a1b-6c2f3f7c0001","type":"digits_receive","option":{"timeout":5000}}]`), 400, "timeout"},
		{"call with nothing to run", nil, "POST", "/v1.0/calls", callBody(front, "+14155550102", `[]`), 400, "neither flow_id nor actions"},
		{"hang up an unknown call", nil, "POST", "/v1.0/calls/" + ID(9) + "/hangup", "", 404, "CALL_NOT_FOUND"},
		{"hang up a call that is over", func(s *REST) { s.legs = map[string]*leg{ID(8): {id: ID(8), status: "hangup"}} },
			"POST", "/v1.0/calls/" + ID(8) + "/hangup", "", 400, "already over"},
		{"talk to an unknown call", nil, "POST", "/v1.0/calls/" + ID(9) + "/talk", `{"text":"Still trying"}`, 404, "CALL_NOT_FOUND"},
		{"talk to a caller whose conference was deleted", func(s *REST) {
			c := &conference{id: ID(7), deleted: true}
			c.members = []*member{{callID: ID(9), conf: c, heard: make(chan string, 1)}}
			s.conferences = map[string]*conference{ID(7): c}
		}, "POST", "/v1.0/calls/" + ID(9) + "/talk", `{"text":"Still trying"}`, 404, "CALL_NOT_FOUND"},
		{"talk to a call that is over", func(s *REST) { s.legs = map[string]*leg{ID(8): {id: ID(8), status: "hangup"}} },
			"POST", "/v1.0/calls/" + ID(8) + "/talk", `{"text":"Still trying"}`, 400, "already over"},
		{"talk with nothing to say", func(s *REST) { s.legs = map[string]*leg{ID(8): {id: ID(8), status: "progressing"}} },
			"POST", "/v1.0/calls/" + ID(8) + "/talk", `{"text":" "}`, 400, "no text"},
		{"hang up a waiting caller already hung up", func(s *REST) { s.waiting = map[string]*waiter{ID(6): hungUpWaiter()} },
			"POST", "/v1.0/calls/" + ID(6) + "/hangup", "", 400, "already over"},
		{"talk to a waiting caller already hung up", func(s *REST) { s.waiting = map[string]*waiter{ID(6): hungUpWaiter()} },
			"POST", "/v1.0/calls/" + ID(6) + "/talk", `{"text":"Goodbye"}`, 400, "already over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewREST(t)
			if tt.setup != nil {
				tt.setup(s)
			}
			status, body := restCall(t, s, tt.method, tt.path, tt.body)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("%s %s = %d %s, want %d naming %q", tt.method, tt.path, status, body, tt.status, tt.want)
			}
		})
	}
}

func hungUpWaiter() *waiter {
	w := &waiter{heard: make(chan string, 1), hungUp: make(chan struct{})}
	close(w.hungUp)
	return w
}

// TestTelephonyAccepts: what VoIPBin accepts, the stand-in accepts: the
// default outgoing number stands in for a caller ID that is not the
// account's, a timeout under 60 s becomes a day, and deleting a
// conference lets it be created again on a plan at its limit.
func TestTelephonyAccepts(t *testing.T) {
	s := NewREST(t)
	s.ConferenceLimit = 1
	s.People = map[string]string{"+14155550102": PersonBusy}
	status, body := restCall(t, s, "POST", "/v1.0/conferences", strings.Replace(conferenceBody, `"timeout":0`, `"timeout":30`, 1))
	if status != 200 || !strings.Contains(body, `"timeout":86400`) {
		t.Fatalf("a 30 s timeout: %d %s, want 200 and a day", status, body)
	}
	var conf struct{ ID string }
	_ = json.Unmarshal([]byte(body), &conf)
	if status, body := restCall(t, s, "DELETE", "/v1.0/conferences/"+conf.ID, ""); status != 200 {
		t.Fatalf("delete: %d %s", status, body)
	}
	if status, body := restCall(t, s, "POST", "/v1.0/conferences", conferenceBody); status != 200 {
		t.Fatalf("a deleted conference still counted against the limit: %d %s", status, body)
	}
	s.DefaultSource = FrontDesk
	status, body = restCall(t, s, "POST", "/v1.0/calls", callBody("+14155559999", "+14155550102", callActions))
	if status != 200 || !strings.Contains(body, `"calls":[{`) {
		t.Fatalf("a call with the default outgoing number: %d %s", status, body)
	}
	if !s.WaitCalls(5 * time.Second) {
		t.Fatal("the busy call never ended")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.legs {
		if l.source != "+15550001000" || l.reason != "busy" {
			t.Errorf("leg %+v: want the default outgoing number as caller ID, hung up busy", l)
		}
	}
}

// TestConferenceJoinUnknown: a conference_join to a conference that does
// not exist fails, and VoIPBin hangs the caller up.
func TestConferenceJoinUnknown(t *testing.T) {
	s := NewREST(t)
	c := &call{opt: Options{REST: s, CallID: "c"}, res: &Result{}}
	if err := c.conferenceJoin(context.Background(), ID(77)); err != errEnded {
		t.Fatalf("got %v, want the call ended", err)
	}
	if got := strings.Join(c.res.Transcript, "\n"); !strings.Contains(got, "CALL FAILED") {
		t.Errorf("transcript: %s", got)
	}
}
