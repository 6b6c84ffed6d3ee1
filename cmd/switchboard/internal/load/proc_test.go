package load

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestProcSelf(t *testing.T) {
	pid := os.Getpid()
	// Spend CPU until it shows: /proc counts in ticks of 10 ms.
	var cpu time.Duration
	var err error
	x := 0
	for deadline := time.Now().Add(10 * time.Second); cpu == 0 && time.Now().Before(deadline); {
		for i := range 1_000_000 {
			x ^= i * i
		}
		if cpu, err = ProcCPU(pid); err != nil {
			t.Fatal(err)
		}
	}
	if cpu <= 0 {
		t.Errorf("ProcCPU = %v after spending CPU for 10 s, want > 0 (%d)", cpu, x)
	}
	rss, peak, err := ProcMem(pid)
	if err != nil {
		t.Fatal(err)
	}
	if rss <= 0 || peak < rss {
		t.Errorf("ProcMem = rss %d, peak %d; want 0 < rss <= peak", rss, peak)
	}
}

// TestShortfallIsSaid: a run that reached less than the rate asked for says
// so with both figures; one within 5% of it, or unpaced, says nothing.
func TestShortfallIsSaid(t *testing.T) {
	var b strings.Builder
	sayShortfall(&b, 2000, 1544, "turns/s", 64, "calls")
	if !strings.Contains(b.String(), "SHORT OF THE RATE ASKED: 1544 of 2000 turns/s (77%)") {
		t.Errorf("got %q", b.String())
	}
	b.Reset()
	sayShortfall(&b, 2000, 1950, "turns/s", 64, "calls")
	sayShortfall(&b, 0, 10, "req/s", 64, "requests")
	if b.Len() != 0 {
		t.Errorf("said a shortfall where there is none: %q", b.String())
	}
}
