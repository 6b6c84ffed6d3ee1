package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/switchboard/switchboard/flow"
)

// maxBody bounds every request body: VoIPBin's are a few hundred bytes.
const maxBody = 64 << 10

// newServer returns the service's HTTP handler; every route is here.
func newServer(svc *service) http.Handler {
	r := chi.NewRouter()
	r.Use(markArrival, logRequests(svc))
	r.Post("/voipbin/fetch", handleFetch(svc))
	r.Post("/voipbin/events", handleEvent(svc))
	r.Post("/webhook/call-handler", handleCallHandler(svc))
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", handleReady(svc))
	return r
}

type arrivalKey struct{}

// markArrival notes when a request arrived: a fetch's time budget runs from
// then, since VoIPBin's clock started when it sent the request.
func markArrival(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), arrivalKey{}, time.Now())))
	})
}

// arrival is when r arrived (now, for a request that did not pass markArrival).
func arrival(r *http.Request) time.Time {
	if t, ok := r.Context().Value(arrivalKey{}).(time.Time); ok {
		return t
	}
	return time.Now()
}

func handleReady(svc *service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if err := svc.store.Ping(ctx); err != nil {
			svc.log.Warn("not ready", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "store unreachable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}
}

// logRequests writes the debug-level access log. Below debug level a request
// pays nothing for it: no request id, no response wrapper, no clock.
func logRequests(svc *service) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		logged := middleware.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			svc.log.Debug("http", "method", r.Method, "path", r.URL.Path, "status", ww.Status(),
				"ms", time.Since(start).Milliseconds(), "req", middleware.GetReqID(r.Context()))
		}))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !svc.log.Enabled(r.Context(), slog.LevelDebug) {
				next.ServeHTTP(w, r)
				return
			}
			logged.ServeHTTP(w, r)
		})
	}
}

// problem is the body of every 4xx and 5xx answer.
type problem struct {
	Error    string   `json:"error"`
	Problems []string `json:"problems,omitempty"`
}

// movesHeader shows, on a turn's answer, the moves the call made through the
// state machine ("listening -classify-> classifying, classifying -route->
// transferred"): platforms ignore it; people and the simulator read it.
const movesHeader = "Switchboard-Moves"

func setMoves(w http.ResponseWriter, moves flow.Moves) {
	if len(moves) > 0 {
		w.Header().Set(movesHeader, moves.String())
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // "Billing & Accounts", not "Billing \u0026 Accounts"
	_ = enc.Encode(v)
}

func writeProblem(w http.ResponseWriter, status int, msg string, problems ...string) {
	writeJSON(w, status, problem{Error: msg, Problems: problems})
}
