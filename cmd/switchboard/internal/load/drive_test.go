package load

import (
	"context"
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
