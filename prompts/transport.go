package prompts

import (
	"net"
	"net/http"
	"time"
)

// DefaultMaxConcurrent is the model requests one process keeps in flight at
// most, and so the connections it keeps open to the model: enough for a
// thousand callers waiting on a slow model at once.
const DefaultMaxConcurrent = 1024

// Timeouts of the model's connections. A classification's own deadline (the
// caller's budget) is shorter than any of them; they bound what no request
// context covers, and free connections a quiet process no longer needs.
const (
	dialTimeout = 5 * time.Second
	tlsTimeout  = 5 * time.Second
	idleTimeout = 90 * time.Second
	keepAlive   = 30 * time.Second
)

// NewTransport returns the transport the classifier reaches the model with:
// it keeps up to conns connections open and idle between requests, so that
// under steady load every classification reuses one instead of paying a new
// TCP and TLS handshake (Go's default keeps two per host), and never opens
// more than conns at once. It speaks HTTP/2 where the endpoint offers it,
// which multiplexes the requests over fewer connections still.
func NewTransport(conns int) *http.Transport {
	conns = max(conns, 1)
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: keepAlive}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   tlsTimeout,
		IdleConnTimeout:       idleTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		MaxConnsPerHost:       conns,
	}
}
