package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/flow"
)

// RunCallbacks runs the callbacks' suite; newCallbacks must return an empty
// set of its own each time (subtests run in parallel).
func RunCallbacks(t *testing.T, newCallbacks func(t *testing.T) flow.Callbacks) {
	runSuite(t, newCallbacks, []named[flow.Callbacks]{
		{"BookOnce", testBookOnce},
		{"DialledOnce", testDialledOnce},
		{"Cancel", testCancel},
		{"Outcome", testOutcome},
	})
}

func callback(id string) flow.Callback {
	return flow.Callback{ID: id, Number: "+14155550123", Department: "billing", AtMS: time.Now().UnixMilli(), State: flow.CallbackWaiting}
}

func testBookOnce(t *testing.T, s flow.Callbacks) {
	ctx := context.Background()
	now := time.Now()
	if isNew, err := s.Book(ctx, callback("b"), now); err != nil || !isNew {
		t.Fatalf("Book = %v, %v", isNew, err)
	}
	if isNew, err := s.Book(ctx, callback("b"), now); err != nil || isNew {
		t.Fatalf("second Book = %v, %v; want not new", isNew, err)
	}
	if got, _ := s.Callbacks(ctx, 10); len(got) != 1 {
		t.Errorf("%d callbacks, want 1", len(got))
	}
}

// testDialledOnce: claimers at once claim each due callback once, and none
// before it is due.
func testDialledOnce(t *testing.T, s flow.Callbacks) {
	ctx := context.Background()
	now := time.Now()
	const n = 100
	for i := range n {
		if _, err := s.Book(ctx, callback(fmt.Sprint("d", i)), now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Book(ctx, callback("later"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	claimed := map[string]int{}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for range 2 * n {
				cb, ok, err := s.Claim(ctx, now, time.Hour)
				if err != nil || !ok {
					return
				}
				mu.Lock()
				claimed[cb.ID]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimed) != n || claimed["later"] != 0 {
		t.Errorf("%d callbacks claimed (later: %d), want %d, not the later one", len(claimed), claimed["later"], n)
	}
	for id, k := range claimed {
		if k != 1 {
			t.Errorf("callback %s claimed %d times", id, k)
		}
	}
}

// testCancel: a cancelled callback is never claimed again, even by an
// attempt that was under way and releases it as still waiting.
func testCancel(t *testing.T, s flow.Callbacks) {
	ctx := context.Background()
	now := time.Now()
	if _, err := s.Book(ctx, callback("x"), now); err != nil {
		t.Fatal(err)
	}
	cb, ok, _ := s.Claim(ctx, now, time.Minute)
	if !ok {
		t.Fatal("not claimed")
	}
	if ok, err := s.Cancel(ctx, "x"); err != nil || !ok {
		t.Fatalf("Cancel = %v, %v", ok, err)
	}
	cb.Attempts++
	if err := s.Release(ctx, cb, now, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Claim(ctx, now.Add(2*time.Minute), time.Minute); ok {
		t.Error("a cancelled callback was claimed")
	}
	if got, _ := s.Callbacks(ctx, 10); len(got) != 1 || got[0].State != flow.CallbackCancelled {
		t.Errorf("callbacks %+v, want it listed as cancelled", got)
	}
	if ok, _ := s.Cancel(ctx, "nobody"); ok {
		t.Error("cancelled a callback that does not exist")
	}
}

// testOutcome: an attempt's outcome is kept; a connected callback is never due again.
func testOutcome(t *testing.T, s flow.Callbacks) {
	ctx := context.Background()
	now := time.Now()
	if _, err := s.Book(ctx, callback("o"), now); err != nil {
		t.Fatal(err)
	}
	cb, _, _ := s.Claim(ctx, now, time.Minute)
	cb.Attempts, cb.Outcomes = 1, []string{"not answered"}
	if err := s.Release(ctx, cb, now.Add(time.Minute), time.Hour); err != nil {
		t.Fatal(err)
	}
	cb, ok, _ := s.Claim(ctx, now.Add(time.Minute), time.Minute)
	if !ok || len(cb.Outcomes) != 1 {
		t.Fatalf("retry %+v, %v", cb, ok)
	}
	cb.State, cb.Outcomes = flow.CallbackConnected, append(cb.Outcomes, "connected")
	if err := s.Release(ctx, cb, now, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Claim(ctx, now.Add(time.Hour), time.Minute); ok {
		t.Error("a connected callback was claimed again")
	}
	if got, _ := s.Callbacks(ctx, 10); len(got) != 1 || got[0].State != flow.CallbackConnected || len(got[0].Outcomes) != 2 {
		t.Errorf("callbacks %+v", got)
	}
}
