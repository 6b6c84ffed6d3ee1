package service

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store/redistest"
)

// TestRedisOutage stops Redis in the middle of a call and starts it again:
// every fetch still gets a valid answer (the caller goes to the fallback desk
// at once while Redis is down), events answer 503 so that VoIPBin's retry
// delivers them later, /readyz tells the truth, and calls after the outage are
// routed normally without a restart of the service.
func TestRedisOutage(t *testing.T) {
	redis := redistest.StartServer(t, redistest.Durable...)
	srv := startServer(t, Config{RedisURL: redis.URL()})
	fetch := func(call string) []voipbin.Action {
		t.Helper()
		status, body := post(t, srv.URL+"/voipbin/fetch", `{"activeflow_id":"`+vid("af")+`","reference_id":"`+call+`"}`)
		if status != http.StatusOK {
			t.Fatalf("fetch answered %d %s: VoIPBin would stop the call", status, body)
		}
		var acts []voipbin.Action
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
	fetch(vid("call-a"))
	if s := event(`{"type":"transcribe_created","data":{"id":"` + vid("tr-a") + `","reference_type":"call","reference_id":"` + vid("call-a") + `"}}`); s != http.StatusOK {
		t.Fatalf("transcribe_created = %d", s)
	}
	event(`{"type":"transcript_created","data":{"id":"` + vid("ts-a1") + `","transcribe_id":"` + vid("tr-a") + `","direction":"in","message":"hi"}}`)
	if acts := fetch(vid("call-a")); acts[0].Type != "talk" || acts[len(acts)-1].Type != "fetch" {
		t.Fatalf("call A should be asked to clarify, got %+v", acts)
	}

	redis.Stop()
	late := `{"type":"transcript_created","data":{"id":"` + vid("ts-a2") + `","transcribe_id":"` + vid("tr-a") + `","direction":"in","message":"my invoice shows a double charge"}}`
	if s := event(late); s != http.StatusServiceUnavailable {
		t.Errorf("an event that cannot be stored must answer 503 for VoIPBin to retry, got %d", s)
	}
	acts := fetch(vid("call-a"))
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

	res, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: "call-b", Bases: []string{srv.URL}},
		[]voipbintest.Step{{Say: "hi"}, {Say: "my invoice shows a double charge"}})
	if err != nil || res.Connected != "+14155550102" {
		t.Errorf("a call after the outage: connected %q, err %v, want billing\n%s", res.Connected, err, strings.Join(res.Transcript, "\n"))
	}
}

// TestRedisOutageEventsRetried plays a whole simulated call whose Redis fails
// while the caller speaks; VoIPBin's retry (simulated: Redis is back before
// the second attempt) stores the words and the call is routed as usual.
func TestRedisOutageEventsRetried(t *testing.T) {
	redis := redistest.StartServer(t, redistest.Durable...)
	srv := startServer(t, Config{RedisURL: redis.URL()})
	outages := 0
	opt := voipbintest.Options{CallID: "call-retry", Bases: []string{srv.URL}}
	// Said in a second, the words are in before the pause ends.
	steps := []voipbintest.Step{{Say: "hi"}, {Say: "my invoice shows a double charge", SpeakMS: 1000}}
	// Fail Redis just before the second utterance is delivered, and bring it
	// back when the event is refused: VoIPBin's retry 1 s later delivers it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := voipbintest.Run(ctx, withHook(opt, func(line string) {
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
	svc, srv := startService(t, Config{RedisURL: redis.URL()})
	answer(t, srv.URL, vid("call-r"))
	if s, _ := post(t, srv.URL+"/voipbin/events", `{"type":"transcribe_created","data":{"id":"`+vid("tr-r")+`","reference_type":"call","reference_id":"`+vid("call-r")+`"}}`); s != http.StatusOK {
		t.Fatalf("transcribe_created = %d", s)
	}
	redis.Stop()
	restarted := make(chan struct{})
	go func() {
		defer close(restarted)
		time.Sleep(1500 * time.Millisecond) // inside eventPatience, with room for a slow machine
		redis.Restart()
	}()
	status, body := post(t, srv.URL+"/voipbin/events", `{"type":"transcript_created","data":{"id":"`+vid("ts-r")+`","transcribe_id":"`+vid("tr-r")+`","direction":"in","message":"my invoice shows a double charge"}}`)
	<-restarted
	if status != http.StatusOK {
		t.Fatalf("event during a 1.5 s Redis restart = %d %s, want 200 after riding it out", status, body)
	}
	if lines := heardLines(t, svc, vid("call-r")); len(lines) != 1 || lines[0] != "my invoice shows a double charge" {
		t.Errorf("stored lines after the restart = %q; want the caller's line", lines)
	}
}

func withHook(opt voipbintest.Options, hook func(line string)) voipbintest.Options {
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

// TestWithPatience: an event that cannot be stored is tried again with a
// growing pause (50 ms, 100 ms, ...) until its patience runs out, not in a
// busy loop; words from an unknown session and unsigned events for an
// unknown call are not tried again (VoIPBin's retry, or nobody, handles them).
func TestWithPatience(t *testing.T) {
	tries := func(patience time.Duration, err error) int {
		n := 0
		got := withPatience(t.Context(), patience, func(context.Context) error { n++; return err })
		if !errors.Is(got, err) {
			t.Errorf("withPatience returned %v, want %v", got, err)
		}
		return n
	}
	down := errors.New("store down")
	// 50 + 100 + 200 ms of pauses fit in 400 ms, a fourth (400 ms) does not.
	if n := tries(400*time.Millisecond, down); n < 2 || n > 5 {
		t.Errorf("a store down for the whole patience was tried %d times, want about 4", n)
	}
	if n := tries(0, down); n != 1 {
		t.Errorf("no patience: tried %d times, want once", n)
	}
	for _, err := range []error{flow.ErrUnknownSession, errUnknownCall} {
		if n := tries(time.Second, err); n != 1 {
			t.Errorf("%v: tried %d times, want once", err, n)
		}
	}
}
