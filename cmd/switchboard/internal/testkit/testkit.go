// Package testkit holds what the service's tests and the commands' tests
// share: posting to a running service, the example config with billing
// moved, a billing call. Only tests import it.
package testkit

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
	"github.com/switchboard/switchboard/flow"
)

// Post posts body to url as JSON, with header's name and value pairs, and
// returns the status and the body answered.
func Post(t testing.TB, url, body string, header ...string) (int, string) {
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

// Billing's number in the example config, and the one reload tests move it to.
const (
	BillingBefore = "+14155550102"
	BillingAfter  = "+14155550142"
)

// WriteConfig writes the example config with billing at number, beside
// file and renamed onto it, as editors and config management do.
func WriteConfig(t testing.TB, file, number string) {
	t.Helper()
	b := strings.Replace(string(flow.ExampleJSON()), `"number": "`+BillingBefore+`"`, `"number": "`+number+`"`, 1)
	if number != BillingBefore && b == string(flow.ExampleJSON()) {
		t.Fatal("the example config no longer has billing at " + BillingBefore)
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(b), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
}

// BillingCall plays a call that asks for billing against bases.
func BillingCall(id string, bases []string, token string) (*voipbintest.Result, error) {
	return voipbintest.Run(context.Background(), voipbintest.Options{CallID: id, Bases: bases, Token: token},
		[]voipbintest.Step{{Say: "hello"}, {Say: "I was charged twice on my invoice"}})
}
