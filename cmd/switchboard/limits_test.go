package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboard/switchboard/flow"
)

// TestBodyLimit: every POST route answers a body over 64 KB with 413 and a
// JSON error, and one just under it is read as usual.
func TestBodyLimit(t *testing.T) {
	srv := startServer(t, settings{})
	big := strings.Repeat("x", maxBody)
	for _, path := range []string{"/voipbin/fetch", "/voipbin/events", "/webhook/call-handler"} {
		t.Run(path, func(t *testing.T) {
			got, body := post(t, srv.URL+path, `{"reference_id":"`+big+`"}`)
			if got != http.StatusRequestEntityTooLarge {
				t.Fatalf("status = %d, want 413 (%.200s)", got, body)
			}
			var p problem
			if err := json.Unmarshal([]byte(body), &p); err != nil || p.Error == "" {
				t.Errorf("a 413 must say why as JSON, got %.200s", body)
			}
			if got, _ := post(t, srv.URL+path, `{"reference_id":"`+big[:maxBody-100]+`"}`); got == http.StatusRequestEntityTooLarge {
				t.Errorf("a body under the limit was refused as too large")
			}
		})
	}
}

// TestOneJSONValue: a body is one JSON value; a second one after it is
// refused (400), not silently dropped, on every POST route.
func TestOneJSONValue(t *testing.T) {
	srv := startServer(t, settings{})
	for path, body := range map[string]string{
		"/voipbin/fetch":        `{"activeflow_id":"af","reference_id":"call-two"} {"reference_id":"call-other"}`,
		"/voipbin/events":       `{"type":"call_hangup","data":{"id":"call-two"}} {"type":"call_hangup","data":{"id":"call-other"}}`,
		"/webhook/call-handler": `{"speech":{"results":[{"text":"billing"}]}} {"speech":{}}`,
	} {
		if got, answer := post(t, srv.URL+path, body); got != http.StatusBadRequest {
			t.Errorf("%s with two JSON values: %d %.200s, want 400", path, got, answer)
		}
	}
}

// TestNotUTF8: the seed's webhook refuses bytes that are not UTF-8 (400); an
// event carrying them is taken (200, so VoIPBin does not retry it in vain)
// and stores nothing.
func TestNotUTF8(t *testing.T) {
	svc, srv := startService(t, settings{})
	got, body := post(t, srv.URL+"/webhook/call-handler", "{\"speech\":{\"results\":[{\"text\":\"my invoice \xff\xfe is wrong\"}]}}")
	if got != http.StatusBadRequest || !strings.Contains(body, "UTF-8") {
		t.Errorf("seed webhook with broken bytes: %d %s, want 400 naming UTF-8", got, body)
	}

	link := `{"type":"transcribe_created","data":{"id":"tr-u","reference_type":"call","reference_id":"call-u"}}`
	if got, body := post(t, srv.URL+"/voipbin/events", link); got != http.StatusOK {
		t.Fatalf("transcribe_created = %d %s", got, body)
	}
	broken := "{\"type\":\"transcript_created\",\"data\":{\"id\":\"ts-u\",\"transcribe_id\":\"tr-u\",\"direction\":\"in\",\"message\":\"bill\xc3\x28ing\"}}"
	got, body = post(t, srv.URL+"/voipbin/events", broken)
	if got != http.StatusOK || !strings.Contains(body, "ignored") {
		t.Errorf("event with broken bytes: %d %s, want 200 ignored", got, body)
	}
	if _, inbox, err := svc.store.Load(t.Context(), "call-u"); err != nil || len(inbox) != 0 {
		t.Errorf("inbox after an ignored event = %v, %v; want empty", inbox, err)
	}
}

// TestTranscriptClippedWhenStored: a transcript of any length is stored as at
// most flow.MaxTurnChars characters, whole characters only.
func TestTranscriptClippedWhenStored(t *testing.T) {
	svc, srv := startService(t, settings{})
	post(t, srv.URL+"/voipbin/events", `{"type":"transcribe_created","data":{"id":"tr-c","reference_type":"call","reference_id":"call-c"}}`)
	long := strings.Repeat("é", 3000) // 6000 bytes
	got, body := post(t, srv.URL+"/voipbin/events",
		`{"type":"transcript_created","data":{"id":"ts-c","transcribe_id":"tr-c","direction":"in","message":"`+long+`"}}`)
	if got != http.StatusOK {
		t.Fatalf("transcript = %d %s", got, body)
	}
	_, inbox, err := svc.store.Load(t.Context(), "call-c")
	if err != nil || len(inbox) != 1 {
		t.Fatalf("inbox = %v, %v; want one input", inbox, err)
	}
	if n := utf8.RuneCountInString(inbox[0].Text); n != flow.MaxTurnChars || !utf8.ValidString(inbox[0].Text) {
		t.Errorf("stored %d characters (valid UTF-8: %v), want %d", n, utf8.ValidString(inbox[0].Text), flow.MaxTurnChars)
	}
}

// TestInboxFlood: a flood of transcripts for one call keeps its inbox at
// flow.MaxInbox lines, the newest, and the service counts what it dropped.
func TestInboxFlood(t *testing.T) {
	svc, srv := startService(t, settings{})
	post(t, srv.URL+"/voipbin/events", `{"type":"transcribe_created","data":{"id":"tr-f","reference_type":"call","reference_id":"call-f"}}`)
	const n = flow.MaxInbox + 15
	for i := range n {
		ev := fmt.Sprintf(`{"type":"transcript_created","data":{"id":"ts-%d","transcribe_id":"tr-f","direction":"in","message":"line %d"}}`, i, i)
		if got, body := post(t, srv.URL+"/voipbin/events", ev); got != http.StatusOK {
			t.Fatalf("transcript %d = %d %s", i, got, body)
		}
	}
	_, inbox, err := svc.store.Load(t.Context(), "call-f")
	if err != nil || len(inbox) != flow.MaxInbox || inbox[0].Text != fmt.Sprintf("line %d", n-flow.MaxInbox) {
		t.Errorf("inbox = %v, %v; want the newest %d lines", inbox, err, flow.MaxInbox)
	}
	if got := svc.events.Dropped(); got != n-flow.MaxInbox {
		t.Errorf("service counted %d dropped, want %d", got, n-flow.MaxInbox)
	}
}

// TestServerTimeouts: the HTTP server bounds every phase of a connection, so
// a slow or idle client cannot hold one for ever.
func TestServerTimeouts(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler())
	for name, d := range map[string]int64{
		"ReadHeaderTimeout": int64(srv.ReadHeaderTimeout), "ReadTimeout": int64(srv.ReadTimeout),
		"WriteTimeout": int64(srv.WriteTimeout), "IdleTimeout": int64(srv.IdleTimeout),
	} {
		if d <= 0 {
			t.Errorf("%s is not set", name)
		}
	}
	// An event may take eventPatience to reach the store, and must still be answered.
	if srv.WriteTimeout <= eventPatience {
		t.Errorf("WriteTimeout %v would cut off an event riding out a Redis restart (%v)", srv.WriteTimeout, eventPatience)
	}
}

// TestSlowClientDropped: a client that sends its headers a byte at a time,
// never finishing, has its connection closed by the server.
func TestSlowClientDropped(t *testing.T) {
	t.Parallel()
	srv := newHTTPServer(http.NotFoundHandler())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /voipbin/events HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	// Generous: the server's limit is ReadHeaderTimeout; this only catches none.
	_ = conn.SetReadDeadline(time.Now().Add(3 * srv.ReadHeaderTimeout))
	_, err = io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server kept a connection with unfinished headers open for %v", 3*srv.ReadHeaderTimeout)
	}
}
