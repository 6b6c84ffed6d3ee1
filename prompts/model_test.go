package prompts

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/flow"
)

// model is the stand-in for an OpenAI-compatible server: it speaks
// POST /v1/chat/completions and counts the requests that reach it.
type model struct {
	srv      *httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	last     map[string]any // the last request body, decoded
	header   http.Header    // and its headers
}

// reply answers the n-th request (from 1) reaching the model.
type reply func(w http.ResponseWriter, r *http.Request, n int64)

func newModel(t *testing.T, h reply) *model {
	t.Helper()
	m := &model{}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil {
			http.Error(w, `{"error":{"message":"bad json","type":"invalid_request_error"}}`, http.StatusBadRequest)
			return
		}
		m.mu.Lock()
		m.last, m.header = body, r.Header.Clone()
		m.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b)) // for a reply that reads the request
		h(w, r, m.requests.Add(1))
	}))
	t.Cleanup(m.srv.Close)
	return m
}

// lastRequest returns the last request's decoded body and headers.
func (m *model) lastRequest() (map[string]any, http.Header) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last, m.header
}

// top is one alternative of a token in a stand-in reply, with its probability.
type top struct {
	token string
	p     float64
}

// answer writes a chat completion whose message is content. With alternatives,
// the first token carries them as top_logprobs, as OpenAI sends them.
func answer(w http.ResponseWriter, content string, alternatives ...top) {
	choice := map[string]any{
		"index":         0,
		"message":       map[string]any{"role": "assistant", "content": content},
		"finish_reason": "stop",
		"logprobs":      nil,
	}
	if len(alternatives) > 0 {
		var tops []map[string]any
		for _, a := range alternatives {
			tops = append(tops, map[string]any{"token": a.token, "logprob": math.Log(a.p), "bytes": []byte(a.token)})
		}
		choice["logprobs"] = map[string]any{"content": []map[string]any{{
			"token": alternatives[0].token, "logprob": math.Log(alternatives[0].p), "top_logprobs": tops,
		}}}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-test", "object": "chat.completion", "created": time.Now().Unix(), "model": "gpt-4o-mini",
		"choices": []any{choice},
		"usage":   map[string]any{"prompt_tokens": 120, "completion_tokens": 1, "total_tokens": 121},
	})
}

// fail writes an OpenAI error body with status.
func fail(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"error":{"message":"stand-in failure","type":"server_error","code":null}}`)
}

// slow holds the request until d passes or the client gives up, so that
// closing the server never waits for it.
func slow(d time.Duration, then reply) reply {
	return func(w http.ResponseWriter, r *http.Request, n int64) {
		select {
		case <-time.After(d):
			then(w, r, n)
		case <-r.Context().Done():
		}
	}
}

// reset drops the connection without an HTTP answer, with a TCP reset.
func reset(w http.ResponseWriter, _ *http.Request, _ int64) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// says answers every request with content.
func says(content string, alternatives ...top) reply {
	return func(w http.ResponseWriter, _ *http.Request, _ int64) { answer(w, content, alternatives...) }
}

// testConfig is the example config with the llm settings changed by edit.
func testConfig(t *testing.T, edit func(*flow.LLM)) *flow.Config {
	t.Helper()
	cfg := flow.ExampleConfig()
	if edit != nil {
		edit(&cfg.Routing.LLM)
	}
	return cfg
}

// newTestClassifier builds a classifier that talks to m and logs to the test.
func newTestClassifier(t *testing.T, m *model, cfg *flow.Config) *Classifier {
	t.Helper()
	c, err := NewClassifier(cfg, Options{
		APIKey:  "sk-test",
		BaseURL: m.srv.URL + "/v1",
		Log:     slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("NewClassifier: %v", err)
	}
	return c
}
