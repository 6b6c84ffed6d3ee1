package eval_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/eval"
	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store"
)

func loadModeConfig(t *testing.T, name string) *flow.Config {
	t.Helper()
	return readConfigFile(t, filepath.Join("../../../../testdata/modes", name))
}

// readConfigFile parses the routing config at path, failing the test on any error.
func readConfigFile(t *testing.T, path string) *flow.Config {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := flow.ParseConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestModesRouteAsTheConversation plays the dev corpus as phone calls in each
// conversational mode and checks every conversation ends where the seed
// webhook's playback of the same departments ends: a keypad entry before the
// conversation, a language picked from the caller's words, or a decision
// handed back to the customer's flow change how the call ends, not where.
func TestModesRouteAsTheConversation(t *testing.T) {
	convs, err := eval.LoadFile("../../../../testdata/corpus/dev.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	convs = convs[:120]
	ctx := context.Background()
	example := flow.ExampleConfig()
	st := store.NewMemory(store.DefaultExpiry)
	for _, file := range []string{"hybrid.json", "multilingual.json", "flow-step.json"} {
		t.Run(file, func(t *testing.T) {
			cfg := loadModeConfig(t, file)
			for i, c := range convs {
				want := eval.Play(ctx, example, st, flow.NewLocal(example), nil, fmt.Sprint("webhook-", file, i), c, time.Time{})
				got := eval.PlayCall(ctx, cfg, st, flow.NewLocal(cfg), nil, fmt.Sprint("call-", file, i), "", c, time.Time{})
				if got.Got != want.Got {
					t.Errorf("%s %q: got %s (%s), the webhook %s (%s)", c.ID, c.Turns, got.Got, got.Reason, want.Got, want.Reason)
				}
			}
		})
	}
}

// TestKeypadModeEval plays the corpus through keypad.json's tree: a caller who
// knows where they want to go reaches every department that is a leaf, and
// the operator for everything else.
func TestKeypadModeEval(t *testing.T) {
	convs := []eval.Conversation{
		{ID: "a", Turns: []string{"I want a quote"}, Department: "sales"},
		{ID: "b", Turns: []string{"my login is broken"}, Department: "support"},
		{ID: "c", Turns: []string{"tell me a joke"}, Department: eval.Unknown},
		{ID: "d", Turns: []string{"the site is down"}, Department: flow.Emergency},
	}
	cfg := loadModeConfig(t, "keypad.json")
	st := store.NewMemory(store.DefaultExpiry)
	got := map[string]string{}
	for _, c := range convs {
		o := eval.PlayCall(context.Background(), cfg, st, flow.NewLocal(cfg), nil, "call-"+c.ID, "", c, time.Time{})
		got[c.ID] = o.Got + " " + o.Reason
	}
	want := map[string]string{"a": "sales keypad", "b": "support keypad", "c": "fallback person", "d": "fallback person"}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: got %q, want %q", id, got[id], w)
		}
	}
}
