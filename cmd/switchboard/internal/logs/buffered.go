package logs

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// FlushEvery is how stale the service's log output may get: the most a
// crash can lose.
const FlushEvery = 100 * time.Millisecond

// Buffered batches the service's log lines into few writes: a write to
// stderr is a system call, and one per log line was a tenth of a turn's CPU
// time. Each Write is one whole record (slog writes a record at once), kept
// whole. Lines reach w within FlushEvery, and at Close.
type Buffered struct {
	mu   sync.Mutex
	buf  *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// NewBuffered starts flushing to w every FlushEvery; Close stops it.
func NewBuffered(w io.Writer) *Buffered {
	l := &Buffered{buf: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(FlushEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				l.flush()
			case <-l.stop:
				l.flush()
				return
			}
		}
	}()
	return l
}

func (l *Buffered) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *Buffered) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.buf.Flush()
}

// Close writes out what is buffered and stops the flushing.
func (l *Buffered) Close() error {
	close(l.stop)
	<-l.done
	return nil
}
