package flow_test

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store"
)

// TestPersonDesk: a request for a person reaches the configured desk, or
// the department the same words name; a config's phrases replace a
// language's defaults; a desk that is no department is refused.
func TestPersonDesk(t *testing.T) {
	cfg := flow.ExampleConfig()
	cfg.Routing.Person = &flow.Person{Desk: "support", Phrases: map[string][]string{"en": {"a grown-up", "somebody"}}}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "routing.person.phrases.en") {
		t.Errorf("a phrase that is no words: err = %v", err)
	}
	cfg.Routing.Person.Phrases["en"] = []string{"grown up", "somebody"}
	cfg = reparse(t, cfg)
	for words, want := range map[string]string{
		"put me through to a grown up":              "support",
		"somebody please":                           "support",
		"somebody about a refund for my invoice":    "billing",
		"operator":                                  "", // replaced: not a phrase here, asked again
		"somebody, our website is down, everything": flow.Emergency,
	} {
		r := flow.NewRouter(cfg, store.NewMemory(store.DefaultExpiry), flow.NewLocal(cfg), nil, quiet)
		got := lastConnect(r.Next(context.Background(), flow.Turn{CallID: "c1", Channel: flow.Webhook, Words: words}).Actions)
		if got != want {
			t.Errorf("%q went to %q, want %q", words, got, want)
		}
	}
	cfg.Routing.Person.Desk = "concierge"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "routing.person.desk") {
		t.Errorf("an unknown desk: err = %v", err)
	}
}
