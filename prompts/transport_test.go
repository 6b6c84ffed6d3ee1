package prompts

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/flow"
)

// countingModel is a model stand-in that counts the TCP connections opened to it.
func countingModel(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func TestBurstReusesConnections(t *testing.T) {
	const limit, callers, waves = 8, 16, 30
	srv, conns := countingModel(t, func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(time.Millisecond) // let the callers overlap
		answer(w, "billing")
	})
	c, err := NewClassifier(flow.ExampleConfig(), Options{APIKey: "sk-test", BaseURL: srv.URL + "/v1", MaxConcurrent: limit})
	if err != nil {
		t.Fatal(err)
	}
	var answered, busy, failed atomic.Int64
	for range waves {
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				v, err := c.Classify(context.Background(), quote)
				switch {
				case err == nil && v.Department == "billing":
					answered.Add(1)
				case errors.Is(err, ErrModelBusy):
					busy.Add(1)
				default:
					failed.Add(1)
					t.Errorf("Classify = %+v, %v", v, err)
				}
			})
		}
		wg.Wait()
	}
	if n := conns.Load(); n > limit {
		t.Errorf("%d connections opened to the model for %d classifications, want at most %d", n, callers*waves, limit)
	}
	if answered.Load() == 0 {
		t.Error("the model answered no classification")
	}
	if got, want := uint64(busy.Load()), c.Overflows(); got != want {
		t.Errorf("%d classifications refused busy, Overflows() = %d", got, want)
	}
	t.Logf("%d answered, %d busy, %d connections", answered.Load(), busy.Load(), conns.Load())
}

func TestBusyBeyondLimit(t *testing.T) {
	release := make(chan struct{})
	var inFlight atomic.Int64
	srv, _ := countingModel(t, func(w http.ResponseWriter, r *http.Request) {
		inFlight.Add(1)
		select {
		case <-release:
			answer(w, "sales")
		case <-r.Context().Done():
		}
	})
	c, err := NewClassifier(flow.ExampleConfig(), Options{APIKey: "sk-test", BaseURL: srv.URL + "/v1", MaxConcurrent: 2})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := c.Classify(context.Background(), quote)
			errs <- err
		}()
	}
	for inFlight.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	if _, err := c.Classify(context.Background(), quote); !errors.Is(err, ErrModelBusy) {
		t.Errorf("third classification: err = %v, want ErrModelBusy", err)
	}
	if n := c.Overflows(); n != 1 {
		t.Errorf("Overflows() = %d, want 1", n)
	}
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("classification within the limit: %v", err)
		}
	}
	if _, err := c.Classify(context.Background(), quote); err != nil {
		t.Errorf("classification after the burst: %v", err)
	}
}

func TestTransportSettings(t *testing.T) {
	tr := NewTransport(64)
	if tr.MaxIdleConnsPerHost != 64 || tr.MaxConnsPerHost != 64 || tr.MaxIdleConns != 64 {
		t.Errorf("idle/max conns = %d/%d/%d, want 64 each", tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost, tr.MaxIdleConns)
	}
	if !tr.ForceAttemptHTTP2 {
		t.Error("HTTP/2 is not attempted")
	}
	if tr.IdleConnTimeout == 0 || tr.TLSHandshakeTimeout == 0 || tr.DialContext == nil {
		t.Error("idle, TLS or dial timeout unset")
	}
}

func TestHTTP2WhenOffered(t *testing.T) {
	var proto atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto.Store(r.Proto)
		answer(w, "sales")
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tr := NewTransport(4)
	tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig // trust the test certificate
	c, err := NewClassifier(flow.ExampleConfig(), Options{APIKey: "sk-test", BaseURL: srv.URL + "/v1", HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Classify(context.Background(), quote); err != nil {
		t.Fatal(err)
	}
	if got := proto.Load(); got != "HTTP/2.0" {
		t.Errorf("the model was asked over %v, want HTTP/2.0", got)
	}
}
