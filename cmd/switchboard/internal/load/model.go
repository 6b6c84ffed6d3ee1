// Package load drives Switchboard, and the seed article's server beside it,
// with traffic over loopback: VoIPBin calls played by the simulator, or
// requests to the seed's speech webhook. It starts what a run needs (a model
// stand-in, a private redis-server, the servers as child processes), measures
// latency at the client and CPU time and memory of each server process from
// /proc, and stops everything when the run ends. Every run is bounded in time
// and in count.
package load

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Model is a stand-in for an OpenAI-compatible chat-completions endpoint on
// loopback. It answers after a fixed latency with the department whose
// keyword the last user message contains, "unknown" otherwise, and counts the
// TCP connections opened to it.
type Model struct {
	URL     string // base URL, ending in /v1
	srv     *http.Server
	conns   atomic.Int64
	reqs    atomic.Int64
	latency atomic.Int64 // nanoseconds
}

// modelKeywords are the stand-in's whole understanding of language.
var modelKeywords = []struct{ word, dept string }{
	{"invoice", "billing"}, {"charge", "billing"}, {"refund", "billing"},
	{"password", "support"}, {"crash", "support"}, {"error", "support"},
	{"price", "sales"}, {"quote", "sales"}, {"buy", "sales"},
}

// StartModel starts a stand-in answering after latency. It stops when ctx ends.
func StartModel(ctx context.Context, latency time.Duration) (*Model, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	m := &Model{URL: "http://" + ln.Addr().String() + "/v1"}
	m.SetLatency(latency)
	answers := map[string][]byte{}
	for _, d := range []string{"billing", "support", "sales", "unknown"} {
		answers[d] = completion(d)
	}
	m.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m.reqs.Add(1)
			var req struct {
				Messages []struct{ Role, Content string } `json:"messages"`
			}
			if r.URL.Path != "/v1/chat/completions" || json.NewDecoder(r.Body).Decode(&req) != nil || len(req.Messages) == 0 {
				http.Error(w, `{"error":{"message":"bad request","type":"invalid_request_error"}}`, http.StatusBadRequest)
				return
			}
			dept := "unknown"
			user := strings.ToLower(req.Messages[len(req.Messages)-1].Content)
			for _, k := range modelKeywords {
				if strings.Contains(user, k.word) {
					dept = k.dept
					break
				}
			}
			if latency := time.Duration(m.latency.Load()); latency > 0 {
				t := time.NewTimer(latency)
				select {
				case <-t.C:
				case <-r.Context().Done():
					t.Stop()
					return
				}
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(answers[dept])
		}),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				m.conns.Add(1)
			}
		},
	}
	go func() { _ = m.srv.Serve(ln) }()
	go func() { <-ctx.Done(); _ = m.srv.Close() }()
	return m, nil
}

// SetLatency sets how long the stand-in takes to answer from now on.
func (m *Model) SetLatency(d time.Duration) { m.latency.Store(int64(d)) }

// Conns is the number of TCP connections opened to the stand-in so far.
func (m *Model) Conns() int64 { return m.conns.Load() }

// Requests is the number of requests the stand-in has received so far.
func (m *Model) Requests() int64 { return m.reqs.Load() }

func completion(content string) []byte {
	return fmt.Appendf(nil, `{"id":"chatcmpl-standin","object":"chat.completion","created":1767225600,"model":"stand-in",`+
		`"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":%q}}],`+
		`"usage":{"prompt_tokens":120,"completion_tokens":1,"total_tokens":121}}`, content)
}
