package main

// Helpers of the commands' tests. The service's own tests (and their
// helpers) are in internal/service.

import (
	"flag"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/testkit"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
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
	return testkit.Post(t, url, body, header...)
}

// Billing's number in the example config, and the one the tests move it to.
const billingBefore, billingAfter = testkit.BillingBefore, testkit.BillingAfter

// writeConfig writes the example config with billing at number.
func writeConfig(t *testing.T, file, number string) { testkit.WriteConfig(t, file, number) }

func billingCall(_ *testing.T, id string, bases []string) (*voipbintest.Result, error) {
	return testkit.BillingCall(id, bases, testToken)
}
