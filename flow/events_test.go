package flow_test

import (
	"context"
	"errors"
	"fmt"
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
	// Inputs carry when they arrived, by the store's clock: a fetch tells a
	// decision in progress from a lost one by it.
	for i := range inbox {
		if inbox[i].At == 0 {
			t.Errorf("input %d: no arrival time", i)
		}
		inbox[i].At = 0
	}
	want := []flow.Input{{Session: "tr-1", Lang: "en-US"}, {Text: "my invoice", Session: "tr-1"},
		{Text: strings.Repeat("é", flow.MaxTurnChars), Session: "tr-1"}, {Hangup: true}}
	if diff := cmp.Diff(want, inbox); diff != "" {
		t.Errorf("inbox (-want +got):\n%s", diff)
	}
}

// TestEventsAfterLeaving: once a call has left us, the words its
// transcription keeps hearing (the caller and the agent) are taken without
// an error, so the platform does not retry them, and kept nowhere.
func TestEventsAfterLeaving(t *testing.T) {
	ctx := context.Background()
	inbox := &countingInbox{Inbox: store.NewMemory(store.DefaultExpiry)}
	ev := flow.NewEvents(inbox, quiet)
	if err := ev.Transcribing(ctx, "tr-1", "call-1", ""); err != nil {
		t.Fatal(err)
	}
	if err := ev.Left(ctx, flow.Call{ID: "call-1", Transcribes: []string{"tr-1"}}); err != nil {
		t.Fatal(err)
	}
	appended := inbox.appends
	callID, _, err := ev.Heard(ctx, flow.Heard{ID: "1", Session: "tr-1", Speaker: flow.Caller, Text: "my card number is 4111"})
	if err != nil || callID != "" {
		t.Errorf("words after the call left: call %q, err %v; want none, nil", callID, err)
	}
	if inbox.appends != appended {
		t.Errorf("words after the call left were appended to an inbox")
	}
}

// countingInbox counts appends.
type countingInbox struct {
	flow.Inbox
	appends int
}

func (c *countingInbox) Append(ctx context.Context, id, key string, in flow.Input) (bool, int, error) {
	c.appends++
	return c.Inbox.Append(ctx, id, key, in)
}

// TestEventsCountDrops: a flood of lines for one call drops the oldest
// unread ones; Heard says how many, and Dropped keeps the running total.
func TestEventsCountDrops(t *testing.T) {
	ctx := context.Background()
	ev := flow.NewEvents(store.NewMemory(store.DefaultExpiry), quiet)
	if err := ev.Transcribing(ctx, "tr-1", "call-1", ""); err != nil {
		t.Fatal(err)
	}
	dropped := 0
	for i := range flow.MaxInbox + 3 {
		_, n, err := ev.Heard(ctx, flow.Heard{ID: fmt.Sprint(i), Session: "tr-1", Speaker: flow.Caller, Text: fmt.Sprint("line ", i)})
		if err != nil {
			t.Fatal(err)
		}
		dropped += n
	}
	if dropped != 3 || ev.Dropped() != 3 {
		t.Errorf("dropped %d (total %d), want 3", dropped, ev.Dropped())
	}
}
