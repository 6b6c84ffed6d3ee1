package service

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

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store/redistest"
)

// TestBodyLimit: every POST route answers a body over 64 KB with 413 and a
// JSON error, but the fetch, which answers reception (VoIPBin hangs up on
// anything but actions); one just under it is read as usual.
func TestBodyLimit(t *testing.T) {
	srv := startServer(t, Config{})
	big := strings.Repeat("x", maxBody)
	for _, path := range []string{"/voipbin/fetch", "/voipbin/events", "/webhook/call-handler"} {
		t.Run(path, func(t *testing.T) {
			got, body := post(t, srv.URL+path, `{"reference_id":"`+big+`"}`)
			if path == "/voipbin/fetch" {
				if got != http.StatusOK || !strings.Contains(body, `"target":"+14155550199"`) {
					t.Errorf("status = %d, want 200 and reception (%.200s)", got, body)
				}
				return
			}
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
// refused (400), not silently dropped, on every POST route; a fetch, which
// must answer actions, answers reception and steps neither call.
func TestOneJSONValue(t *testing.T) {
	svc, srv := startService(t, Config{})
	for path, body := range map[string]string{
		"/voipbin/events":       `{"type":"call_hangup","data":{"id":"` + vid("call-two") + `"}} {"type":"call_hangup","data":{"id":"` + vid("call-other") + `"}}`,
		"/webhook/call-handler": `{"speech":{"results":[{"text":"billing"}]}} {"speech":{}}`,
	} {
		if got, answer := post(t, srv.URL+path, body); got != http.StatusBadRequest {
			t.Errorf("%s with two JSON values: %d %.200s, want 400", path, got, answer)
		}
	}
	body := `{"activeflow_id":"` + vid("af") + `","reference_id":"` + vid("call-two") + `"} {"reference_id":"` + vid("call-other") + `"}`
	if got, answer := post(t, srv.URL+"/voipbin/fetch", body); got != http.StatusOK || !strings.Contains(answer, `"target":"+14155550199"`) {
		t.Errorf("/voipbin/fetch with two JSON values: %d %.200s, want 200 and reception", got, answer)
	}
	for _, id := range []string{vid("call-two"), vid("call-other")} {
		if c, _, err := svc.store.Load(t.Context(), id); err != nil || c.Version != 0 {
			t.Errorf("call %s stepped by a fetch of two JSON values: version %d, err %v", id, c.Version, err)
		}
	}
}

// TestNotUTF8: the seed's webhook refuses bytes that are not UTF-8 (400); an
// event carrying them is taken (200, so VoIPBin does not retry it in vain)
// and stores nothing.
func TestNotUTF8(t *testing.T) {
	svc, srv := startService(t, Config{})
	got, body := post(t, srv.URL+"/webhook/call-handler", "{\"speech\":{\"results\":[{\"text\":\"my invoice \xff\xfe is wrong\"}]}}")
	if got != http.StatusBadRequest || !strings.Contains(body, "UTF-8") {
		t.Errorf("seed webhook with broken bytes: %d %s, want 400 naming UTF-8", got, body)
	}

	link := `{"type":"transcribe_created","data":{"id":"` + vid("tr-u") + `","reference_type":"call","reference_id":"` + vid("call-u") + `"}}`
	if got, body := post(t, srv.URL+"/voipbin/events", link); got != http.StatusOK {
		t.Fatalf("transcribe_created = %d %s", got, body)
	}
	broken := "{\"type\":\"transcript_created\",\"data\":{\"id\":\"" + vid("ts-u") + "\",\"transcribe_id\":\"" + vid("tr-u") + "\",\"direction\":\"in\",\"message\":\"bill\xc3\x28ing\"}}"
	got, body = post(t, srv.URL+"/voipbin/events", broken)
	if got != http.StatusOK || !strings.Contains(body, "ignored") {
		t.Errorf("event with broken bytes: %d %s, want 200 ignored", got, body)
	}
	if _, inbox, err := svc.store.Load(t.Context(), vid("call-u")); err != nil || len(inbox) != 0 {
		t.Errorf("inbox after an ignored event = %v, %v; want empty", inbox, err)
	}
}

// TestTranscriptClippedWhenStored: a transcript of any length is stored as at
// most flow.MaxTurnChars characters, whole characters only.
func TestTranscriptClippedWhenStored(t *testing.T) {
	svc, srv := startService(t, Config{})
	answer(t, srv.URL, vid("call-c"))
	post(t, srv.URL+"/voipbin/events", `{"type":"transcribe_created","data":{"id":"`+vid("tr-c")+`","reference_type":"call","reference_id":"`+vid("call-c")+`"}}`)
	long := strings.Repeat("é", 3000) // 6000 bytes
	got, body := post(t, srv.URL+"/voipbin/events",
		`{"type":"transcript_created","data":{"id":"`+vid("ts-c")+`","transcribe_id":"`+vid("tr-c")+`","direction":"in","message":"`+long+`"}}`)
	if got != http.StatusOK {
		t.Fatalf("transcript = %d %s", got, body)
	}
	lines := heardLines(t, svc, vid("call-c"))
	if len(lines) != 1 {
		t.Fatalf("stored lines = %v; want one", lines)
	}
	if n := utf8.RuneCountInString(lines[0]); n != flow.MaxTurnChars || !utf8.ValidString(lines[0]) {
		t.Errorf("stored %d characters (valid UTF-8: %v), want %d", n, utf8.ValidString(lines[0]), flow.MaxTurnChars)
	}
}

// TestInboxFlood: a flood of transcripts for one call keeps its inbox at
// flow.MaxInbox lines, the newest, and the service counts what it dropped.
func TestInboxFlood(t *testing.T) {
	// A keypad tree's call does not wait for words, so none is taken from
	// its inbox when it arrives.
	svc, srv := startService(t, Config{ConfigFile: "../../../../testdata/modes/keypad.json"})
	answer(t, srv.URL, vid("call-f"))
	post(t, srv.URL+"/voipbin/events", `{"type":"transcribe_created","data":{"id":"`+vid("tr-f")+`","reference_type":"call","reference_id":"`+vid("call-f")+`"}}`)
	const n = flow.MaxInbox + 15
	for i := range n {
		ev := fmt.Sprintf(`{"type":"transcript_created","data":{"id":"%s","transcribe_id":"`+vid("tr-f")+`","direction":"in","message":"line %d"}}`, vid(fmt.Sprint("ts-", i)), i)
		if got, body := post(t, srv.URL+"/voipbin/events", ev); got != http.StatusOK {
			t.Fatalf("transcript %d = %d %s", i, got, body)
		}
	}
	c, inbox, err := svc.store.Load(t.Context(), vid("call-f"))
	if err != nil || len(inbox) != flow.MaxInbox || inbox[0].Text != fmt.Sprintf("line %d", n-flow.MaxInbox) {
		t.Errorf("inbox = %v, %v; want the newest %d lines", inbox, err, flow.MaxInbox)
	}
	if got, want := svc.events.Dropped(), int64(n-flow.MaxInbox-len(c.Turns)); got != want {
		t.Errorf("service counted %d dropped, want %d (%d lines in the call's turns)", got, want, len(c.Turns))
	}
	if want := fmt.Sprintf(`switchboard_inbox_drops_total{reason="inbox_full"} %d`, n-flow.MaxInbox-len(c.Turns)); !strings.Contains(scrape(t, srv.URL), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}

// TestServerTimeouts: the HTTP server bounds every phase of a connection, so
// a slow or idle client cannot hold one for ever.
func TestServerTimeouts(t *testing.T) {
	srv := NewHTTPServer(http.NotFoundHandler())
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
	srv := NewHTTPServer(http.NotFoundHandler())
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

// TestInputBounds: every id and text an event or a seed request would make
// us store is bounded and is text (a fetch's: TestFetchInput). VoIPBin's ids
// are UUIDs; JSON escapes that decode to a NUL, a control character or (a
// lone surrogate) U+FFFD are refused with a 400 that names the field, and
// nothing is stored.
func TestInputBounds(t *testing.T) {
	svc, srv := startService(t, Config{})
	call, tr := uuid.NewString(), uuid.NewString()
	answer(t, srv.URL, call)
	if s, body := post(t, srv.URL+"/voipbin/events", `{"type":"transcribe_created","data":{"id":"`+tr+`","reference_type":"call","reference_id":"`+call+`"}}`); s != http.StatusOK {
		t.Fatalf("transcribe_created = %d %s", s, body)
	}
	long := strings.Repeat("a", 60<<10)
	transcript := func(msg string) string {
		return `{"type":"transcript_created","data":{"id":"` + uuid.NewString() + `","transcribe_id":"` + tr + `","direction":"in","message":"` + msg + `"}}`
	}
	seed := func(callID, text string) string {
		return `{"call_id":"` + callID + `","speech":{"results":[{"text":"` + text + `"}]}}`
	}
	tests := []struct {
		name, path, body string
		want             int
		field            string // the problem names it
	}{
		{"event: a 60 KB transcribe id", "/voipbin/events", `{"type":"transcribe_created","data":{"id":"` + long + `","reference_type":"call","reference_id":"` + call + `"}}`, 400, "data.id"},
		{"event: a call id that is no UUID, no reference type", "/voipbin/events", `{"type":"transcribe_created","data":{"id":"` + uuid.NewString() + `","reference_id":"c1"}}`, 400, "data.reference_id"},
		{"event: a conference's transcription, taken and ignored", "/voipbin/events", `{"type":"transcribe_created","data":{"id":"` + uuid.NewString() + `","reference_type":"conference","reference_id":"conf-1"}}`, 200, ""},
		{"event: a conference's transcription without its id", "/voipbin/events", `{"type":"transcribe_created","data":{"id":"` + uuid.NewString() + `","reference_type":"conference"}}`, 400, "data.reference_id"},
		{"event: a call id that is no UUID", "/voipbin/events", `{"type":"transcribe_created","data":{"id":"` + uuid.NewString() + `","reference_type":"call","reference_id":"c1"}}`, 400, "data.reference_id"},
		{"event: a language that is no tag", "/voipbin/events", `{"type":"transcribe_created","data":{"id":"` + uuid.NewString() + `","reference_type":"call","reference_id":"` + call + `","language":"` + long[:40] + `"}}`, 400, "data.language"},
		{"event: a hangup of no UUID", "/voipbin/events", `{"type":"call_hangup","data":{"id":"` + long + `"}}`, 400, "data.id"},
		{"event: words from a transcribe id of 60 KB", "/voipbin/events", `{"type":"transcript_created","data":{"id":"` + uuid.NewString() + `","transcribe_id":"` + long + `","direction":"in","message":"hi"}}`, 400, "data.transcribe_id"},
		{"event: words with an id that is no UUID", "/voipbin/events", `{"type":"transcript_created","data":{"id":"ts-1","transcribe_id":"` + tr + `","direction":"in","message":"hi"}}`, 400, "data.id"},
		{"event: an escaped NUL", "/voipbin/events", transcript(`my bill\u0000`), 400, "data.message"},
		{"event: a lone surrogate", "/voipbin/events", transcript(`my bill \ud800`), 400, "data.message"},
		{"event: a C1 control", "/voipbin/events", transcript(`my bill \u0085`), 400, "data.message"},
		{"event: a bell", "/voipbin/events", transcript(`my bill \u0007`), 400, "data.message"},
		{"event: a tab and a line break are spacing", "/voipbin/events", transcript(`my bill\tis\nwrong`), 200, ""},
		{"seed: a call id of 129 bytes", "/webhook/call-handler", seed(strings.Repeat("x", 129), "billing please"), 400, "call_id"},
		{"seed: a call id of 128 bytes", "/webhook/call-handler", seed(strings.Repeat("x", 128), "billing please"), 200, ""},
		{"seed: a NUL in the call id", "/webhook/call-handler", seed(`c\u00001`, "billing please"), 400, "call_id"},
		{"seed: a line break in the call id", "/webhook/call-handler", seed(`c\n1`, "billing please"), 400, "call_id"},
		{"seed: a NUL in the words", "/webhook/call-handler", seed("c2", `billing\u0000 please`), 400, "speech.results[0].text"},
		{"seed: a lone surrogate in the words", "/webhook/call-handler", seed("c3", `billing \udfff please`), 400, "speech.results[0].text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, body := post(t, srv.URL+tt.path, tt.body)
			if got != tt.want {
				t.Fatalf("status = %d, want %d (%s)", got, tt.want, body)
			}
			if tt.field == "" {
				return
			}
			var p problem
			if err := json.Unmarshal([]byte(body), &p); err != nil || len(p.Problems) == 0 || !strings.HasPrefix(p.Problems[0], tt.field+":") {
				t.Errorf("problems %v, want one about %s", p.Problems, tt.field)
			}
			if len(body) > 1000 {
				t.Errorf("the refusal echoes the input back: %d bytes", len(body))
			}
		})
	}
	if lines := heardLines(t, svc, call); len(lines) != 1 || lines[0] != "my bill\tis\nwrong" {
		t.Errorf("stored lines = %q; want only the line with spacing", lines)
	}
}

// heardLines is what the store holds of a call's caller lines: those its
// turns took (a decision on them was made when they arrived) and those still
// unread in its inbox.
func heardLines(t *testing.T, svc *Service, callID string) []string {
	t.Helper()
	c, inbox, err := svc.store.Load(t.Context(), callID)
	if err != nil {
		t.Fatal(err)
	}
	lines := append([]string(nil), c.Turns...)
	for _, in := range inbox {
		if in.Text != "" {
			lines = append(lines, in.Text)
		}
	}
	return lines
}

// answer plays a call's first fetch, as VoIPBin does before it transcribes
// the call: without a webhook secret, events are taken only for such calls.
func answer(t *testing.T, base, callID string) {
	t.Helper()
	if s, body := post(t, base+"/voipbin/fetch", `{"activeflow_id":"`+uuid.NewString()+`","reference_id":"`+callID+`"}`); s != http.StatusOK {
		t.Fatalf("first fetch of %s = %d %s", callID, s, body)
	}
}

// TestUnsignedEventsBounded: with no webhook secret anyone can post events.
// They may touch only calls this service answered: 300 transcribe_created
// and call_hangup for calls of a stranger's choosing are taken and ignored,
// and Redis holds no key more; an answered call's events are taken as
// usual. With a secret, a signed event for a call not yet answered is taken
// (a customer's own flow may transcribe before it fetches us).
func TestUnsignedEventsBounded(t *testing.T) {
	url := redistest.StartServer(t).URL()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	srv := startServer(t, Config{RedisURL: url})
	before := rdb.DBSize(t.Context()).Val()
	for range 300 {
		for _, ev := range []string{
			`{"type":"transcribe_created","data":{"id":"` + uuid.NewString() + `","reference_type":"call","reference_id":"` + uuid.NewString() + `","language":"en-US"}}`,
			`{"type":"call_hangup","data":{"id":"` + uuid.NewString() + `"}}`,
		} {
			if s, body := post(t, srv.URL+"/voipbin/events", ev); s != http.StatusOK || !strings.Contains(body, "ignored") {
				t.Fatalf("unsigned event for an unknown call = %d %s, want 200 ignored", s, body)
			}
		}
	}
	if after := rdb.DBSize(t.Context()).Val(); after != before {
		t.Errorf("Redis keys %d -> %d after 600 unsigned events for unknown calls, want none more", before, after)
	}
	call, tr := uuid.NewString(), uuid.NewString()
	answer(t, srv.URL, call)
	if s, body := post(t, srv.URL+"/voipbin/events", `{"type":"transcribe_created","data":{"id":"`+tr+`","reference_type":"call","reference_id":"`+call+`"}}`); s != http.StatusOK || strings.Contains(body, "ignored") {
		t.Errorf("unsigned transcribe_created for an answered call = %d %s, want it taken", s, body)
	}

	signed := startServer(t, Config{RedisURL: url, Secret: "s3cret"})
	ev := `{"type":"transcribe_created","data":{"id":"` + uuid.NewString() + `","reference_type":"call","reference_id":"` + uuid.NewString() + `"}}`
	if s, body := post(t, signed.URL+"/voipbin/events", ev, "X-VoIPBIN-Signature", sign("s3cret", ev)); s != http.StatusOK || strings.Contains(body, "ignored") {
		t.Errorf("signed transcribe_created for a call not yet answered = %d %s, want it taken", s, body)
	}
}
