package load

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Plan bounds a run: how fast work starts, how much is in flight, for how
// long, and how much in all. A run stops at whichever bound comes first.
type Plan struct {
	Rate     float64 // starts per second; 0 starts the next as soon as one ends
	InFlight int     // at most this many at once
	Duration time.Duration
	Max      int64 // starts at most
	// Ramp spreads the first starts of a closed loop (Rate 0) evenly over
	// this long. Started in the same instant against a server whose answers
	// take a fixed time, every slot would stay in step and hit the server in
	// one burst per answer time, a pattern no caller population makes: set
	// it to the model's latency.
	Ramp time.Duration
}

// Drive calls do according to p until its time or count is up, or ctx ends,
// and returns how many it started and how long that took.
func Drive(ctx context.Context, p Plan, do func(ctx context.Context)) (int64, time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, p.Duration)
	defer cancel()
	var started atomic.Int64
	take := func() bool { return ctx.Err() == nil && started.Add(1) <= p.Max }
	tokens := make(chan struct{})
	start := time.Now()
	var wg sync.WaitGroup
	slots := max(p.InFlight, 1)
	for i := range slots {
		wg.Go(func() {
			if p.Rate == 0 && p.Ramp > 0 {
				select {
				case <-time.After(p.Ramp * time.Duration(i) / time.Duration(slots)):
				case <-ctx.Done():
					return
				}
			}
			for {
				if p.Rate > 0 {
					select {
					case <-tokens:
					case <-ctx.Done():
						return
					}
				}
				if !take() {
					cancel()
					return
				}
				do(context.WithoutCancel(ctx)) // work started is finished, not cut off
			}
		})
	}
	if p.Rate > 0 {
		// Open loop: starts are due at the rate whatever the answers' latency;
		// when every slot is busy the pacer waits, and the achieved rate shows it.
		var sent int64
	pace:
		for ctx.Err() == nil {
			due := int64(time.Since(start).Seconds() * p.Rate)
			for ; sent < due; sent++ {
				select {
				case tokens <- struct{}{}:
				case <-ctx.Done():
					break pace
				}
			}
			time.Sleep(time.Millisecond)
		}
	}
	wg.Wait()
	return min(started.Load(), p.Max), time.Since(start)
}

// Latencies collects durations and summarises them.
type Latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

// Add records one duration.
func (l *Latencies) Add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// Reset forgets every recorded duration.
func (l *Latencies) Reset() {
	l.mu.Lock()
	l.d = l.d[:0]
	l.mu.Unlock()
}

// Summary is a latency distribution in brief.
type Summary struct {
	N                  int
	P50, P95, P99, Max time.Duration
}

// Summary returns the distribution of the durations recorded so far.
func (l *Latencies) Summary() Summary {
	l.mu.Lock()
	d := slices.Clone(l.d)
	l.mu.Unlock()
	if len(d) == 0 {
		return Summary{}
	}
	slices.Sort(d)
	return Summary{N: len(d), P50: d[len(d)/2], P95: d[len(d)*95/100], P99: d[len(d)*99/100], Max: d[len(d)-1]}
}

func (s Summary) String() string {
	return fmt.Sprintf("p50 %s  p99 %s  max %s", ms(s.P50), ms(s.P99), ms(s.Max))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// Timing is an http.RoundTripper that records the latency of requests to one
// path: from sending the request to having the response's headers.
type Timing struct {
	Next http.RoundTripper
	Path string
	Lat  *Latencies
}

// RoundTrip implements http.RoundTripper.
func (t *Timing) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.Next.RoundTrip(r)
	if err == nil && r.URL.Path == t.Path {
		t.Lat.Add(time.Since(start))
	}
	return resp, err
}

// Client returns an HTTP client for conns requests in flight to one host,
// each recorded by timing when it is not nil.
func Client(conns int, timing *Timing) *http.Client {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute}
	if timing == nil {
		return &http.Client{Transport: tr, Timeout: 30 * time.Second}
	}
	timing.Next = tr
	return &http.Client{Transport: timing, Timeout: 30 * time.Second}
}
