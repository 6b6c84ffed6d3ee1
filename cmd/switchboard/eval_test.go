package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/service"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// A stand-in for an OpenAI-compatible model that refuses any request not
// shaped as the router's: a chat completion at temperature 0, a system prompt
// carrying each department's description and examples from the config, the
// caller's turns in the user message. It answers by a keyword in the turns.
func TestEvalWithTheModelChecksTheRequest(t *testing.T) {
	cfgPath := filepath.Join("..", "..", "testdata", "corpus", "routing.json")
	cfg, err := service.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model       string   `json:"model"`
			Temperature *float64 `json:"temperature"`
			Messages    []struct {
				Role, Content string
			} `json:"messages"`
		}
		bad := func(why string) {
			t.Errorf("model request: %s", why)
			http.Error(w, why, http.StatusBadRequest)
		}
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions") || r.Header.Get("Authorization") != "Bearer sk-test" {
			bad(fmt.Sprintf("%s %s auth %q", r.Method, r.URL.Path, r.Header.Get("Authorization")))
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			bad(err.Error())
			return
		}
		if req.Model == "" || req.Temperature != nil && *req.Temperature > 1e-6 || len(req.Messages) != 2 ||
			req.Messages[0].Role != "system" || req.Messages[1].Role != "user" {
			bad(fmt.Sprintf("shape: model %q, temperature %v, messages %+v", req.Model, req.Temperature, req.Messages))
			return
		}
		sys := req.Messages[0].Content
		for name, d := range cfg.Routing.Departments {
			if name == "fallback" {
				continue
			}
			if !strings.Contains(sys, d.Description) || len(d.Examples) > 0 && !strings.Contains(sys, `"`+d.Examples[0]+`"`) {
				bad("the system prompt lacks " + name + "'s description or examples")
				return
			}
		}
		asked.Add(1)
		answer := "unknown"
		for word, dept := range map[string]string{"quote": "sales", "bill": "billing", "stolen": "emergency", "password": "support"} {
			if strings.Contains(req.Messages[1].Content, word) {
				answer = dept
			}
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"choices":[{"index":0,"message":{"role":"assistant","content":%q}}],"usage":{"total_tokens":42}}`, answer)
	}))
	t.Cleanup(srv.Close)

	data := filepath.Join(t.TempDir(), "calls.jsonl")
	lines := `{"id":"` + vid("1") + `","turns":["I would like a quote for my house please"],"department":"sales"}
{"id":"2","turns":["there is something odd about my last bill this month"],"department":"billing"}
{"id":"3","turns":["I forgot my password and cannot get in"],"department":"support"}
`
	if err := os.WriteFile(data, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": srv.URL + "/v1"}
	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"eval", "--data", data, "--config", cfgPath, "--classifier", "llm", "--json"},
		func(k string) string { return env[k] }, &out, &errOut)
	if err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	var rep struct {
		Accuracy      float64 `json:"accuracy"`
		TokensPerCall float64 `json:"tokens_per_call"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if asked.Load() != 3 || rep.Accuracy != 1 || rep.TokensPerCall != 42 {
		t.Errorf("model asked %d times, accuracy %v, tokens per call %v; want 3, 1, 42", asked.Load(), rep.Accuracy, rep.TokensPerCall)
	}
}

// --vectors=false plays the same corpus with a local classifier that has no
// word vectors: the figures differ, and the default is the better.
func TestEvalVectorsFlagSwitchesThemOff(t *testing.T) {
	corpus := filepath.Join("..", "..", "testdata", "corpus")
	accuracy := func(args ...string) float64 {
		t.Helper()
		var out, errOut bytes.Buffer
		args = append([]string{"eval", "--data", filepath.Join(corpus, "dev.jsonl"), "--config", filepath.Join(corpus, "routing.json"), "--json"}, args...)
		if err := run(context.Background(), args, func(string) string { return "" }, &out, &errOut); err != nil {
			t.Fatalf("%v: %s", err, errOut.String())
		}
		var rep struct {
			Accuracy float64 `json:"accuracy"`
		}
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("%v: %s", err, out.String())
		}
		return rep.Accuracy
	}
	with, without := accuracy(), accuracy("--vectors=false")
	if with <= without {
		t.Errorf("accuracy with vectors %.3f, without %.3f: want the vectors to count, and to help", with, without)
	}
}

// TestEvalAt: eval --at plays every conversation at that moment, so a
// department closed then loses its callers to its after_hours.
func TestEvalAt(t *testing.T) {
	data := filepath.Join(t.TempDir(), "sales.jsonl")
	line := `{"id": "s1", "source": "test", "turns": ["I want to buy twenty more licenses for my team"], "department": "sales"}` + "\n"
	if err := os.WriteFile(data, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	for at, want := range map[string]string{"2026-12-02T10:00": "1.000", "2026-12-02T19:30": "0.000"} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"eval", "--data", data, "--config", hoursConfig, "--at", at}, noEnv, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`accuracy +` + regexp.QuoteMeta(want)).MatchString(out.String()) {
			t.Errorf("eval --at %s: want accuracy %s:\n%s", at, want, out.String())
		}
	}
}
