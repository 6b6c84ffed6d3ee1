package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/logs"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
	"github.com/switchboard/switchboard/store"
)

// lines parses the buffer's JSON log lines (syncBuffer is below).
func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		out = append(out, m)
	}
	return out
}

func (s *syncBuffer) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

// startLogged serves s with a JSON debug logger writing to the returned buffer.
func startLogged(t *testing.T, s Config) (*httptest.Server, *syncBuffer) {
	t.Helper()
	buf := &syncBuffer{}
	log, err := jsonLog(buf, "debug", s.LogTranscripts)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(context.Background(), s, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newServer(svc))
	t.Cleanup(func() { srv.Close(); svc.close() })
	return srv, buf
}

// TestRequestLogs follows one call through the logs: every line a fetch
// writes carries the request id and the call id, the last line sums the call
// up, and nothing the caller said or any phone number is in the logs.
func TestRequestLogs(t *testing.T) {
	srv, buf := startLogged(t, Config{FetchToken: testToken})
	buf.reset() // the start-up lines belong to no request
	_, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: "call-logs", Bases: []string{srv.URL}, Token: testToken},
		[]voipbintest.Step{{Say: "hmm", SpeakMS: 1000}, {Say: "I was charged twice on my invoice", SpeakMS: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	var turns, summaries int
	for _, l := range buf.lines(t) {
		if l["req"] == nil || l["req"] == "" {
			t.Errorf("line without request id: %v", l)
		}
		if l["msg"] == "turn" {
			turns++
		}
		// An interim result is taken unread, so nothing looks its call up.
		if l["call"] != vid("call-logs") && l["event"] != "transcribe_speech_interim" {
			t.Errorf("line without the call id: %v", l)
		}
		if l["msg"] == "call summary" {
			summaries++
			for k, want := range map[string]any{"route": "billing", "why": "local", "turns": 2.0, "state": "transferred"} {
				if l[k] != want {
					t.Errorf("summary %s = %v, want %v", k, l[k], want)
				}
			}
			for _, k := range []string{"confidence", "model_ms", "actions", "moves", "ms"} {
				if _, ok := l[k]; !ok {
					t.Errorf("summary lacks %s: %v", k, l)
				}
			}
		}
	}
	// A line for each decision: the greeting's, the clarifying question's
	// (made when the words arrived), and the transfer's, the call's summary.
	// The fetches that hand decisions out add none.
	if turns != 2 || summaries != 1 {
		t.Errorf("got %d turn lines and %d summaries, want 2 and 1", turns, summaries)
	}
	all := buf.String()
	for _, secret := range []string{"charged twice", "+14155550102"} {
		if strings.Contains(all, secret) {
			t.Errorf("logs show %q without --log-transcripts", secret)
		}
	}
}

// flakyStore is a memory store whose Ping fails while down is set.
type flakyStore struct {
	*store.Memory
	mu   sync.Mutex
	down bool
}

func (s *flakyStore) Ping(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errors.New("connection refused")
	}
	return nil
}

func TestReadinessLoggedOnChange(t *testing.T) {
	buf := &syncBuffer{}
	log, err := jsonLog(buf, "info", false)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(context.Background(), Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	st := &flakyStore{Memory: store.NewMemory(store.DefaultExpiry)}
	svc.store = st
	srv := httptest.NewServer(newServer(svc))
	defer srv.Close()
	probe := func(want int) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("readyz = %d, want %d", resp.StatusCode, want)
		}
	}
	probe(200)
	st.mu.Lock()
	st.down = true
	st.mu.Unlock()
	for range 5 {
		probe(503)
	}
	st.mu.Lock()
	st.down = false
	st.mu.Unlock()
	probe(200)
	probe(200)
	var got []string
	for _, l := range buf.lines(t) {
		if msg := l["msg"].(string); strings.Contains(msg, "ready") {
			got = append(got, msg)
		}
	}
	if want := []string{"not ready: store unreachable", "ready again: store reachable"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("readiness lines = %q, want %q", got, want)
	}
}

// TestModelAnswerRedacted: at debug level the model's raw answer is logged;
// one that repeats what the caller said is redacted like the caller's words.
func TestModelAnswerRedacted(t *testing.T) {
	model := newModelStandIn(t, []modelReply{{Content: "The caller says their pin is 4321 and wants billing"}})
	buf := &syncBuffer{}
	log, err := jsonLog(buf, "debug", false)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(context.Background(), Config{OpenAIKey: "test-key", OpenAIURL: model.URL() + "/v1"}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.close()
	srv := httptest.NewServer(newServer(svc))
	defer srv.Close()
	post(t, srv.URL+"/webhook/call-handler", `{"speech":{"results":[{"text":"something about my account and my pin"}]}}`)
	out := buf.String()
	if !strings.Contains(out, `"answer":"(`) {
		t.Fatalf("no redacted model answer logged:\n%s", out)
	}
	if strings.Contains(out, "pin is 4321") {
		t.Errorf("the model's answer, with the caller's words, reached the log:\n%s", out)
	}
}

// TestSummaryAfterCorrection: a correction that decides the call again
// writes its summary again, and the last one (which harvest keeps) names
// where the caller went.
func TestSummaryAfterCorrection(t *testing.T) {
	logs := &syncBuffer{}
	svc, err := New(t.Context(), Config{FetchToken: testToken}, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newServer(svc))
	t.Cleanup(func() { srv.Close(); svc.close() })
	conv := loadConversation(t, "../../../../testdata/conversations/voipbin-correction-refund.json")
	if _, err := voipbintest.Run(t.Context(), voipbintest.Options{CallID: "sc", Bases: []string{srv.URL}, Token: testToken}, conv.Steps); err != nil {
		t.Fatal(err)
	}
	var last map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var l map[string]any
		if json.Unmarshal([]byte(line), &l) == nil && l["msg"] == "call summary" {
			last = l
		}
	}
	if last == nil || last["route"] != "billing" {
		t.Errorf("last call summary %v; want route billing", last)
	}
}

// TestRequestIDClipped: the caller's X-Request-Id is on every line its
// request logs, so it is kept short and printable: a 100 KB one with a tab
// is logged as its first 128 bytes, without the tab.
func TestRequestIDClipped(t *testing.T) {
	srv, buf := startLogged(t, Config{})
	buf.reset()
	id := "abc\tdef" + strings.Repeat("x", 100<<10)
	if status, body := post(t, srv.URL+"/voipbin/fetch", `{"activeflow_id":"`+vid("af")+`","reference_id":"`+vid("call-rid")+`"}`, "X-Request-Id", id); status != http.StatusOK {
		t.Fatalf("fetch = %d %s", status, body)
	}
	want := "abcdef" + strings.Repeat("x", maxRequestID-6)
	lines := buf.lines(t)
	if len(lines) == 0 {
		t.Fatal("no log lines")
	}
	for _, l := range lines {
		if l["req"] != want {
			t.Errorf("req = %.60q... (%d bytes), want the first %d printable bytes", l["req"], len(fmt.Sprint(l["req"])), maxRequestID)
		}
	}
}

// TestNoCallerWordsInLogs runs calls through serve's own logger at debug,
// without --log-transcripts: an audited hybrid call whose caller keys in a
// date of birth and reads out a card number, a call to on-call, one the
// model answers with a sentence that repeats the caller, and one through the
// keypad menu. No line may carry a word the callers said or a digit run they
// keyed, whatever its key.
func TestNoCallerWordsInLogs(t *testing.T) {
	model := newModelStandIn(t, []modelReply{
		{Content: "billing", TopLogprobs: map[string]float64{"billing": 0.92, "sales": 0.05}},
		{Content: "the caller mentions a refrigerator warranty so sales"},
	})
	buf := &syncBuffer{}
	start := func(s Config) string {
		s.OpenAIKey, s.OpenAIURL = "k", model.URL()+"/v1"
		log, err := jsonLog(buf, "debug", s.LogTranscripts)
		if err != nil {
			t.Fatal(err)
		}
		svc, err := New(context.Background(), s, log)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(newServer(svc))
		t.Cleanup(func() { srv.Close(); svc.close() })
		return srv.URL
	}
	hybrid, plain := start(Config{ConfigFile: "../../../../testdata/modes/hybrid.json"}), start(Config{})
	for _, c := range []struct {
		base  string
		steps []voipbintest.Step
	}{
		{hybrid, []voipbintest.Step{{Press: "01011980#"}, {Say: "I was charged twice on my card 4111 1111 1111 1234 for the same invoice"}}},
		{plain, []voipbintest.Step{{Say: "hmm"}, {Say: "our production site is down"}}},
		{plain, []voipbintest.Step{{Say: "I have a question about my refrigerator warranty"}}},
		{plain, []voipbintest.Step{{Say: "hmm"}, {Say: "well"}, {Say: "erm"}, {Press: "9"}}},
	} {
		if _, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: "words-" + c.steps[len(c.steps)-1].Say, Bases: []string{c.base}}, c.steps); err != nil {
			t.Fatal(err)
		}
	}
	lines := buf.lines(t)
	audits := 0
	for _, l := range lines {
		if l["msg"] == "audit" {
			audits++
		}
		for _, k := range []string{"time", "req", "call", "id", "transcribe"} { // random or made-up ids
			delete(l, k)
		}
		b, _ := json.Marshal(l)
		// Loopback addresses hold digit runs (ports) of their own.
		line := loopbackAddr.ReplaceAllString(strings.ToLower(string(b)), "")
		for _, w := range []string{"charged", "invoice", "4111", "1234", "1980", "0101", "production", "refrigerator", "warranty", "hmm", "erm"} {
			if strings.Contains(line, w) {
				t.Errorf("a log line carries %q without --log-transcripts: %s", w, b)
			}
		}
	}
	if audits != 1 || len(lines) < 20 {
		t.Errorf("%d log lines, %d audit lines: the calls did not run as planned", len(lines), audits)
	}
}

// syncBuffer is a bytes.Buffer safe to read while the log writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// jsonLog is the service's logger as serve builds it with --log-format json.
func jsonLog(w io.Writer, level string, transcripts bool) (*slog.Logger, error) {
	l, err := logs.ParseLevel(level)
	if err != nil {
		return nil, err
	}
	return logs.New(w, logs.Options{Level: l, Format: "json", Transcripts: transcripts})
}

// loopbackAddr matches a loopback address with its port: a port is no
// caller's word.
var loopbackAddr = regexp.MustCompile(`127\.0\.0\.1:\d+|localhost:\d+`)
