package eval_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/eval"
	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/prompts"
	"github.com/switchboard/switchboard/store"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int
		wantErr string
	}{
		{"two lines", `{"id":"a","turns":["hi"],"department":"unknown"}` + "\n" + `{"turns":["bill"],"department":"billing"}`, 2, ""},
		{"blank lines skipped", "\n" + `{"id":"a","turns":["hi"],"department":"unknown"}` + "\n\n", 1, ""},
		{"bad json", `{"id":`, 0, "line 1"},
		{"no turns", `{"id":"a","turns":[],"department":"sales"}`, 0, "needs turns"},
		{"no label", `{"id":"a","turns":["x"]}`, 0, "needs turns"},
		{"empty", "", 0, "no conversations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := eval.Load(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != tt.want {
				t.Fatalf("got %d conversations, %v; want %d", len(got), err, tt.want)
			}
			for _, c := range got {
				if c.ID == "" {
					t.Errorf("conversation without an ID: %+v", c)
				}
			}
		})
	}
}

// fixed is a hand-written classifier: it answers by the first word it knows.
type fixed struct {
	words  map[string]string
	tokens int
	calls  atomic.Int64
}

func (f *fixed) Classify(_ context.Context, turns []string) (flow.Verdict, error) {
	f.calls.Add(1)
	for _, w := range strings.Fields(strings.ToLower(strings.Join(turns, " "))) {
		if d, ok := f.words[w]; ok {
			return flow.Verdict{Department: d, Confidence: 0.9, RunnerUp: 0.05, Tokens: f.tokens}, nil
		}
	}
	return flow.Verdict{Confidence: 1, Tokens: f.tokens}, nil
}

func TestPlay(t *testing.T) {
	cfg := flow.ExampleConfig()
	local := &fixed{words: map[string]string{"invoice": "billing", "sales": "sales"}}
	tests := []struct {
		name      string
		turns     []string
		got       string
		played    int
		asked     int
		reasonNot string
	}{
		{"routes at once", []string{"my invoice please"}, "billing", 1, 0, ""},
		{"priority lane", []string{"the site is down"}, flow.Emergency, 1, 0, ""},
		{"clarifies, then routes with history", []string{"hello", "about my invoice"}, "billing", 2, 1, ""},
		{"stops at the first connect", []string{"sales", "invoice"}, "sales", 1, 0, ""},
		{"turns run out while asking", []string{"hello", "hmm"}, eval.Clarify, 2, 2, ""},
		{"out of questions: fallback desk", []string{"hello", "hmm", "well", "so"}, flow.Fallback, 3, 2, ""},
	}
	st := store.NewMemory(store.DefaultExpiry)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := eval.Conversation{ID: tt.name, Turns: tt.turns, Department: "billing"}
			out := eval.Play(context.Background(), cfg, st, local, nil, fmt.Sprint("call-", i), c, time.Time{})
			if out.Got != tt.got || out.Played != tt.played || out.Asked != tt.asked {
				t.Errorf("got %s after %d turns and %d questions, want %s after %d and %d",
					out.Got, out.Played, out.Asked, tt.got, tt.played, tt.asked)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	cfg := flow.ExampleConfig()
	out := func(want, got string, turns ...string) eval.Outcome {
		if len(turns) == 0 {
			turns = []string{"words"}
		}
		return eval.Outcome{Conversation: eval.Conversation{Department: want, Turns: turns}, Got: got}
	}
	r := eval.Summarize("t", cfg, []eval.Outcome{
		out("billing", "billing"),
		out("billing", "sales"),
		out("sales", "sales"),
		out("emergency", "emergency"),
		out("emergency", eval.Clarify),
		out("unknown", flow.Fallback),
		out("unknown", eval.Clarify, "hello there"),
		out("unknown", "sales", "hi"), // a greeting sent to a department
	})
	checks := []struct {
		name      string
		got, want float64
	}{
		{"accuracy", r.Accuracy, 5.0 / 8},
		{"clarify rate", r.ClarifyRate, 2.0 / 8},
		{"emergency recall", r.EmergencyRecall, 0.5},
		{"billing precision", r.Departments["billing"].Precision, 1},
		{"billing recall", r.Departments["billing"].Recall, 0.5},
		{"sales precision", r.Departments["sales"].Precision, 1.0 / 3},
		{"unknown recall", r.Departments["unknown"].Recall, 2.0 / 3},
		{"unknown precision", r.Departments["unknown"].Precision, 2.0 / 3},
		{"greeting-only", float64(r.GreetingOnly), 2},
		{"greeting misroutes", float64(r.GreetingMisroutes), 1},
		{"confusion billing->sales", float64(r.Confusion["billing"]["sales"]), 1},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if diff := c.got - c.want; diff > 1e-9 || diff < -1e-9 {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
	// macro-F1 over billing (2/3), emergency (2/3), sales (1/2), unknown (2/3).
	if want := (2.0/3 + 2.0/3 + 0.5 + 2.0/3) / 4; r.MacroF1 < want-1e-9 || r.MacroF1 > want+1e-9 {
		t.Errorf("macro-F1 = %v, want %v", r.MacroF1, want)
	}
	if got, want := strings.Join(r.Outcomes, ","), "billing,emergency,sales,fallback,clarify"; got != want {
		t.Errorf("outcome columns %s, want %s", got, want)
	}
}

func TestFoldKeepsTheHeldOutFoldOut(t *testing.T) {
	cfg := flow.ExampleConfig()
	convs := []eval.Conversation{
		{Turns: []string{"zero"}, Department: "sales"},
		{Turns: []string{"one"}, Department: "billing"},
		{Turns: []string{"two"}, Department: "sales"},
		{Turns: []string{"three"}, Department: "unknown"},
	}
	fold, test := eval.Fold(cfg, convs, 2, 0)
	if fmt.Sprint(test) != "[0 2]" {
		t.Errorf("held out %v, want [0 2]", test)
	}
	examples := strings.Join(fold.Routing.Departments["sales"].Examples, "|") + "|" +
		strings.Join(fold.Routing.Departments["billing"].Examples, "|") + "|" +
		strings.Join(fold.Routing.Departments["fallback"].Examples, "|")
	if strings.Contains(examples, "zero") || strings.Contains(examples, "two") {
		t.Errorf("held-out turns leaked into the examples: %s", examples)
	}
	if !strings.Contains(examples, "one") || !strings.Contains(examples, "three") {
		t.Errorf("training turns missing from the examples: %s", examples)
	}
	if n := len(cfg.Routing.Departments["billing"].Examples); n != 4 {
		t.Errorf("the original config changed: billing has %d examples", n)
	}
}

// leakCheck is a classifier that fails the test when a conversation's own
// turns are among its config's examples: a held-out source must be unseen.
type leakCheck struct {
	t        *testing.T
	examples map[string]bool
}

func (l *leakCheck) Classify(_ context.Context, turns []string) (flow.Verdict, error) {
	if l.examples[strings.Join(turns, " ")] {
		l.t.Errorf("%q was played with itself among the examples", turns)
	}
	return flow.Verdict{}, nil
}

func TestBySourceHoldsOutEachSource(t *testing.T) {
	cfg := flow.ExampleConfig()
	convs := []eval.Conversation{
		{ID: "a1", Source: "org/a:train.csv", Turns: []string{"alpha one"}, Department: "sales"},
		{ID: "b1", Source: "org/b:x.json#train", Turns: []string{"beta one"}, Department: "billing"},
		{ID: "a2", Source: "org/a:test.csv", Turns: []string{"alpha two"}, Department: "unknown"},
		{ID: "b2", Source: "org/b:x.json#oos", Turns: []string{"beta two"}, Department: "sales"},
	}
	var built []*flow.Config
	local := func(c *flow.Config) flow.Classifier {
		built = append(built, c)
		ex := map[string]bool{}
		for _, d := range c.Routing.Departments {
			for _, e := range d.Examples {
				ex[e] = true
			}
		}
		return &leakCheck{t: t, examples: ex}
	}
	rep, err := eval.Run(context.Background(), eval.Setup{Name: "s", Config: cfg, Local: local}, convs, eval.Options{BySource: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(built) != 2 || rep.Folds != 2 || rep.FoldsBy != "source" {
		t.Fatalf("%d configs built, folds %d by %q; want one per source (2)", len(built), rep.Folds, rep.FoldsBy)
	}
	var names []string
	for _, s := range rep.Sources {
		names = append(names, fmt.Sprintf("%s:%d", s.Name, s.N))
	}
	if got := strings.Join(names, ","); got != "org/a:2,org/b:2" {
		t.Errorf("sources %s, want org/a:2,org/b:2", got)
	}
	// The other source's turns are learnt: org/a's fold knows "beta one".
	if ex := built[0].Routing.Departments["billing"].Examples; !slices.Contains(ex, "beta one") {
		t.Errorf("org/a's fold lacks org/b's turns: %v", ex)
	}
}

func TestRunConcurrentModelCountsTokens(t *testing.T) {
	cfg := flow.ExampleConfig()
	model := &fixed{words: map[string]string{"invoice": "billing", "demo": "sales"}, tokens: 30}
	var convs []eval.Conversation
	for i := range 40 {
		convs = append(convs, eval.Conversation{ID: fmt.Sprint(i), Turns: []string{"could you please sort out my invoice today"}, Department: "billing"})
	}
	// Progress is reported from 8 goroutines: it must come one call at a
	// time, in order, or a progress line would go back (40, then 39).
	var mu sync.Mutex
	var seen []int
	rep, err := eval.Run(context.Background(), eval.Setup{Name: "m", Config: cfg, Local: func(*flow.Config) flow.Classifier { return &fixed{} }, Model: model},
		convs, eval.Options{Concurrency: 8, Progress: func(done, total int) {
			time.Sleep(100 * time.Microsecond) // a slow terminal: a report overtaken here would show
			mu.Lock()
			seen = append(seen, done)
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Accuracy != 1 || rep.TokensPerCall != 30 {
		t.Errorf("accuracy %v, tokens per call %v; want 1, 30", rep.Accuracy, rep.TokensPerCall)
	}
	for i, done := range seen {
		if done != i+1 || len(seen) != 40 {
			t.Fatalf("progress reported %v; want 1 to 40 in order", seen)
		}
	}
}

func TestWriters(t *testing.T) {
	cfg := flow.ExampleConfig()
	rep := eval.Summarize("baseline", cfg, []eval.Outcome{
		{Conversation: eval.Conversation{Department: "billing", Turns: []string{"bill"}}, Got: "billing", Reason: "local", Confidence: 0.95},
		{Conversation: eval.Conversation{Department: "sales", Turns: []string{"<b>buy</b>"}}, Got: eval.Clarify, Asked: 2},
		{Conversation: eval.Conversation{Department: "sales", Turns: []string{"help", "my bill"}}, Got: "billing", Reason: "local", Confidence: 0.42, Asked: 1},
	})
	other := eval.Summarize("other", cfg, nil)
	tests := []struct {
		name  string
		write func(io.Writer) error
		want  []string
	}{
		{"text", func(w io.Writer) error { return eval.WriteText(w, []*eval.Report{rep, other}, 5) }, []string{"accuracy", "0.333", "baseline", "other", "confusion matrix of baseline", `"<b>buy</b>"`}},
		{"html", func(w io.Writer) error { return eval.WriteHTML(w, []*eval.Report{rep}) }, []string{"<table", "hsl(", "&lt;b&gt;buy&lt;/b&gt;",
			"<title>billing recall 1.000 (1 conversations)</title>", "<title>sales recall 0.000 (2 conversations)</title>",
			"<title>1 right with confidence 0.9 to 1.0</title>", "<title>1 wrong with confidence 0.4 to 0.5</title>",
			"<title>1 unsure callers went to billing, wrongly</title>", "<title>1 unsure callers went to still asking, wrongly</title>"}},
		{"json", func(w io.Writer) error { return eval.WriteJSON(w, []*eval.Report{rep, other}) }, []string{`"accuracy": 0.3333333333333333`, `"setups"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b); err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.want {
				if !strings.Contains(b.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, b.String())
				}
			}
		})
	}
	t.Run("json keys", func(t *testing.T) {
		var b bytes.Buffer
		if err := eval.WriteJSON(&b, []*eval.Report{rep}); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Accuracy    *float64 `json:"accuracy"`
			MacroF1     *float64 `json:"macro_f1"`
			ClarifyRate *float64 `json:"clarify_rate"`
			Departments map[string]struct {
				Precision *float64 `json:"precision"`
				Recall    *float64 `json:"recall"`
			} `json:"departments"`
		}
		if err := json.Unmarshal(b.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Accuracy == nil || got.MacroF1 == nil || got.ClarifyRate == nil || got.Departments["billing"].Precision == nil || got.Departments["sales"].Recall == nil {
			t.Errorf("missing top-level keys: %s", b.String())
		}
	})
}

// TestModelPathOverHTTP plays conversations with the model classifier of
// package prompts against a stand-in speaking OpenAI chat completions on
// loopback: the model path as `switchboard eval --classifier llm` builds it.
func TestModelPathOverHTTP(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		var req struct {
			Messages []struct{ Content string } `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 {
			http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
			return
		}
		answer := "unknown" // the system prompt names invoices too: read the caller's words only
		if strings.Contains(req.Messages[len(req.Messages)-1].Content, "invoice") {
			answer = "billing"
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"x","object":"chat.completion","model":"stand-in","choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":{"prompt_tokens":40,"completion_tokens":2,"total_tokens":42}}`, answer)
	}))
	defer srv.Close()
	cfg := flow.ExampleConfig()
	model, err := prompts.NewClassifier(cfg, prompts.Options{APIKey: "test", BaseURL: srv.URL + "/v1", Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	convs := []eval.Conversation{
		{ID: "a", Turns: []string{"there is something odd about this month's invoice"}, Department: "billing"},
		{ID: "b", Turns: []string{"what a lovely day it is outside today"}, Department: "unknown"},
	}
	rep, err := eval.Run(context.Background(), eval.Setup{Name: "llm", Config: cfg, Local: newLocal, Model: model}, convs, eval.Options{Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Accuracy != 1 || requests.Load() == 0 || rep.TokensPerCall == 0 {
		t.Errorf("accuracy %v, %d requests, %v tokens per call; want 1, some, some\n%+v", rep.Accuracy, requests.Load(), rep.TokensPerCall, rep.Mistakes)
	}
}

// TestRunAtAFixedMomentWhenOpen: a config with opening hours is played at a
// fixed moment when every department is open, whatever the day of the run,
// and the report says when; a config whose departments are never open
// together is refused with what to do.
func TestRunAtAFixedMomentWhenOpen(t *testing.T) {
	hours := func(weekly string) *flow.Config {
		t.Helper()
		cfg, err := flow.ParseConfig(strings.NewReader(`{"routing": {"departments": {
			"sales": {"number": "+14155550100", "keywords": ["buy"], "hours": {"weekly": ` + weekly + `}},
			"fallback": "+14155550199", "emergency": "+14155550911"},
			"hours": {"timezone": "America/New_York", "weekly": {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"]}}}}`))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	convs := []eval.Conversation{{Turns: []string{"I want to buy something"}, Department: "sales"}}
	local := func(c *flow.Config) flow.Classifier { return flow.NewLocal(c) }
	rep, err := eval.Run(t.Context(), eval.Setup{Name: "h", Config: hours(`{"tue": ["12:00-13:00"]}`), Local: local}, convs, eval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, time.June, 2, 16, 0, 0, 0, time.UTC); !rep.At.Equal(want) {
		t.Errorf("played at %v, want %v (Tuesday noon in New York, when sales opens)", rep.At, want)
	}
	if rep.Accuracy != 1 {
		t.Errorf("accuracy %v: the caller met a closed department", rep.Accuracy)
	}
	var text strings.Builder
	if err := eval.WriteText(&text, []*eval.Report{rep}, 0); err != nil || !strings.Contains(text.String(), "Tue 2026-06-02 12:00 EDT") {
		t.Errorf("report (%v) does not show the moment:\n%s", err, text.String())
	}
	_, err = eval.Run(t.Context(), eval.Setup{Name: "h", Config: hours(`{"sat": ["12:00-13:00"]}`), Local: local}, convs, eval.Options{})
	if err == nil || !strings.Contains(err.Error(), "--at") {
		t.Errorf("departments never open together: err = %v, want a refusal naming --at", err)
	}
}
