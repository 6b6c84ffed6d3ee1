package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/provision/voipbintest"
	"github.com/switchboard/switchboard/flow"
)

// TestProvisionCommand runs `switchboard provision` as an operator does: a
// dry run, the real run, a second run that changes nothing, and --check
// failing once a department's country leaves the whitelist.
func TestProvisionCommand(t *testing.T) {
	api := voipbintest.New(t)
	getenv := func(k string) string {
		return map[string]string{
			"SWITCHBOARD_FETCH_TOKEN": "fetch-tok", "VOIPBIN_USERNAME": voipbintest.Username, "VOIPBIN_PASSWORD": voipbintest.Password,
		}[k]
	}
	// Transfers show the account's own number as caller ID, which VoIPBin accepts.
	config := filepath.Join(t.TempDir(), "routing.json")
	b := strings.Replace(string(flow.ExampleJSON()), `"language": "en-US",`, `"language": "en-US", "caller_id": "+15550001000",`, 1)
	if err := os.WriteFile(config, []byte(b), 0o644); err != nil {
		t.Fatal(err)
	}
	provision := func(args ...string) (string, error) {
		var out strings.Builder
		err := run(context.Background(), append([]string{"provision", "--config", config, "--api", api.URL,
			"--public-url", "https://sb.example.com", "--number", "+15550001000"}, args...), getenv, &out, io.Discard)
		return out.String(), err
	}

	out, err := provision("--dry-run")
	t.Logf("dry run:\n%s", out)
	if err != nil || len(api.Writes) != 0 || !strings.Contains(out, "would send: POST /v1.0/flows") || strings.Contains(out, "fetch-tok") {
		t.Fatalf("dry run: err %v, writes %v:\n%s", err, api.Writes, out)
	}
	for _, dept := range []string{"billing", "emergency", "fallback", "sales", "support"} {
		if !strings.Contains(out, "ok   "+dept) {
			t.Errorf("preflight does not pass %s:\n%s", dept, out)
		}
	}

	out, err = provision()
	t.Logf("first run:\n%s", out)
	if err != nil || len(api.Writes) != 3 || !strings.Contains(out, "VOIPBIN_WEBHOOK_SECRET=whsec-xyz") {
		t.Fatalf("first run: err %v, writes %v:\n%s", err, api.Writes, out)
	}
	api.Writes = nil
	if out, err = provision(); err != nil || len(api.Writes) != 0 {
		t.Fatalf("second run: err %v, writes %v:\n%s", err, api.Writes, out)
	}

	api.Whitelist = []string{"gb"}
	out, err = provision("--check")
	t.Logf("check with US not whitelisted:\n%s", out)
	if err == nil || !strings.Contains(err.Error(), "5 department(s) cannot be reached") || !strings.Contains(out, `FAIL sales      +14155550100 is in "us"`) {
		t.Errorf("--check must fail naming the departments: %v\n%s", err, out)
	}
	if _, err := provision("--check", "--api", "http://127.0.0.1:1"); err == nil {
		t.Error("an unreachable API must be an error")
	}
}
