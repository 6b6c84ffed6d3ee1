package service

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

	"github.com/switchboard/switchboard/cmd/switchboard/internal/load"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
	"github.com/switchboard/switchboard/store/redistest"
)

// A three-turn call: greeting, a vague turn that is clarified, a request that is routed.
var benchCall = []voipbintest.Step{{Say: "hi", SpeakMS: 1000}, {Say: "my invoice shows a double charge", SpeakMS: 1000}}

func benchService(b *testing.B, s Config) http.Handler {
	b.Helper()
	svc, err := New(context.Background(), s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.close() })
	return newServer(svc)
}

// benchPost returns a function that posts a body to h in process and fails
// the benchmark on any answer but 200.
func benchPost(b *testing.B, h http.Handler) func(path, body string) {
	return func(path, body string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
}

// BenchmarkCallInProcess measures the handler's own cost of one whole call
// (three fetches, three events), without the network: ns/op is per call.
func BenchmarkCallInProcess(b *testing.B) {
	for _, backend := range []string{"memory", "redis"} {
		b.Run(backend, func(b *testing.B) {
			s := Config{}
			if backend == "redis" {
				s.RedisURL = redistest.Start(b)
			}
			do := benchPost(b, benchService(b, s))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				id, tr := vid(fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)), vid(fmt.Sprint("tr-bench-", time.Now().UnixNano(), "-", i)) // VoIPBin ids are UUIDs
				fetch := `{"activeflow_id":"` + vid("af") + `","reference_id":"` + id + `"}`
				do("/voipbin/fetch", fetch)
				do("/voipbin/events", `{"type":"transcribe_created","data":{"id":"`+tr+`","reference_type":"call","reference_id":"`+id+`"}}`)
				do("/voipbin/events", `{"type":"transcript_created","data":{"id":"`+vid("a-"+id)+`","transcribe_id":"`+tr+`","direction":"in","message":"hi"}}`)
				do("/voipbin/fetch", fetch)
				do("/voipbin/events", `{"type":"transcript_created","data":{"id":"`+vid("b-"+id)+`","transcribe_id":"`+tr+`","direction":"in","message":"my invoice shows a double charge"}}`)
				do("/voipbin/fetch", fetch)
			}
		})
	}
}

// BenchmarkLoad is a load run over loopback: simulated VoIPBin calls, 32 at
// a time, against a real HTTP server on Redis. It reports calls per second
// and the fetch latency percentiles VoIPBin would see.
func BenchmarkLoad(b *testing.B) {
	s := Config{RedisURL: redistest.Start(b)}
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
			res, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: id, Bases: []string{srv.URL}, Client: client}, benchCall)
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

// benchModel is a model stand-in answering at once, with the department of
// the first keyword it knows in the caller's words.
func benchModel(b *testing.B) string {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	m, err := load.StartModel(ctx, 0)
	if err != nil {
		b.Fatal(err)
	}
	return m.URL
}

// BenchmarkWebhook measures one request to the seed's speech webhook in
// process, with the model asked over loopback: allocs/op is per request.
func BenchmarkWebhook(b *testing.B) {
	for _, tc := range []struct{ name, words, want string }{
		{"model", "my invoice shows a double charge", "+14155550102"},
		{"priority", "our production system is down", "+14155550911"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h := benchService(b, Config{OpenAIKey: "stand-in", OpenAIURL: benchModel(b)})
			body := `{"speech":{"results":[{"text":"` + tc.words + `"}]}}`
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/webhook/call-handler", strings.NewReader(body)))
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), tc.want) {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// BenchmarkFetch measures one VoIPBin fetch of a three-turn call on Redis, in
// process, with the model asked over loopback: ns/op and allocs/op are per
// fetch, averaged over the call's four fetches (greeting, two clarifying
// questions, the transfer), the events that feed them excluded.
func BenchmarkFetch(b *testing.B) { benchTurns(b, false) }

// BenchmarkCallerTurn is BenchmarkFetch with the caller's transcript_created
// events timed too: ns/op is what a fetch and the words before it cost
// together, wherever the decision is made.
func BenchmarkCallerTurn(b *testing.B) { benchTurns(b, true) }

func benchTurns(b *testing.B, timeEvents bool) {
	h := benchService(b, Config{RedisURL: redistest.Start(b), OpenAIKey: "stand-in", OpenAIURL: benchModel(b)})
	do := func(path, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		return rec
	}
	said := []string{"hello", "I have a question about my account", "my invoice shows a double charge"}
	b.ReportAllocs()
	prefix := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	i := 0
	for b.Loop() {
		// Each op is one fetch; a call's events are sent, untimed, before its
		// fetches. The fifth fetch hands out the connect after the
		// announcement of the fourth.
		turn := i % 5
		id := vid(fmt.Sprintf("%s-%d", prefix, i/5)) // VoIPBin ids are UUIDs
		tr := vid("tr-" + id)
		if turn > 0 && turn < 4 {
			b.StopTimer()
			if turn == 1 {
				do("/voipbin/events", `{"type":"transcribe_created","data":{"id":"`+tr+`","reference_type":"call","reference_id":"`+id+`"}}`)
			}
			if timeEvents {
				b.StartTimer()
			}
			do("/voipbin/events", fmt.Sprintf(`{"type":"transcript_created","data":{"id":"%s","transcribe_id":"%s","direction":"in","message":%q}}`, vid(fmt.Sprint(id, "-", turn)), tr, said[turn-1]))
			b.StartTimer()
		}
		rec := do("/voipbin/fetch", `{"activeflow_id":"`+vid("af")+`","reference_id":"`+id+`"}`)
		if turn == 4 && !strings.Contains(rec.Body.String(), "+14155550102") {
			b.Fatalf("call %s not transferred to billing: %s", id, rec.Body)
		}
		i++
	}
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
		{"hours-open", "routing-hours.json", "en-US", []turn{{say: "hi"}, {say: "my invoice shows a double charge"}}},
		{"hours-closed", "routing-hours.json", "en-US", []turn{{say: "hi"}, {say: "I want to buy twenty more licenses"}}},
	}
	// When the calls start (serve --at), for opening hours: Billing open, Sales closed.
	at := map[string]string{"hours-open": "2026-12-02T10:00", "hours-closed": "2026-12-02T19:30"}
	for _, call := range calls {
		b.Run(call.name, func(b *testing.B) {
			s := Config{At: at[call.name]}
			if call.config != "" {
				s.ConfigFile = "../../../../testdata/" + call.config
			}
			do := benchPost(b, benchService(b, s))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				id, tr := vid(fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)), vid(fmt.Sprint("tr-bench-", time.Now().UnixNano(), "-", i)) // VoIPBin ids are UUIDs
				fetch := `{"activeflow_id":"` + vid("af") + `","reference_id":"` + id + `"}`
				do("/voipbin/fetch", fetch)
				if call.lang != "" {
					do("/voipbin/events", `{"type":"transcribe_created","data":{"id":"`+tr+`","reference_type":"call","reference_id":"`+id+`","language":"`+call.lang+`"}}`)
				}
				for j, t := range call.turns {
					path := "/voipbin/fetch"
					if t.digits != "" {
						path += "?d=" + t.digits
					}
					if t.say != "" {
						do("/voipbin/events", fmt.Sprintf(`{"type":"transcript_created","data":{"id":"%s","transcribe_id":"%s","direction":"in","message":%q}}`, vid(fmt.Sprint(j, "-", id)), tr, t.say))
					}
					do(path, fetch)
				}
			}
		})
	}
}
