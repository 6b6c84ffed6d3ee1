package voipbintest

import (
	"context"
	"fmt"
	"net"
	"net/http"
)

// Server is an HTTP server on a free loopback port: the stand-ins' own
// small httptest.Server, so that a binary running them (simulate, load)
// links no test code.
type Server struct {
	URL string // http://127.0.0.1:port, no trailing slash
	srv *http.Server
}

// Serve starts h on a free loopback port; the caller closes it. Like
// httptest.NewServer it panics when no port can be had: nothing can run
// without one.
func Serve(h http.Handler) *Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("voipbintest: listening on a loopback port: %v", err))
	}
	s := &Server{URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: h}}
	go s.srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed on Close
	return s
}

// Close stops accepting, lets the requests in flight finish (as
// httptest.Server.Close does) and drops the default client's idle
// connections to it.
func (s *Server) Close() {
	_ = s.srv.Shutdown(context.Background())
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
}
