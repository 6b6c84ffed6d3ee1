package main

import (
	"net/http"
	"net/http/pprof"
)

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
