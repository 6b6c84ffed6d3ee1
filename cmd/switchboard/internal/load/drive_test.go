package load

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestDriveStopsAtMax(t *testing.T) {
	var n atomic.Int64
	got, _ := Drive(context.Background(), Plan{InFlight: 4, Duration: time.Minute, Max: 100}, func(context.Context) { n.Add(1) })
	if got != 100 || n.Load() != 100 {
		t.Errorf("Drive started %d, did %d, want 100 each", got, n.Load())
	}
}

func TestDriveStopsAtDuration(t *testing.T) {
	var n atomic.Int64
	got, took := Drive(context.Background(), Plan{Rate: 1000, InFlight: 4, Duration: 50 * time.Millisecond, Max: 1 << 40},
		func(context.Context) { n.Add(1) })
	if got != n.Load() || got == 0 {
		t.Errorf("Drive reported %d started, did %d", got, n.Load())
	}
	if took > 10*time.Second {
		t.Errorf("a 50 ms run took %v", took)
	}
}

func TestSummary(t *testing.T) {
	var l Latencies
	for i := 1; i <= 100; i++ {
		l.Add(time.Duration(i) * time.Millisecond)
	}
	s := l.Summary()
	if s.N != 100 || s.P50 != 51*time.Millisecond || s.P99 != 100*time.Millisecond || s.Max != 100*time.Millisecond {
		t.Errorf("Summary = %+v", s)
	}
}

func TestDriveRampSpreadsFirstStarts(t *testing.T) {
	var (
		mu     sync.Mutex
		starts []time.Duration
	)
	begin := time.Now()
	Drive(context.Background(), Plan{InFlight: 4, Duration: time.Minute, Max: 4, Ramp: 400 * time.Millisecond}, func(context.Context) {
		mu.Lock()
		starts = append(starts, time.Since(begin))
		mu.Unlock()
		time.Sleep(500 * time.Millisecond) // busy past the ramp: each slot starts once
	})
	slices.Sort(starts)
	if len(starts) != 4 {
		t.Fatalf("%d starts, want 4", len(starts))
	}
	for i, d := range starts {
		if d < time.Duration(i)*100*time.Millisecond {
			t.Errorf("start %d at %v, want none before %v: the ramp spreads them 100 ms apart", i, d, time.Duration(i)*100*time.Millisecond)
		}
	}
}
