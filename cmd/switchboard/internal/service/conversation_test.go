package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// conversation is one scripted call in testdata/conversations.
type conversation struct {
	About    string `json:"about"`
	Endpoint string `json:"endpoint"` // "voipbin" (default) or "webhook"
	// Config names a routing config under testdata/; empty is the example.
	Config string `json:"config,omitempty"`
	// Model, when present, turns the model on; each entry answers one model call.
	Model           []modelReply       `json:"model,omitempty"`
	Steps           []voipbintest.Step `json:"steps,omitempty"`    // voipbin
	Requests        []json.RawMessage  `json:"requests,omitempty"` // webhook bodies, sent as they are
	DuplicateEvents bool               `json:"duplicate_events,omitempty"`
	Language        string             `json:"language,omitempty"` // the number's language, ?lang=
	// Dialled is the number called (the simulator's default when empty); Owned
	// the account's other numbers, accepted by VoIPBin as caller ID.
	Dialled string   `json:"dialled,omitempty"`
	Owned   []string `json:"owned,omitempty"`
	// Unanswered are transfer targets that are busy or do not answer.
	Unanswered []string `json:"unanswered,omitempty"`
	// Flow names the number's own VoIPBin flow under testdata/ (a JSON array
	// of actions, YOUR_TOKEN standing for the fetch token); empty is the
	// provisioned [answer, fetch].
	Flow string `json:"flow,omitempty"`
	// Audit adds the service's audit log lines to the transcript.
	Audit bool `json:"audit,omitempty"`
	// OneProcess says why the call depends on what one process keeps for
	// itself (the model's recent latency, which each replica measures on
	// its own traffic): TestReplicasShareRedis, which spreads a call over
	// three fresh processes, leaves it out.
	OneProcess string `json:"one_process,omitempty"`
	// At is the moment the call starts, for opening hours (serve --at).
	At string `json:"at,omitempty"`
	// Expect is the caller's outcome, checked on every run (expect_test.go).
	Expect *expectation `json:"expect"`
}

const testToken = "test-token"

// hangsUp reports whether the scripted caller hangs up: every other caller
// must reach a human.
func (conv conversation) hangsUp() bool {
	if len(conv.Unanswered) > 0 {
		return true // after the ringing
	}
	for _, s := range conv.Steps {
		if s.Hangup {
			return true
		}
	}
	return false
}

func TestConversations(t *testing.T) {
	files, err := filepath.Glob("../../../../testdata/conversations/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no conversations found: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			conv := loadConversation(t, file)
			got := play(t, name, conv)
			checkExpect(t, name, conv, got) // -update never rewrites an expectation
			if *update {
				if err := os.WriteFile(goldenFile(file), []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if diff := cmp.Diff(readGolden(t, file), got); diff != "" {
				t.Errorf("%s transcript differs from its golden file (-want +got):\n%s", name, diff)
			}
		})
	}
}

func loadConversation(t *testing.T, file string) conversation {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	conv, err := parseConversation(b)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return conv
}

// parseConversation reads a conversation file strictly: a misspelt field or
// a call with nothing in it would otherwise play an empty call, and -update
// would write its empty transcript down as the truth.
func parseConversation(b []byte) (conversation, error) {
	var conv conversation
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&conv); err != nil {
		return conv, err
	}
	if dec.More() {
		return conv, errors.New("trailing data after the conversation")
	}
	if conv.About == "" {
		return conv, errors.New(`"about": missing; say what the conversation shows`)
	}
	switch conv.Endpoint {
	case "", "voipbin":
		if len(conv.Steps) == 0 {
			return conv, errors.New(`"steps": none; a VoIPBin conversation needs at least one`)
		}
		if len(conv.Requests) > 0 {
			return conv, errors.New(`"requests" are for the webhook endpoint`)
		}
		for i, st := range conv.Steps {
			if st == (voipbintest.Step{}) {
				return conv, fmt.Errorf("steps[%d]: empty; say, press, silent or hangup", i)
			}
			if st.AfterMS > 0 && (st.Say == "" || i == 0 || conv.Steps[i-1].Say == "") {
				return conv, fmt.Errorf("steps[%d]: after_ms goes on from the line said just before: a say after a say", i)
			}
		}
	case "webhook":
		if len(conv.Requests) == 0 {
			return conv, errors.New(`"requests": none; a webhook conversation needs at least one`)
		}
		if len(conv.Steps) > 0 {
			return conv, errors.New(`"steps" are for the voipbin endpoint`)
		}
	default:
		return conv, fmt.Errorf("endpoint %q: want voipbin or webhook", conv.Endpoint)
	}
	if conv.Expect == nil {
		return conv, errNoExpectation
	}
	if p := conv.Expect.problem(); p != "" {
		return conv, errors.New(p)
	}
	return conv, nil
}

func TestConversationFilesAreStrict(t *testing.T) {
	for _, tt := range []struct{ name, file, want string }{
		{"misspelt field", `{"about":"x","stpes":[{"say":"hi"}]}`, "stpes"},
		{"misspelt step field", `{"about":"x","steps":[{"sya":"hi"}]}`, "sya"},
		{"misspelt model field", `{"about":"x","model":[{"contnet":"sales"}],"steps":[{"say":"hi"}]}`, "contnet"},
		{"no steps", `{"about":"x"}`, "steps"},
		{"empty steps", `{"about":"x","steps":[]}`, "steps"},
		{"empty step", `{"about":"x","steps":[{"say":"hi"},{}]}`, "steps[1]"},
		{"webhook without requests", `{"about":"x","endpoint":"webhook"}`, "requests"},
		{"unknown endpoint", `{"about":"x","endpoint":"sip","steps":[{"say":"hi"}]}`, "sip"},
		{"no about", `{"steps":[{"say":"hi"}]}`, "about"},
		{"two values", `{"about":"x","steps":[{"say":"hi"}],"expect":{"reaches":""}}{}`, "trailing"},
		{"after_ms first", `{"about":"x","steps":[{"say":"hi","after_ms":500}],"expect":{"reaches":""}}`, "steps[0]: after_ms"},
		{"after_ms after a key", `{"about":"x","steps":[{"press":"1"},{"say":"hi","after_ms":500}],"expect":{"reaches":""}}`, "steps[1]: after_ms"},
		{"no expectation", `{"about":"x","steps":[{"say":"hi"}]}`, "expect"},
		{"expectation without reaches", `{"about":"x","steps":[{"say":"hi"}],"expect":{"hears":["Sales"]}}`, "reaches"},
		{"misspelt expectation field", `{"about":"x","steps":[{"say":"hi"}],"expect":{"reaches":"","heras":["x"]}}`, "heras"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseConversation([]byte(tt.file)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseConversation(%s) = %v, want an error naming %q", tt.file, err, tt.want)
			}
		})
	}
	if _, err := parseConversation([]byte(`{"about":"x","steps":[{"say":"hi"},{"silent":true}],"expect":{"reaches":""}}`)); err != nil {
		t.Errorf("a valid conversation: %v", err)
	}
}

func goldenFile(conversationFile string) string {
	return strings.TrimSuffix(conversationFile, ".json") + ".golden"
}

func readGolden(t *testing.T, conversationFile string) string {
	t.Helper()
	want, err := os.ReadFile(goldenFile(conversationFile))
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/switchboard/internal/service -update)", err)
	}
	return string(want)
}

// play runs one conversation against a fresh in-process server and returns
// its transcript.
func play(t *testing.T, name string, conv conversation) string {
	t.Helper()
	s, model := conv.settings(t)
	if !conv.Audit {
		srv := startServer(t, s)
		return record(t, "call-"+name, conv, []string{srv.URL}, model)
	}
	logs := &syncBuffer{}
	svc, err := New(context.Background(), s, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newServer(svc))
	t.Cleanup(func() { srv.Close(); svc.close() })
	out := record(t, "call-"+name, conv, []string{srv.URL}, model)
	return out + strings.Join(auditLines(t, logs.String()), "\n") + "\n"
}

// auditLines picks the audit lines out of a JSON log, without their time.
func auditLines(t *testing.T, log string) []string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, `"msg":"audit"`) {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		delete(rec, "time")
		b, _ := json.Marshal(rec)
		lines = append(lines, "log: "+string(b))
	}
	if len(lines) == 0 {
		t.Errorf("no audit line in the log:\n%s", log)
	}
	return lines
}

// numberFlow reads a conversation's number flow, with the test's fetch token.
func (conv conversation) numberFlow(t *testing.T) []json.RawMessage {
	t.Helper()
	if conv.Flow == "" {
		return nil
	}
	acts, err := voipbintest.ReadFlow(filepath.Join("../../../../testdata", conv.Flow), testToken)
	if err != nil {
		t.Fatal(err)
	}
	return acts
}

// settings are the server settings a conversation runs with, and its model
// stand-in when it has a model (nil otherwise).
func (conv conversation) settings(t *testing.T) (Config, *modelStandIn) {
	s := Config{FetchToken: testToken, At: conv.At}
	if conv.Config != "" {
		s.ConfigFile = filepath.Join("../../../../testdata", conv.Config)
	}
	if conv.Model == nil {
		return s, nil
	}
	model := newModelStandIn(t, conv.Model)
	s.OpenAIKey, s.OpenAIURL = "test-key", model.URL()+"/v1"
	return s, model
}

// record plays conv against the servers at bases (in turn, like a load
// balancer) and writes down what happened.
func record(t *testing.T, callID string, conv conversation, bases []string, model *modelStandIn) string {
	t.Helper()
	var out []string
	switch conv.Endpoint {
	case "", "voipbin":
		cfgFile := ""
		if conv.Config != "" {
			cfgFile = filepath.Join("../../../../testdata", conv.Config)
		}
		cfg, err := LoadConfig(cfgFile)
		if err != nil {
			t.Fatal(err)
		}
		queues := voipbintest.Queues(cfg)
		res, err := voipbintest.Run(context.Background(), voipbintest.Options{
			CallID: callID, Bases: bases, Token: testToken, DuplicateEvents: conv.DuplicateEvents, Language: conv.Language,
			Dialled: conv.Dialled, Owned: conv.Owned, Flow: conv.numberFlow(t), Queues: queues, Unanswered: conv.Unanswered,
		}, conv.Steps)
		out = res.Transcript
		if err != nil {
			out = append(out, "ERROR: "+err.Error())
		}
		out = append(out, res.Summary())
		if res.Connected == "" && !conv.hangsUp() && !res.EndedByService() {
			t.Errorf("%s: the caller reached nobody:\n%s", callID, strings.Join(out, "\n"))
		}
		if len(res.Unplayed) > 0 { // the script shows less than it says
			t.Errorf("%s: the call ended before %d of its steps were played:\n%s", callID, len(res.Unplayed), strings.Join(out, "\n"))
		}
	case "webhook":
		for i, body := range conv.Requests {
			out = append(out, "POST /webhook/call-handler "+string(body))
			resp, err := http.Post(bases[i%len(bases)]+"/webhook/call-handler", "application/json", strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			out = append(out, fmt.Sprintf("  %d %s", resp.StatusCode, strings.TrimSpace(string(b))))
			if moves := resp.Header.Get(movesHeader); moves != "" {
				out = append(out, "  moves: "+moves)
			}
		}
	default:
		t.Fatalf("unknown endpoint %q", conv.Endpoint)
	}
	if model != nil {
		out = append(out, model.log()...)
	}
	return "# " + conv.About + "\n" + strings.Join(out, "\n") + "\n"
}

// startServer builds the service as serve does and serves it over real HTTP.
func startServer(t *testing.T, s Config) *httptest.Server {
	t.Helper()
	_, srv := startService(t, s)
	return srv
}

// startService is startServer that also hands back the service, to look behind it.
func startService(t *testing.T, s Config) (*Service, *httptest.Server) {
	t.Helper()
	svc, err := New(context.Background(), s, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newServer(svc))
	t.Cleanup(func() { srv.Close(); svc.close() })
	return svc, srv
}

// quietLog discards the service's logs unless the tests run verbose.
func quietLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// modelReply is one scripted answer of the stand-in model.
type modelReply struct {
	Content string `json:"content"`
	Status  int    `json:"status,omitempty"`   // an HTTP error instead of an answer
	DelayMS int    `json:"delay_ms,omitempty"` // answer this late (a slow model)
	// TopLogprobs gives the first token's alternatives, token -> probability.
	TopLogprobs map[string]float64 `json:"top_logprobs,omitempty"`
	// When, if set, gives this answer only to a request whose words hold
	// it: requests made at once on goroutines of their own come in any order.
	When string `json:"when,omitempty"`
}

// modelStandIn speaks the OpenAI chat-completions protocol on loopback and
// answers from a script, recording what it was asked.
type modelStandIn struct {
	srv     *httptest.Server
	mu      sync.Mutex
	replies []modelReply
	asked   []string
}

func newModelStandIn(t *testing.T, replies []modelReply) *modelStandIn {
	m := &modelStandIn{replies: replies}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *modelStandIn) URL() string { return m.srv.URL }

func (m *modelStandIn) serve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	if r.URL.Path != "/v1/chat/completions" || json.NewDecoder(r.Body).Decode(&req) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var user []string
	for _, msg := range req.Messages {
		if msg.Role == "user" {
			user = append(user, strings.ReplaceAll(strings.TrimSpace(msg.Content), "\n", " | "))
		}
	}
	m.mu.Lock()
	reply := modelReply{Content: "unknown"}
	asked := strings.Join(user, " / ")
	if i := slices.IndexFunc(m.replies, func(r modelReply) bool { return strings.Contains(asked, r.When) }); i >= 0 {
		reply = m.replies[i]
		m.replies = slices.Delete(m.replies, i, i+1)
	}
	m.asked = append(m.asked, fmt.Sprintf("model asked: %s -> %s", strings.Join(user, " / "), describe(reply)))
	m.mu.Unlock()
	if reply.DelayMS > 0 {
		select {
		case <-time.After(time.Duration(reply.DelayMS) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
	}
	if reply.Status != 0 {
		http.Error(w, `{"error":{"message":"scripted failure"}}`, reply.Status)
		return
	}
	choice := map[string]any{"index": 0, "finish_reason": "stop",
		"message": map[string]string{"role": "assistant", "content": reply.Content}}
	if reply.TopLogprobs != nil {
		var top []map[string]any
		for tok, p := range reply.TopLogprobs {
			top = append(top, map[string]any{"token": tok, "logprob": logOf(p)})
		}
		choice["logprobs"] = map[string]any{"content": []map[string]any{{
			"token": reply.Content, "logprob": logOf(reply.TopLogprobs[reply.Content]), "top_logprobs": top}}}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-test", "object": "chat.completion", "model": "stand-in",
		"choices": []any{choice}, "usage": map[string]int{"prompt_tokens": 90, "completion_tokens": 1, "total_tokens": 91},
	})
}

func describe(r modelReply) string {
	switch {
	case r.Status != 0:
		return fmt.Sprintf("HTTP %d", r.Status)
	case r.DelayMS > 0:
		return fmt.Sprintf("%q after %d ms", r.Content, r.DelayMS)
	}
	return fmt.Sprintf("%q", r.Content)
}

func (m *modelStandIn) log() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.asked...)
}

func logOf(p float64) float64 {
	if p <= 0 {
		return -100
	}
	return math.Log(p)
}

// vid is the VoIPBin id (a UUID) a test names name by, as the simulator makes it.
func vid(name string) string { return voipbintest.WireID(name) }
