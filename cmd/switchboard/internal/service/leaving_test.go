package service

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/redistest"
)

// metricsOf reads a service's /metrics from its own handler (with Redis it
// is on no public address).
func metricsOf(svc *Service) string {
	rec := httptest.NewRecorder()
	metricsHandler(svc).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

// transcriptEvent is a transcript_created of the caller's words.
func transcriptEvent(id, transcribe, words string) string {
	return `{"type":"transcript_created","data":{"id":"` + vid(id) + `","transcribe_id":"` + transcribe + `","direction":"in","message":"` + words + `"}}`
}

func transcribeCreated(transcribe, call string) string {
	return `{"type":"transcribe_created","data":{"id":"` + transcribe + `","reference_type":"call","reference_id":"` + call + `","language":"en-US"}}`
}

// TestFailoverLeavesTheCall: Redis freezes for 2 s (SIGSTOP) while a fetch
// loads the call, and the caller is sent to the fallback desk without a
// save. Once Redis answers again the call is stored as having left us: its
// transcription unlinked and stopped at VoIPBin, and what the caller then
// tells the receptionist ("our production site is down") is kept nowhere,
// decided on by neither of two replicas, and the call is counted once.
func TestFailoverLeavesTheCall(t *testing.T) {
	redis := redistest.StartServer(t)
	api := voipbintest.NewREST(t)
	tr := api.Transcribing()
	s := Config{RedisURL: redis.URL(), AccessKey: voipbintest.AccessKey, APIURL: api.URL}
	svcA, a := startService(t, s)
	svcB, b := startService(t, s)
	call := vid("frozen")
	fetch := func(base string) string {
		t.Helper()
		status, body := post(t, base+"/voipbin/fetch?to=%2B14155550000", `{"activeflow_id":"`+vid("af-frozen")+`","reference_id":"`+call+`"}`)
		if status != http.StatusOK {
			t.Fatalf("fetch = %d %s", status, body)
		}
		return body
	}
	event := func(base, ev string) {
		t.Helper()
		if status, body := post(t, base+"/voipbin/events", ev); status != http.StatusOK {
			t.Fatalf("event = %d %s", status, body)
		}
	}
	if body := fetch(a.URL); !strings.Contains(body, "transcribe_start") {
		t.Fatalf("first fetch: %s", body)
	}
	event(a.URL, transcribeCreated(tr, call))
	event(b.URL, transcriptEvent("ts-1", tr, "hi"))
	if body := fetch(b.URL); strings.Contains(body, `"connect"`) {
		t.Fatalf("a caller who said hi is asked what they need, not transferred: %s", body)
	}

	// Frozen for the fetch's whole budget (2 s), and a little more while the
	// caller already talks to the receptionist: resumed only once the fetch
	// has failed over, so that no load on the machine can let it succeed.
	redis.Pause()
	if body := fetch(a.URL); !strings.Contains(body, "+14155550199") {
		t.Errorf("with Redis frozen the caller goes to the fallback desk, got %s", body)
	}
	said := make(chan int)
	go func() {
		status, _ := post(t, a.URL+"/voipbin/events", transcriptEvent("ts-2", tr, "our production site is down"))
		said <- status
	}()
	time.Sleep(300 * time.Millisecond)
	redis.Resume()
	resumed := time.Now()
	if status := <-said; status != http.StatusOK {
		t.Errorf("words to the receptionist while Redis was frozen = %d, want 200", status)
	}

	deadline := time.Now().Add(5 * time.Second)
	for {
		c, _, err := svcA.store.Load(t.Context(), call)
		link, lerr := svcA.store.Resolve(t.Context(), tr)
		if err == nil && c.Left() && lerr == nil && link == "" && api.Status(tr) == "done" {
			t.Logf("stored as left, unlinked and stopped %v after Redis came back", time.Since(resumed).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("5 s after Redis came back: call %s (%s, %q) %v, link %q %v, transcription %s; want it left, unlinked and stopped",
				c.State, c.Department, c.Reason, err, link, lerr, api.Status(tr))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Words after that, to either replica, and a retried transcribe_created.
	event(b.URL, transcriptEvent("ts-3", tr, "our production site is down"))
	event(a.URL, transcriptEvent("ts-4", tr, "it is the payments cluster"))
	event(b.URL, transcribeCreated(tr, call))
	event(b.URL, transcriptEvent("ts-5", tr, "it is an outage"))

	c, inbox, err := svcB.store.Load(t.Context(), call)
	if err != nil || c.State != flow.StateTransferred || c.Reason != "error" || len(inbox) != 0 || strings.Contains(strings.Join(c.Turns, " "), "production") {
		t.Errorf("the call after the failover: %s to %q (%q), turns %q, inbox %v, %v; want transferred to the fallback desk for the error, nothing more kept",
			c.State, c.Department, c.Reason, c.Turns, inbox, err)
	}
	if link, err := svcB.store.Resolve(t.Context(), tr); link != "" || err != nil {
		t.Errorf("a retried transcribe_created linked the transcription again: %q, %v", link, err)
	}
	pageA, pageB := metricsOf(svcA), metricsOf(svcB)
	if !strings.Contains(pageA, `switchboard_calls_routed_total{department="fallback",reason="error"} 1`) {
		t.Errorf("replica A does not count the failover once:\n%s", grepLines(pageA, "calls_routed"))
	}
	if n := strings.Count(pageA+pageB, "switchboard_calls_routed_total{"); n != 1 {
		t.Errorf("the call is counted in %d routes, want 1: the receptionist's words were decided on:\n%s\n%s",
			n, grepLines(pageA, "calls_routed"), grepLines(pageB, "calls_routed"))
	}
}

// TestLineKeptOrRetried: when the store finds the call but cannot write its
// inbox, transcript_created answers 5xx, so that VoIPBin sends it again;
// the retry, once the store writes again, keeps the line. Two refusals: an
// ACL user who may read the inbox keys but not write them, and a script
// error on the inbox write (the key holds a string).
func TestLineKeptOrRetried(t *testing.T) {
	redis := redistest.StartServer(t)
	if _, err := redis.Do("ACL", "SETUSER", "sb", "on", ">pw", "~*", "&*", "+@all"); err != nil {
		t.Fatal(err)
	}
	svc, srv := startService(t, Config{RedisURL: "redis://sb:pw@" + redis.Addr() + "/0"})
	svc.eventPatience = 200 * time.Millisecond
	for _, refusal := range []struct {
		name          string
		refuse, allow []string
	}{
		{"acl", []string{"ACL", "SETUSER", "sb", "resetkeys", "%R~*", "%W~sb:{*}:call", "%W~sb:{*}:seen", "%W~sb:{*}:drop", "%W~sb:{*}:voice", "%W~sb:{t:*}"},
			[]string{"ACL", "SETUSER", "sb", "resetkeys", "~*"}},
		{"script error", []string{"SET", "sb:{" + vid("call-script error") + "}:in", "not a list"},
			[]string{"DEL", "sb:{" + vid("call-script error") + "}:in"}},
	} {
		call, tr := vid("call-"+refusal.name), vid("tr-"+refusal.name)
		answer(t, srv.URL, call)
		if status, body := post(t, srv.URL+"/voipbin/events", transcribeCreated(tr, call)); status != http.StatusOK {
			t.Fatalf("%s: transcribe_created = %d %s", refusal.name, status, body)
		}
		if _, err := redis.Do(refusal.refuse...); err != nil {
			t.Fatal(err)
		}
		line := transcriptEvent("ts-"+refusal.name, tr, "my invoice shows a double charge")
		if status, body := post(t, srv.URL+"/voipbin/events", line); status < 500 {
			t.Errorf("%s: a line the store could not keep = %d %s, want 5xx for VoIPBin to retry", refusal.name, status, body)
		}
		if _, err := redis.Do(refusal.allow...); err != nil {
			t.Fatal(err)
		}
		if status, body := post(t, srv.URL+"/voipbin/events", line); status != http.StatusOK {
			t.Errorf("%s: VoIPBin's retry = %d %s, want 200", refusal.name, status, body)
		}
		if lines := heardLines(t, svc, call); len(lines) != 1 || lines[0] != "my invoice shows a double charge" {
			t.Errorf("%s: stored lines %q; want the caller's line, once", refusal.name, lines)
		}
	}
}

// TestRepliesRememberedByTime: VoIPBin retries an event within seconds, so a
// signed line sent again after 105 newer events is still known and not
// stored twice; a transcription's link lives as long as a live call, not a
// day.
func TestRepliesRememberedByTime(t *testing.T) {
	redis := redistest.StartServer(t)
	svc, srv := startService(t, Config{RedisURL: redis.URL(), Secret: "s3cret"})
	call, tr := vid("replay"), vid("tr-replay")
	send := func(ev string) {
		t.Helper()
		if status, body := post(t, srv.URL+"/voipbin/events", ev, "X-VoIPBIN-Signature", sign("s3cret", ev)); status != http.StatusOK {
			t.Fatalf("event = %d %s", status, body)
		}
	}
	answer(t, srv.URL, call)
	send(transcribeCreated(tr, call))
	first := transcriptEvent("ts-first", tr, "the first line")
	send(first)
	for i := range 105 {
		send(transcriptEvent(fmt.Sprint("ts-", i), tr, fmt.Sprint("line ", i)))
	}
	send(first)
	lines := heardLines(t, svc, call)
	// Stored again, the replay would be the newest line (the original has
	// long been pushed out of the call's turns by the 105 after it).
	if len(lines) == 0 || lines[len(lines)-1] == "the first line" {
		t.Errorf("a retried line after 105 newer events was stored again: %q", lines)
	}
	ttl, err := redis.Do("PTTL", "sb:{t:"+tr+"}")
	if ms, _ := strconv.Atoi(ttl); err != nil || ms <= 0 || time.Duration(ms)*time.Millisecond > store.DefaultExpiry.Call {
		t.Errorf("the link expires in %s ms (%v), want at most a live call's %v", ttl, err, store.DefaultExpiry.Call)
	}
}

// TestUnsignedEventsCannotRenewAnEndedCall: without a webhook secret, anyone
// who knows a call id can post transcribe_created for it; once the call has
// left us, that neither links anything nor keeps the call's keys alive.
func TestUnsignedEventsCannotRenewAnEndedCall(t *testing.T) {
	redis := redistest.StartServer(t)
	_, srv, _ := startWatched(t, Config{RedisURL: redis.URL()})
	transferCall(t, srv, vid("tr-renew"))
	before, err := redis.Do("DBSIZE")
	if err != nil {
		t.Fatal(err)
	}
	ttl := func() int {
		v, _ := redis.Do("PTTL", "sb:{"+vid("c1")+"}:call")
		ms, _ := strconv.Atoi(v)
		return ms
	}
	left := ttl()
	if left <= 0 || time.Duration(left)*time.Millisecond > store.DefaultExpiry.Ended {
		t.Fatalf("a transferred call expires in %d ms, want within %v", left, store.DefaultExpiry.Ended)
	}
	for i := range 50 {
		post(t, srv.URL+"/voipbin/events", transcribeCreated(vid(fmt.Sprint("tr-stranger-", i)), vid("c1")))
		post(t, srv.URL+"/voipbin/events", transcribeCreated(vid("tr-renew"), vid("c1")))
	}
	if after, _ := redis.Do("DBSIZE"); after != before {
		t.Errorf("Redis keys %s -> %s after unsigned transcribe_created for a call that left us", before, after)
	}
	if now := ttl(); now > left {
		t.Errorf("the call's expiry grew from %d to %d ms", left, now)
	}
}

// TestDecisionNeverHandedOutIsNoRoute: the caller's words are decided on
// (billing) when they arrive, but the fetch that would hand the transfer out
// finds Redis frozen and sends the caller to the fallback desk instead. The
// call left us for the fallback desk: it is stored so, and counted once, as
// that route, never as billing.
func TestDecisionNeverHandedOutIsNoRoute(t *testing.T) {
	redis := redistest.StartServer(t)
	svc, srv := startService(t, Config{RedisURL: redis.URL()})
	call, tr := vid("never-handed-out"), vid("tr-never-handed-out")
	answer(t, srv.URL, call)
	for _, ev := range []string{transcribeCreated(tr, call), transcriptEvent("ts-bill", tr, "my invoice shows a double charge")} {
		if status, body := post(t, srv.URL+"/voipbin/events", ev); status != http.StatusOK {
			t.Fatalf("event = %d %s", status, body)
		}
	}
	if c, _, err := svc.store.Load(t.Context(), call); err != nil || c.Ready == nil || c.Department != "billing" {
		t.Fatalf("the words were not decided on when they arrived: %s %q ready %v, %v", c.State, c.Department, c.Ready, err)
	}
	redis.Pause()
	status, body := post(t, srv.URL+"/voipbin/fetch", `{"activeflow_id":"`+vid("af-n")+`","reference_id":"`+call+`"}`)
	redis.Resume()
	if status != http.StatusOK || !strings.Contains(body, "+14155550199") {
		t.Fatalf("with Redis frozen the fetch = %d %s, want the fallback desk", status, body)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, _, err := svc.store.Load(t.Context(), call); err == nil && c.Left() && c.Reason == "error" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the failover was not stored once Redis came back")
		}
	}
	page := metricsOf(svc)
	if strings.Count(page, "switchboard_calls_routed_total{") != 1 || !strings.Contains(page, `switchboard_calls_routed_total{department="fallback",reason="error"} 1`) {
		t.Errorf("want the call counted once, to the fallback desk:\n%s", grepLines(page, "calls_routed"))
	}
}
