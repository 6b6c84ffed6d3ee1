package load

import (
	"os"
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
