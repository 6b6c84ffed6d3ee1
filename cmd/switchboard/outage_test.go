package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/sim"
	"github.com/switchboard/switchboard/store/redistest"
)

// TestRedisOutage stops Redis in the middle of a call and starts it again:
// every fetch still gets a valid answer (the caller goes to the fallback desk
// at once while Redis is down), events answer 503 so that VoIPBin's retry
// delivers them later, /readyz tells the truth, and calls after the outage are
// routed normally without a restart of the service.
func TestRedisOutage(t *testing.T) {
	redis := redistest.StartServer(t, redistest.Durable...)
	srv := startServer(t, settings{RedisURL: redis.URL()})
	fetch := func(call string) []voipbinAction {
		t.Helper()
		status, body := post(t, srv.URL+"/voipbin/fetch", `{"activeflow_id":"af","reference_id":"`+call+`"}`)
		if status != http.StatusOK {
			t.Fatalf("fetch answered %d %s: VoIPBin would stop the call", status, body)
		}
		var acts []voipbinAction
		if err := json.Unmarshal([]byte(body), &acts); err != nil || len(acts) == 0 {
			t.Fatalf("fetch answer is not an action list: %s", body)
		}
		return acts
	}
	event := func(body string) int {
		t.Helper()
		status, _ := post(t, srv.URL+"/voipbin/events", body)
		return status
	}
	ready := func() int {
		t.Helper()
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	// Call A starts normally and is asked to clarify.
	fetch("call-a")
	if s := event(`{"type":"transcribe_created","data":{"id":"tr-a","reference_type":"call","reference_id":"call-a"}}`); s != http.StatusOK {
		t.Fatalf("transcribe_created = %d", s)
	}
	event(`{"type":"transcript_created","data":{"id":"ts-a1","transcribe_id":"tr-a","direction":"in","message":"hi"}}`)
	if acts := fetch("call-a"); acts[0].Type != "talk" || acts[len(acts)-1].Type != "fetch" {
		t.Fatalf("call A should be asked to clarify, got %+v", acts)
	}

	redis.Stop()
	late := `{"type":"transcript_created","data":{"id":"ts-a2","transcribe_id":"tr-a","direction":"in","message":"my invoice shows a double charge"}}`
	if s := event(late); s != http.StatusServiceUnavailable {
		t.Errorf("an event that cannot be stored must answer 503 for VoIPBin to retry, got %d", s)
	}
	acts := fetch("call-a")
	if last := acts[len(acts)-1]; last.Type != "connect" || !strings.Contains(mustJSON(t, last.Option), "+14155550199") {
		t.Errorf("while Redis is down the caller goes to the fallback desk at once, got %+v", acts)
	}
	if s := ready(); s != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d while Redis is down, want 503", s)
	}

	redis.Restart()
	deadline := time.Now().Add(5 * time.Second)
	for ready() != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not recover after Redis came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// VoIPBin's retry of the event that failed: stored now, nothing lost.
	if s := event(late); s != http.StatusOK {
		t.Errorf("retried event = %d after Redis is back, want 200", s)
	}

	res, err := sim.Run(context.Background(), sim.Options{CallID: "call-b", Bases: []string{srv.URL}},
		[]sim.Step{{Say: "hi"}, {Say: "my invoice shows a double charge"}})
	if err != nil || res.Connected != "+14155550102" {
		t.Errorf("a call after the outage: connected %q, err %v, want billing\n%s", res.Connected, err, strings.Join(res.Transcript, "\n"))
	}
}

// TestRedisOutageEventsRetried plays a whole simulated call whose Redis fails
// while the caller speaks; VoIPBin's retry (simulated: Redis is back before
// the second attempt) stores the words and the call is routed as usual.
func TestRedisOutageEventsRetried(t *testing.T) {
	redis := redistest.StartServer(t, redistest.Durable...)
	srv := startServer(t, settings{RedisURL: redis.URL()})
	outages := 0
	opt := sim.Options{CallID: "call-retry", Bases: []string{srv.URL}}
	// Said in a second, the words are in before the pause ends.
	steps := []sim.Step{{Say: "hi"}, {Say: "my invoice shows a double charge", SpeakMS: 1000}}
	// Fail Redis just before the second utterance is delivered, and bring it
	// back when the event is refused: VoIPBin's retry 1 s later delivers it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := sim.Run(ctx, withHook(opt, func(line string) {
		switch {
		case line == "caller: my invoice shows a double charge" && outages == 0:
			outages++
			redis.Stop()
		case strings.HasPrefix(line, "(event transcript_created answered 503"):
			redis.Restart()
		}
	}), steps)
	if err != nil || res.Connected != "+14155550102" {
		t.Errorf("connected %q, err %v, want billing\n%s", res.Connected, err, strings.Join(res.Transcript, "\n"))
	}
	if outages != 1 || !strings.Contains(strings.Join(res.Transcript, "\n"), "answered 503") {
		t.Errorf("the outage did not happen as planned:\n%s", strings.Join(res.Transcript, "\n"))
	}
}

// TestEventRidesOutRedisRestart: Redis goes down for a second and a half
// while a caller's line arrives; the event handler keeps trying inside the
// request and answers 200 once Redis is back, without spending one of
// VoIPBin's three attempts.
func TestEventRidesOutRedisRestart(t *testing.T) {
	redis := redistest.StartServer(t, redistest.Durable...)
	svc, srv := startService(t, settings{RedisURL: redis.URL()})
	if s, _ := post(t, srv.URL+"/voipbin/events", `{"type":"transcribe_created","data":{"id":"tr-r","reference_type":"call","reference_id":"call-r"}}`); s != http.StatusOK {
		t.Fatalf("transcribe_created = %d", s)
	}
	redis.Stop()
	restarted := make(chan struct{})
	go func() {
		defer close(restarted)
		time.Sleep(1500 * time.Millisecond) // inside eventPatience, with room for a slow machine
		redis.Restart()
	}()
	status, body := post(t, srv.URL+"/voipbin/events", `{"type":"transcript_created","data":{"id":"ts-r","transcribe_id":"tr-r","direction":"in","message":"my invoice shows a double charge"}}`)
	<-restarted
	if status != http.StatusOK {
		t.Fatalf("event during a 1.5 s Redis restart = %d %s, want 200 after riding it out", status, body)
	}
	_, inbox, err := svc.store.Load(t.Context(), "call-r")
	if err != nil || len(inbox) != 1 || inbox[0].Text != "my invoice shows a double charge" {
		t.Errorf("inbox after the restart = %v, %v; want the caller's line", inbox, err)
	}
}

func withHook(opt sim.Options, hook func(line string)) sim.Options {
	opt.OnLine = hook
	return opt
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
