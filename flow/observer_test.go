package flow_test

import (
	"context"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store"
)

// recorder is an Observer that keeps every report.
type recorder struct {
	mu      sync.Mutex
	reports []flow.Report
}

func (r *recorder) Observe(_ context.Context, rep flow.Report) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reports = append(r.reports, rep)
}

// TestObserver sees each turn of a call as the call before and after it: the
// start, the clarification, the route with the classifier's answer, and a
// failed turn as a transfer to the fallback desk.
func TestObserver(t *testing.T) {
	cfg := flow.ExampleConfig()
	mem := store.NewMemory(store.DefaultExpiry)
	r := flow.NewRouter(cfg, mem, flow.NewLocal(cfg), nil, quiet)
	rec := &recorder{}
	r.Observer = rec
	ctx := context.Background()
	r.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Voice})
	r.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Webhook, Words: "hi"})
	r.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Webhook, Words: "my invoice shows a double charge"})
	if len(rec.reports) != 3 {
		t.Fatalf("got %d reports, want 3", len(rec.reports))
	}
	first, clarify, route := rec.reports[0], rec.reports[1], rec.reports[2]
	if first.Before.State != "" || first.After.State != flow.StateListening {
		t.Errorf("first turn: %q -> %q, want a new call greeted", first.Before.State, first.After.State)
	}
	if clarify.After.Clarifications != clarify.Before.Clarifications+1 {
		t.Errorf("second turn should clarify: %+v", clarify.After)
	}
	a := route.After
	if a.State != flow.StateTransferred || a.Department != "billing" || a.Reason != "local" || a.Guess != "billing" || a.Confidence <= 0 {
		t.Errorf("third turn should route billing by the local classifier: %+v", a)
	}

	broken := flow.NewRouter(cfg, brokenStore{}, flow.NewLocal(cfg), nil, quiet)
	broken.Observer = rec
	broken.Next(ctx, flow.Turn{CallID: "c2", Channel: flow.Voice})
	last := rec.reports[len(rec.reports)-1]
	if last.Failed != "error" || last.After.Department != flow.Fallback || last.After.Reason != "error" {
		t.Errorf("a failed turn should report a transfer to the fallback desk: %+v", last)
	}
}
