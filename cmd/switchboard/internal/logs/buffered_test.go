package logs

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read while the log writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestBufferedLogKeepsLinesWholeAndFlushes(t *testing.T) {
	var out syncBuffer
	l := NewBuffered(&out)
	log := slog.New(slog.NewJSONHandler(l, nil))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 500 {
				log.Info("turn", "writer", i, "pad", strings.Repeat("x", 200))
			}
		})
	}
	wg.Wait()
	// Without Close, the lines still arrive: the flusher writes them out.
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(out.String(), "\n") < 4000 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := strings.Count(out.String(), "\n"); n < 4000 {
		t.Errorf("%d of 4000 lines written out 10 s after logging, before Close", n)
	}
	log.Info("last")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 4001 {
		t.Fatalf("%d lines, want 4001", len(lines))
	}
	for _, line := range lines {
		if !strings.HasPrefix(line, "{") || !strings.HasSuffix(line, "}") {
			t.Fatalf("torn line: %q", line)
		}
	}
	if !strings.Contains(lines[4000], `"msg":"last"`) {
		t.Errorf("last line %q: Close did not write out the buffer", lines[4000])
	}
}
