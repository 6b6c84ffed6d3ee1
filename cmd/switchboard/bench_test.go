package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/sim"
	"github.com/switchboard/switchboard/store/redistest"
)

// A three-turn call: greeting, a vague turn that is clarified, a request that is routed.
var benchCall = []sim.Step{{Say: "hi"}, {Say: "my invoice shows a double charge"}}

func benchService(b *testing.B, s settings) http.Handler {
	b.Helper()
	svc, err := build(context.Background(), s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.close() })
	return newServer(svc)
}

// BenchmarkCallInProcess measures the handler's own cost of one whole call
// (three fetches, three events), without the network: ns/op is per call.
func BenchmarkCallInProcess(b *testing.B) {
	for _, backend := range []string{"memory", "redis"} {
		b.Run(backend, func(b *testing.B) {
			s := settings{}
			if backend == "redis" {
				s.RedisURL = redistest.Start(b)
			}
			h := benchService(b, s)
			do := func(path, body string) {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				id := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)
				fetch := `{"activeflow_id":"af","reference_id":"` + id + `"}`
				do("/voipbin/fetch", fetch)
				do("/voipbin/events", `{"type":"transcribe_created","data":{"id":"tr-`+id+`","reference_type":"call","reference_id":"`+id+`"}}`)
				do("/voipbin/events", `{"type":"transcript_created","data":{"id":"a-`+id+`","transcribe_id":"tr-`+id+`","direction":"in","message":"hi"}}`)
				do("/voipbin/fetch", fetch)
				do("/voipbin/events", `{"type":"transcript_created","data":{"id":"b-`+id+`","transcribe_id":"tr-`+id+`","direction":"in","message":"my invoice shows a double charge"}}`)
				do("/voipbin/fetch", fetch)
			}
		})
	}
}

// BenchmarkLoad is a load run over loopback: simulated VoIPBin calls, 32 at
// a time, against a real HTTP server on Redis. It reports calls per second
// and the fetch latency percentiles VoIPBin would see.
func BenchmarkLoad(b *testing.B) {
	s := settings{RedisURL: redistest.Start(b)}
	srv := httptest.NewServer(benchService(b, s))
	b.Cleanup(srv.Close)
	var (
		mu        sync.Mutex
		latencies []time.Duration
		seq       atomic.Int64
	)
	client := &http.Client{Transport: &timingTransport{next: &http.Transport{MaxIdleConnsPerHost: 64}, record: func(path string, d time.Duration) {
		if path == "/voipbin/fetch" {
			mu.Lock()
			latencies = append(latencies, d)
			mu.Unlock()
		}
	}}}
	b.SetParallelism(16) // 2 cores x 16 = 32 calls in flight
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("load-%d-%d", start.UnixNano(), seq.Add(1))
			res, err := sim.Run(context.Background(), sim.Options{CallID: id, Bases: []string{srv.URL}, Client: client}, benchCall)
			if err != nil || res.Connected != "+14155550102" {
				b.Errorf("call %s: %v, connected %q", id, err, res.Connected)
				return
			}
		}
	})
	elapsed := time.Since(start)
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	if n := len(latencies); n > 0 {
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
		b.ReportMetric(float64(latencies[n/2].Microseconds())/1000, "fetch-p50-ms")
		b.ReportMetric(float64(latencies[n*99/100].Microseconds())/1000, "fetch-p99-ms")
	}
}

type timingTransport struct {
	next   http.RoundTripper
	record func(path string, d time.Duration)
}

func (t *timingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	t.record(r.URL.Path, time.Since(start))
	return resp, err
}

// BenchmarkModeCall measures one whole call in process on the memory store in
// each shipped mode, beside the plain conversation: ns/op is per call.
func BenchmarkModeCall(b *testing.B) {
	type turn struct {
		digits string // the next fetch carries these keys (&d=), when set
		say    string // the caller's words before the next fetch, when set
	}
	calls := []struct {
		name, config, lang string
		turns              []turn
	}{
		{"conversation", "", "en-US", []turn{{say: "hi"}, {say: "my invoice shows a double charge"}}},
		{"keypad", "modes/keypad.json", "", []turn{{digits: "2"}, {digits: "1"}}},
		{"hybrid", "modes/hybrid.json", "en-US", []turn{{digits: "123456789012"}, {say: "my invoice shows a double charge"}}},
		{"detect-language", "modes/multilingual.json", "es-ES", []turn{{say: "hola, me han cobrado dos veces la factura"}}},
		{"flow-step", "modes/flow-step.json", "en-US", []turn{{say: "my invoice shows a double charge"}}},
	}
	for _, call := range calls {
		b.Run(call.name, func(b *testing.B) {
			s := settings{}
			if call.config != "" {
				s.ConfigFile = "../../testdata/" + call.config
			}
			h := benchService(b, s)
			do := func(path, body string) {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				id := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)
				fetch := `{"activeflow_id":"af","reference_id":"` + id + `"}`
				do("/voipbin/fetch", fetch)
				if call.lang != "" {
					do("/voipbin/events", `{"type":"transcribe_created","data":{"id":"tr-`+id+`","reference_type":"call","reference_id":"`+id+`","language":"`+call.lang+`"}}`)
				}
				for j, t := range call.turns {
					path := "/voipbin/fetch"
					if t.digits != "" {
						path += "?d=" + t.digits
					}
					if t.say != "" {
						do("/voipbin/events", fmt.Sprintf(`{"type":"transcript_created","data":{"id":"%d-%s","transcribe_id":"tr-%s","direction":"in","message":%q}}`, j, id, id, t.say))
					}
					do(path, fetch)
				}
			}
		})
	}
}
