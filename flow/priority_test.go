package flow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store"
)

// TestPriorityPagesIncidentsOnly: the priority lane pages on-call for an
// incident and not for an ordinary caller who happens to say "down",
// "production" or "urgent", in the example config and the seed's template alike.
func TestPriorityPagesIncidentsOnly(t *testing.T) {
	configs := map[string]*flow.Config{"example": flow.ExampleConfig(), "seed template": loadConfig(t, "testdata/seed-template.json")}
	tests := []struct {
		words string
		page  bool
	}{
		{"can you slow down, I want a quote", false},
		{"I want a demo of the production plan", false},
		{"it is urgent that I buy today", false},
		{"our site is down", true},
		{"production is down", true},
		{"we have an outage", true},
		{"this is an emergency", true},
		{"critical failure in our system", true},
		{"the site is down and nobody can buy anything", true}, // a phrase pages whatever else is asked
	}
	for name, cfg := range configs {
		for _, tt := range tests {
			t.Run(name+"/"+tt.words, func(t *testing.T) {
				r := flow.NewRouter(cfg, store.NewMemory(store.DefaultExpiry), flow.NewLocal(cfg), nil, quiet)
				reply := r.Next(context.Background(), flow.Turn{CallID: "c1", Channel: flow.Webhook, Words: tt.words})
				got := ""
				for _, a := range reply.Actions {
					if a.Kind == flow.ActConnect {
						got = a.Department
					}
				}
				if paged := got == flow.Emergency; paged != tt.page {
					t.Errorf("%q went to %q; want paging on-call: %v", tt.words, got, tt.page)
				}
			})
		}
	}
}

func loadConfig(t *testing.T, path string) *flow.Config {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := flow.ParseConfig(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cfg
}

// BenchmarkIsPriority is the priority lane's matching on a caller's sentence
// with no signal in it, the common case: every signal is tried.
func BenchmarkIsPriority(b *testing.B) {
	r := flow.ExampleConfig().Routing
	for b.Loop() {
		r.IsPriority("hi, I was charged twice on my last invoice and I would like a refund please")
	}
}

// TestPrioritySignalAlwaysPages: a configured signal is the owner's
// instruction: it pages on-call even when the words are a clear request of
// another department, and even when that department lists the word itself.
func TestPrioritySignalAlwaysPages(t *testing.T) {
	cfg := flow.ExampleConfig()
	cfg.Routing.PrioritySignals = []string{"fire", "smoking"}
	sales := cfg.Routing.Departments["sales"]
	sales.Keywords = append(sales.Keywords, "fire")
	cfg = reparse(t, cfg)
	for _, words := range []string{
		"I want to buy twenty more licenses, fire extinguisher included",
		"there is a fire",
		"my invoice says I was charged twice and the printer is smoking",
	} {
		r := flow.NewRouter(cfg, store.NewMemory(store.DefaultExpiry), flow.NewLocal(cfg), nil, quiet)
		got := lastConnect(r.Next(context.Background(), flow.Turn{CallID: "c1", Channel: flow.Webhook, Words: words}).Actions)
		if got != flow.Emergency {
			t.Errorf("%q went to %q, want on-call", words, got)
		}
	}
}

// TestWarningsNameAmbiguousSignals: check warns about a signal that is a
// common word or in a department's keywords or examples, and not about an
// incident phrase.
func TestWarningsNameAmbiguousSignals(t *testing.T) {
	cfg := flow.ExampleConfig()
	cfg.Routing.PrioritySignals = []string{"down", "is down", "plan", "data loss"}
	cfg = reparse(t, cfg)
	got := strings.Join(cfg.Routing.Warnings(), "\n")
	for _, want := range []string{`"down" is a common word`, `"plan" is in sales's keywords`} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
	for _, not := range []string{`"is down"`, `"data loss"`} {
		if strings.Contains(got, "signal "+not) {
			t.Errorf("warnings name %s:\n%s", not, got)
		}
	}
	if w := flow.ExampleConfig().Routing.Warnings(); len(w) > 0 {
		t.Errorf("the example config draws warnings: %v", w)
	}
}

// reparse is cfg as the service would load it from a file.
func reparse(t *testing.T, cfg *flow.Config) *flow.Config {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := flow.ParseConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}
