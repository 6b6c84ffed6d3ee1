package main

// The process's runtime: Go's collector as serve sets it, and the profiler.

import (
	"net/http"
	"net/http/pprof"
	"runtime/debug"
)

// serve's collector settings, unless GOGC or GOMEMLIMIT say otherwise.
//
// A turn's garbage is small and short-lived and the live heap is tens of
// MiB: at Go's default (GOGC=100) the collector runs every few milliseconds
// under load, costing CPU and setting the tail of the fetch latency (p99
// halved at 400 in BENCHMARKS.md). So the heap may grow to 5 times the live
// data before a collection; past 256 MiB the collector works harder, so that
// a thousand requests in flight (about 90 MiB live) do not hold 450.
const (
	gcPercent   = 400
	memoryLimit = 256 << 20
)

// tuneGC applies serve's collector settings where the environment is silent.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// debugHandler serves Go's profiler, for `go tool pprof
// http://ADDR/debug/pprof/profile?seconds=10` on a running server. It lives
// on its own listener (--debug-addr) so that the service's routes never
// expose it.
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
