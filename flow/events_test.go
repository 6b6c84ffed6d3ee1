package flow_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store"
)

func TestEvents(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory(store.DefaultExpiry)
	ev := flow.NewEvents(mem, quiet)
	if err := ev.Transcribing(ctx, "tr-1", "call-1", "en-US"); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 600) // clipped to MaxTurnChars characters
	steps := []struct {
		name string
		h    flow.Heard
	}{
		{"the caller's words", flow.Heard{ID: "1", Session: "tr-1", Speaker: flow.Caller, Text: "  my invoice  "}},
		{"the same event delivered again", flow.Heard{ID: "1", Session: "tr-1", Speaker: flow.Caller, Text: "my invoice"}},
		{"our own voice", flow.Heard{ID: "2", Session: "tr-1", Speaker: flow.Us, Text: "Routing you to Sales."}},
		{"nothing said", flow.Heard{ID: "3", Session: "tr-1", Speaker: flow.Caller, Text: "   "}},
		{"a long turn", flow.Heard{ID: "4", Session: "tr-1", Speaker: flow.Caller, Text: long}},
	}
	for _, s := range steps {
		if _, _, err := ev.Heard(ctx, s.h); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	if _, _, err := ev.Heard(ctx, flow.Heard{ID: "5", Session: "tr-unknown", Speaker: flow.Caller, Text: "hello"}); !errors.Is(err, flow.ErrUnknownSession) {
		t.Errorf("words from an unlinked session: err = %v, want ErrUnknownSession (so the platform retries)", err)
	}
	if err := ev.HungUp(ctx, "call-1", "call-1"); err != nil {
		t.Fatal(err)
	}
	if err := ev.HungUp(ctx, "call-1", "call-1"); err != nil {
		t.Fatal(err)
	}
	_, inbox, err := mem.Load(ctx, "call-1")
	if err != nil {
		t.Fatal(err)
	}
	// Words carry when they arrived: a fetch tells a decision in progress
	// from a lost one by it.
	for i := range inbox {
		if got := inbox[i].At != 0; got != (inbox[i].Text != "") {
			t.Errorf("input %d: arrival time %d; want one on words only", i, inbox[i].At)
		}
		inbox[i].At = 0
	}
	want := []flow.Input{{Session: "tr-1", Lang: "en-US"}, {Text: "my invoice", Session: "tr-1"},
		{Text: strings.Repeat("é", flow.MaxTurnChars), Session: "tr-1"}, {Hangup: true}}
	if diff := cmp.Diff(want, inbox); diff != "" {
		t.Errorf("inbox (-want +got):\n%s", diff)
	}
}
