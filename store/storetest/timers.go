package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/flow"
)

// RunTimers runs the handoff timers' suite; newTimers must return an empty
// set of its own each time (subtests run in parallel).
func RunTimers(t *testing.T, newTimers func(t *testing.T) flow.Timers) {
	runSuite(t, newTimers, []named[flow.Timers]{
		{"ClaimWhenDue", testTimerWhenDue},
		{"ClaimOnce", testTimerOnce},
		{"LeaseRunsOut", testTimerLease},
		{"DoneForgets", testTimerDone},
	})
}

func timer(leg string, at time.Time) flow.Timer {
	return flow.Timer{Call: "call-" + leg, Leg: leg, Kind: flow.TimerRingEnd, AtMS: at.UnixMilli()}
}

func claim(t *testing.T, s flow.Timers, now time.Time, lease time.Duration) (flow.Timer, bool) {
	t.Helper()
	got, ok, err := s.Claim(context.Background(), now, lease)
	if err != nil {
		t.Fatal(err)
	}
	return got, ok
}

func set(t *testing.T, s flow.Timers, tm flow.Timer) {
	t.Helper()
	if err := s.Set(context.Background(), tm); err != nil {
		t.Fatal(err)
	}
}

// testTimerWhenDue: a timer is claimed when it is due, not before; set twice, it is one timer.
func testTimerWhenDue(t *testing.T, s flow.Timers) {
	now := time.Now()
	due, later := timer("due", now.Add(-time.Millisecond)), timer("later", now.Add(time.Hour))
	set(t, s, due)
	set(t, s, due)
	set(t, s, later)
	if got, ok := claim(t, s, now, 2*time.Hour); !ok || got != due {
		t.Fatalf("Claim = %+v, %v; want %+v", got, ok, due)
	}
	if got, ok := claim(t, s, now, 2*time.Hour); ok {
		t.Fatalf("second Claim = %+v; want nothing: the due timer is held, set twice is once, the other is not due", got)
	}
	if got, ok := claim(t, s, now.Add(time.Hour), time.Minute); !ok || got != later {
		t.Fatalf("Claim an hour on = %+v, %v; want %+v", got, ok, later)
	}
}

// testTimerOnce: replicas claiming at once each get a different timer.
func testTimerOnce(t *testing.T, s flow.Timers) {
	now := time.Now()
	const n = 30
	for i := range n {
		set(t, s, timer(fmt.Sprint("leg", i), now.Add(-time.Duration(i)*time.Millisecond)))
	}
	var mu sync.Mutex
	seen := map[flow.Timer]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				got, ok, err := s.Claim(context.Background(), now, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				seen[got]++
				again := seen[got] > 1
				mu.Unlock()
				if again {
					return // held by another already: no need to go on
				}
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d timers claimed; want %d", len(seen), n)
	}
	for tm, k := range seen {
		if k != 1 {
			t.Errorf("%+v claimed %d times; want once", tm, k)
		}
	}
}

// testTimerLease: a timer claimed and never done comes back when its lease
// runs out (its replica died).
func testTimerLease(t *testing.T, s flow.Timers) {
	now := time.Now()
	tm := timer("held", now)
	set(t, s, tm)
	if _, ok := claim(t, s, now, time.Second); !ok {
		t.Fatal("not claimed")
	}
	if _, ok := claim(t, s, now.Add(999*time.Millisecond), time.Second); ok {
		t.Fatal("claimed again within its lease")
	}
	if got, ok := claim(t, s, now.Add(time.Second), time.Second); !ok || got != tm {
		t.Fatalf("after the lease Claim = %+v, %v; want %+v", got, ok, tm)
	}
}

// testTimerDone: a timer done is never claimed again.
func testTimerDone(t *testing.T, s flow.Timers) {
	now := time.Now()
	tm := timer("done", now)
	set(t, s, tm)
	got, ok := claim(t, s, now, time.Millisecond)
	if !ok {
		t.Fatal("not claimed")
	}
	if err := s.Done(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	if got, ok := claim(t, s, now.Add(time.Hour), time.Millisecond); ok {
		t.Fatalf("Claim after Done = %+v; want nothing", got)
	}
}
