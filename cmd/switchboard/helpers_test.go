package main

// Helpers of the commands' tests. The service's own tests (and their
// helpers) are in internal/service.

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
	"github.com/switchboard/switchboard/flow"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testToken is the fetch token the tests' services run with.
const testToken = "test-token"

// hoursConfig is a config with opening hours.
const hoursConfig = "../../testdata/routing-hours.json"

func noEnv(string) string { return "" }

// vid is a made-up VoIPBin id for a call named name.
func vid(name string) string { return voipbintest.WireID(name) }

// quietLog discards the service's logs unless the tests run verbose.
func quietLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func post(t *testing.T, url, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Billing's number in the example config, and the one the tests move it to.
const (
	billingBefore = "+14155550102"
	billingAfter  = "+14155550142"
)

// writeConfig writes the example config with billing at number.
func writeConfig(t *testing.T, file, number string) {
	t.Helper()
	b := strings.Replace(string(flow.ExampleJSON()), `"number": "`+billingBefore+`"`, `"number": "`+number+`"`, 1)
	if number != billingBefore && b == string(flow.ExampleJSON()) {
		t.Fatal("the example config no longer has billing at " + billingBefore)
	}
	// Write beside and rename, as editors and config management do.
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(b), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
}

func billingCall(t *testing.T, id string, bases []string) (*voipbintest.Result, error) {
	return voipbintest.Run(context.Background(), voipbintest.Options{CallID: id, Bases: bases, Token: testToken},
		[]voipbintest.Step{{Say: "hello"}, {Say: "I was charged twice on my invoice"}})
}
