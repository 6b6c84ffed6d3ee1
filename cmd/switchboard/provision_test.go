package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/service"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
	"github.com/switchboard/switchboard/flow"
)

// publicDNS resolves the test's public host names, and nothing else: tests
// never ask real DNS.
func publicDNS(_ context.Context, host string) ([]net.IP, error) {
	switch host {
	case "sb.example.com":
		return []net.IP{net.ParseIP("93.184.216.34")}, nil
	case "lan.example.com":
		return []net.IP{net.ParseIP("192.168.1.20")}, nil
	}
	return nil, fmt.Errorf("lookup %s: no such host", host)
}

// TestProvisionCommand runs `switchboard provision` as an operator does: a
// dry run, the real run, a second run that changes nothing, and --check
// failing once a department's country leaves the whitelist.
func TestProvisionCommand(t *testing.T) {
	api := voipbintest.NewREST(t)
	getenv := func(k string) string {
		return map[string]string{
			"SWITCHBOARD_FETCH_TOKEN": "fetch-tok", "VOIPBIN_USERNAME": voipbintest.Username, "VOIPBIN_PASSWORD": voipbintest.Password,
		}[k]
	}
	api.Numbers = append(api.Numbers, voipbintest.Number{ID: voipbintest.ID(9), Number: "+899100200300", Type: "virtual", CallFlowID: voipbintest.NilID, MessageFlowID: voipbintest.NilID, Status: "active"})
	provision := func(args ...string) (string, error) {
		var out strings.Builder
		err := runProvision(context.Background(), append([]string{"--api", api.URL,
			"--public-url", "https://sb.example.com", "--number", "+15550001000"}, args...), getenv, publicDNS, &out, io.Discard)
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

	// Callers dialling a virtual number: VoIPBin will not show it as the caller
	// ID of a transfer, and this account has no default one.
	out, err = provision("--check", "--number", "+899100200300")
	t.Logf("check with a virtual number dialled:\n%s", out)
	if err == nil || !strings.Contains(out, "FAIL billing    caller ID +899100200300 is a virtual number") {
		t.Errorf("--check must refuse a virtual number as caller ID: %v\n%s", err, out)
	}
	// A caller_id in the config fixes it.
	config := filepath.Join(t.TempDir(), "routing.json")
	b := strings.Replace(string(flow.ExampleJSON()), `"language": "en-US",`, `"language": "en-US", "caller_id": "+15550001000",`, 1)
	if err := os.WriteFile(config, []byte(b), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err = provision("--check", "--number", "+899100200300", "--config", config); err != nil {
		t.Errorf("with caller_id set, --check should pass: %v\n%s", err, out)
	}

	// Destinations that are no phone call need no outbound checks; an agent
	// must be one of the account's, and a queue too, with a wait flow.
	out, err = provision("--check", "--config", "../../testdata/routing-destinations.json")
	if err == nil || !strings.Contains(out, "FAIL fallback   agent 3e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b is not an agent of this account") ||
		!strings.Contains(out, "FAIL sales      queue 7f3c2a10-5b1e-4c8a-9d2f-0a1b2c3d4e5f cannot be read") {
		t.Errorf("--check must refuse an agent and a queue the account does not have: %v\n%s", err, out)
	}
	api.Agents = []voipbintest.Agent{{ID: "3e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b", Name: "Reception", Addresses: []voipbintest.Address{{Type: "sip", Target: "front@pbx.example.com"}}}}
	api.Queues = []voipbin.Queue{{ID: "7f3c2a10-5b1e-4c8a-9d2f-0a1b2c3d4e5f", Name: "sales", WaitFlowID: voipbintest.NilID}}
	out, err = provision("--check", "--config", "../../testdata/routing-destinations.json")
	if err == nil || !strings.Contains(out, "FAIL sales      queue sales (7f3c2a10-5b1e-4c8a-9d2f-0a1b2c3d4e5f): no wait flow") {
		t.Errorf("--check must refuse a queue without a wait flow: %v\n%s", err, out)
	}
	// The config's wait flow (2 actions a 30 s pass) is the queue's.
	api.Flows = append(api.Flows, voipbintest.Flow{ID: voipbintest.ID(80), Name: "hold", Actions: []json.RawMessage{
		json.RawMessage(`{"type":"talk","option":{"text":"Please hold.","language":"en-US"}}`), json.RawMessage(`{"type":"sleep","option":{"duration":29000}}`)}})
	api.Queues[0].WaitFlowID, api.Queues[0].WaitTimeout = voipbintest.ID(80), 300000
	out, err = provision("--check", "--config", "../../testdata/routing-destinations.json")
	if err != nil || !strings.Contains(out, "ok   sales      queue 7f3c2a10-5b1e-4c8a-9d2f-0a1b2c3d4e5f (sales): wait flow "+voipbintest.ID(80)+", 2 action(s) a pass") ||
		strings.Contains(out, "WARN") ||
		!strings.Contains(out, "ok   emergency  tel +14155550911 (us) from the number dialled") {
		t.Errorf("--check on SIP, extension, agent and queue destinations: %v\n%s", err, out)
	}
	// Caller IDs from the config, per department and for all, that the account does not own.
	out, err = provision("--check", "--config", "../../testdata/routing-caller-id.json")
	if err == nil || !strings.Contains(out, "FAIL sales      caller ID +14155550160 is not an active normal number of this account") ||
		!strings.Contains(out, "FAIL billing    caller ID +14155550150 is not an active normal number") {
		t.Errorf("--check must refuse caller IDs the account does not own: %v\n%s", err, out)
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
	// The case: a dry run with an access key against an unreachable API.
	if out, err := provision("--dry-run", "--api", "http://127.0.0.1:1", "--accesskey", "k3y-abc"); err == nil ||
		strings.Contains(err.Error()+out, "k3y-abc") || !strings.Contains(err.Error(), "accesskey=***") {
		t.Errorf("an unreachable API's error must name the URL without the access key: %v\n%s", err, out)
	}
}

// TestProvisionFlowStep: `provision --flow-step` creates the example customer
// flow around Switchboard (the one the README shows, with this service's URL
// and token), VoIPBin's stand-in accepts its branch targets, and a second run
// changes nothing.
func TestProvisionFlowStep(t *testing.T) {
	api := voipbintest.NewREST(t)
	getenv := func(k string) string {
		return map[string]string{
			"SWITCHBOARD_FETCH_TOKEN": "fetch-tok", "VOIPBIN_USERNAME": voipbintest.Username, "VOIPBIN_PASSWORD": voipbintest.Password,
		}[k]
	}
	provision := func() (string, error) {
		var out strings.Builder
		err := runProvision(context.Background(), []string{"--api", api.URL, "--public-url", "https://sb.example.com",
			"--number", "+15550001000", "--flow-step", "--config", "../../testdata/modes/flow-step.json"}, getenv, publicDNS, &out, io.Discard)
		return out.String(), err
	}
	if out, err := provision(); err != nil || len(api.Flows) != 2 {
		t.Fatalf("first run: %v, flows %d, refused %v:\n%s", err, len(api.Flows), api.Problems, out)
	}
	cfg, err := service.LoadConfig("../../testdata/modes/flow-step.json")
	if err != nil {
		t.Fatal(err)
	}
	want := voipbin.CustomerFlow(cfg, "https://sb.example.com/voipbin/fetch?t=fetch-tok&to="+voipbin.DialledNumber+"&from=${voipbin.call.source.target}")
	got := api.Flows[1].Actions
	if len(got) != len(want) {
		t.Fatalf("stored flow has %d actions, want %d", len(got), len(want))
	}
	for i := range want {
		b, _ := json.Marshal(want[i])
		if !jsonEqual(t, got[i], b) {
			t.Errorf("action %d = %s, want %s", i, got[i], b)
		}
	}
	api.Writes = nil
	if out, err := provision(); err != nil || len(api.Writes) != 0 {
		t.Errorf("second run: %v, writes %v:\n%s", err, api.Writes, out)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// TestProvisionWebhookSecret: an account VoIPBin shows no webhook secret for
// gets its events unsigned, so a service with VOIPBIN_WEBHOOK_SECRET set would
// refuse every one (and VoIPBin never retries a 4xx); provision says so and
// fails, as it does for a secret that is not VoIPBin's.
func TestProvisionWebhookSecret(t *testing.T) {
	tests := []struct {
		name, shown, set string
		fails            bool
		want             string
	}{
		{"shown, unset here", "whsec-xyz", "", false, "VOIPBIN_WEBHOOK_SECRET=whsec-xyz"},
		{"shown, set alike", "whsec-xyz", "whsec-xyz", false, "matches the one VoIPBin signs with"},
		{"shown, set otherwise", "whsec-xyz", "old", true, "is not the secret VoIPBin signs this account's events with"},
		{"none, unset here", "", "", false, "its events come unsigned; leave VOIPBIN_WEBHOOK_SECRET unset"},
		{"none, set here", "", "whsec-xyz", true, "sends the events unsigned, and a service with VOIPBIN_WEBHOOK_SECRET set refuses every one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := voipbintest.NewREST(t)
			api.Customer.WebhookSecret = tt.shown
			env := map[string]string{"SWITCHBOARD_FETCH_TOKEN": "fetch-tok", "VOIPBIN_ACCESSKEY": voipbintest.AccessKey, "VOIPBIN_API_URL": api.URL,
				"VOIPBIN_WEBHOOK_SECRET": tt.set}
			var out strings.Builder
			err := runProvision(context.Background(), []string{"--public-url", "https://sb.example.com", "--number", "+15550001000"},
				func(k string) string { return env[k] }, publicDNS, &out, io.Discard)
			if (err != nil) != tt.fails || !strings.Contains(out.String()+fmt.Sprint(err), tt.want) {
				t.Errorf("err %v, want failure %v saying %q:\n%s", err, tt.fails, tt.want, out.String())
			}
			if strings.Contains(fmt.Sprint(err), "whsec-xyz") {
				t.Errorf("an error shows the secret: %v", err)
			}
		})
	}
}

// TestProvisionCheckEventsURL: `provision --check` fails a public URL whose
// events VoIPBin would drop (here a private address), and says why and what
// to do instead.
func TestProvisionCheckEventsURL(t *testing.T) {
	api := voipbintest.NewREST(t)
	getenv := func(k string) string {
		return map[string]string{"VOIPBIN_ACCESSKEY": voipbintest.AccessKey, "VOIPBIN_API_URL": api.URL}[k]
	}
	var out strings.Builder
	err := runProvision(context.Background(), []string{"--check", "--public-url", "https://lan.example.com", "--number", "+15550001000"},
		getenv, publicDNS, &out, io.Discard)
	for _, want := range []string{"192.168.1.20", "public address", "signature"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--check on a private events URL: err %v, want it to say %q:\n%s", err, want, out.String())
		}
	}
	if err := runProvision(context.Background(), []string{"--check", "--public-url", "https://sb.example.com", "--number", "+15550001000"},
		getenv, publicDNS, &out, io.Discard); err != nil {
		t.Errorf("--check on a public events URL: %v", err)
	}
}

// TestProvisionChecksTheAccessKey: the preflight tries the key serve stops
// transcriptions with. A revoked one fails provision --check, said plainly,
// whether provision itself logs in with it or with a password; a good one
// is said to work; none is said to leave transcriptions running.
func TestProvisionChecksTheAccessKey(t *testing.T) {
	api := voipbintest.NewREST(t)
	api.DefaultSource = voipbintest.FrontDesk // every department's transfer can go through
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		fail bool
		want string
	}{
		{"revoked key, logged in with it", map[string]string{"VOIPBIN_ACCESSKEY": "revoked"}, nil, true, "VoIPBin refused the access key: it is revoked, expired"},
		{"revoked key, logged in with a password", map[string]string{"VOIPBIN_ACCESSKEY": "revoked"},
			[]string{"--accesskey", "", "--username", voipbintest.Username, "--password", voipbintest.Password}, true, "VoIPBin refuses VOIPBIN_ACCESSKEY (revoked, expired"},
		{"good key", map[string]string{"VOIPBIN_ACCESSKEY": voipbintest.AccessKey}, nil, false, "VOIPBIN_ACCESSKEY works"},
		{"no key", map[string]string{"VOIPBIN_USERNAME": voipbintest.Username, "VOIPBIN_PASSWORD": voipbintest.Password}, nil, false, "VOIPBIN_ACCESSKEY is not set"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["VOIPBIN_API_URL"] = api.URL
			var out strings.Builder
			err := run(context.Background(), append([]string{"provision", "--check"}, tt.args...), func(k string) string { return tt.env[k] }, &out, io.Discard)
			if (err != nil) != tt.fail || !strings.Contains(out.String()+fmt.Sprint(err), tt.want) {
				t.Errorf("err %v, want failure %v saying %q:\n%s", err, tt.fail, tt.want, out.String())
			}
			if strings.Contains(out.String()+fmt.Sprint(err), "revoked\"") {
				t.Errorf("the key is shown: %v", err)
			}
		})
	}
}
