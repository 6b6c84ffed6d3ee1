package load

import (
	"os"
	"testing"
)

func TestProcSelf(t *testing.T) {
	pid := os.Getpid()
	x := 0
	for i := range 50_000_000 { // spend some CPU so that it shows
		x ^= i
	}
	_ = x
	cpu, err := ProcCPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	if cpu <= 0 {
		t.Errorf("ProcCPU = %v after spending CPU, want > 0", cpu)
	}
	rss, peak, err := ProcMem(pid)
	if err != nil {
		t.Fatal(err)
	}
	if rss <= 0 || peak < rss {
		t.Errorf("ProcMem = rss %d, peak %d; want 0 < rss <= peak", rss, peak)
	}
}
