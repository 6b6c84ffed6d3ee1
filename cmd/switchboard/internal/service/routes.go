package service

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/logs"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/flow"
)

// newServer returns the service's HTTP handler; every route is here.
func newServer(svc *Service) http.Handler {
	r := chi.NewRouter()
	r.Use(markArrival, logRequests(svc))
	r.Post(voipbin.FetchPath, handleFetch(svc))
	r.Post(voipbin.EventsPath, handleEvent(svc))
	r.Post(voipbin.HandoffPath, handleHandoff(svc))
	r.Post(voipbin.HandoffAgentPath, handleHandoffAgent(svc))
	r.Post(voipbin.CallbackPath, handleCallbackFetch(svc))
	r.Post("/webhook/call-handler", handleCallHandler(svc))
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", handleReady(svc))
	if svc.conf.PublicMetrics() {
		r.Method(http.MethodGet, "/metrics", svc.metrics.handler())
	}
	return r
}

// metricsHandler is the --metrics-addr listener's: /metrics and nothing else.
func metricsHandler(svc *Service) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", svc.metrics.handler())
	return mux
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

func handleReady(svc *Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if err := svc.store.Ping(ctx); err != nil {
			// Probes come every few seconds: say so once when the store goes, not each time.
			if svc.storeDown.CompareAndSwap(false, true) {
				svc.log.WarnContext(r.Context(), "not ready: store unreachable", "err", err)
			}
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "store unreachable"})
			return
		}
		if svc.storeDown.CompareAndSwap(true, false) {
			svc.log.InfoContext(r.Context(), "ready again: store reachable")
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}
}

// logRequests gives every request an id that each of its log lines carries
// (the caller's X-Request-Id, else one of ours), counts it in the request
// metrics and, at debug level, logs it.
func logRequests(svc *Service) func(http.Handler) http.Handler {
	prefix := uuid.NewString()[:8] + "-" // tells this process's ids from another replica's
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := requestID(r.Header.Get(middleware.RequestIDHeader))
			if id == "" {
				id = prefix + strconv.FormatUint(middleware.NextRequestID(), 10)
			}
			ctx := logs.With(r.Context(), slog.String("req", id))
			r = r.WithContext(ctx)
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			took := time.Since(start)
			svc.metrics.observeRequest(chi.RouteContext(ctx).RoutePattern(), ww.Status(), took)
			if svc.log.Enabled(ctx, slog.LevelDebug) { // below debug, the line costs nothing
				svc.log.DebugContext(ctx, "http", "method", r.Method, "path", r.URL.Path, "status", ww.Status(),
					"ms", took.Milliseconds())
			}
		})
	}
}

// maxRequestID bounds the caller's X-Request-Id as logged: a header may be
// up to 1 MB, and every line the request writes carries it.
const maxRequestID = 128

// requestID is the caller's X-Request-Id fit for a log: printable runes
// only, at most maxRequestID bytes; "" when none is left.
func requestID(h string) string {
	var b strings.Builder
	for _, r := range h {
		if !unicode.IsPrint(r) || r == utf8.RuneError {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > maxRequestID {
			break
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// withCall puts a call's id on every line the rest of the request logs.
func withCall(r *http.Request, callID string) *http.Request {
	if callID == "" {
		return r
	}
	ctx := logs.Add(r.Context(), slog.String("call", callID))
	if ctx == r.Context() { // added to the request's scope: r already carries it
		return r
	}
	return r.WithContext(ctx)
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

// NewHTTPServer is the server for Handler: it bounds every phase of a connection: VoIPBin's requests are
// small and quick, so a client that dawdles is dropped, not waited for.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second, // above eventPatience
		IdleTimeout:       60 * time.Second,
	}
}
