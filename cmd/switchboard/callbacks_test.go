package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/redistest"
)

// TestCallbacksCommand: switchboard callbacks lists the callbacks kept in
// Redis, cancels one (which is then never due again), and makes a waiting
// one due now. (That the dialler skips a cancelled callback and dials a due
// one is the service's test, TestCallbacks*.)
func TestCallbacksCommand(t *testing.T) {
	url := redistest.Start(t)
	ctx := context.Background()
	r, err := store.OpenRedis(ctx, url, store.DefaultExpiry)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cbs := r.Callbacks("")
	id := voipbintest.WireID(fmt.Sprint("cmd-", time.Now().UnixNano()))
	now := time.Now()
	if _, err := cbs.Book(ctx, flow.Callback{ID: id, Number: "+14155550123", Department: "billing", AtMS: now.UnixMilli(),
		DueMS: now.UnixMilli(), State: flow.CallbackWaiting}, now); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string { return map[string]string{"REDIS_URL": url}[k] }
	var out bytes.Buffer
	if err := run(ctx, []string{"callbacks"}, env, &out, &out); err != nil || !strings.Contains(out.String(), id+"  billing") {
		t.Fatalf("callbacks: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"callbacks", "--cancel", id}, env, &out, &out); err != nil {
		t.Fatalf("callbacks --cancel: %v\n%s", err, out.String())
	}
	if cb, _, err := cbs.Get(ctx, id); err != nil || cb.State != flow.CallbackCancelled {
		t.Errorf("after --cancel: state %q, err %v; want cancelled", cb.State, err)
	}
	if err := run(ctx, []string{"callbacks", "--now", id}, env, &out, &out); err == nil {
		t.Error("--now made a cancelled callback due")
	}
	// One booked for tomorrow is due now when asked.
	later := voipbintest.WireID(fmt.Sprint("cmd-later-", time.Now().UnixNano()))
	if _, err := cbs.Book(ctx, flow.Callback{ID: later, Number: "+14155550123", Dialled: voipbintest.DefaultDialled, Department: "billing",
		AtMS: now.UnixMilli(), State: flow.CallbackWaiting}, now.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"callbacks", "--now", later}, env, &out, &out); err != nil {
		t.Fatalf("callbacks --now: %v\n%s", err, out.String())
	}
	if cb, _, err := cbs.Get(ctx, later); err != nil || cb.State != flow.CallbackWaiting || time.UnixMilli(cb.DueMS).After(time.Now()) {
		t.Errorf("after --now: %+v, err %v; want waiting and due", cb, err)
	}
	out.Reset()
	_ = run(ctx, []string{"callbacks"}, env, &out, &out)
	if !strings.Contains(out.String(), "cancelled") {
		t.Errorf("the list does not show it cancelled:\n%s", out.String())
	}
}
