package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
)

var transfers = []Transfer{
	{Department: "sales", Kind: "tel", Target: "+14155550100"},
	{Department: "london", Kind: "tel", Target: "+442071838750"},
	{Department: "desk", Kind: "sip", Target: "desk@pbx.example.com"},
}

func options(api *voipbintest.REST, out *strings.Builder) Options {
	return Options{
		API: api.URL, Username: voipbintest.Username, Password: voipbintest.Password,
		PublicURL: "https://switchboard.example.com", FetchToken: "fetch-tok", FlowName: "switchboard",
		Number: "+15550001000", Transfers: transfers, Out: out, LookupIP: publicDNS,
	}
}

// publicDNS resolves the tests' host names; nothing asks real DNS.
func publicDNS(_ context.Context, host string) ([]net.IP, error) {
	switch host {
	case "switchboard.example.com", "new.example.com":
		return []net.IP{net.ParseIP("93.184.216.34")}, nil
	case "sb.internal":
		return []net.IP{net.ParseIP("10.0.0.5")}, nil
	}
	return nil, fmt.Errorf("lookup %s: no such host", host)
}

// TestProvisionTwice provisions an account in use, then runs again: the first
// run keeps everything of the account it does not own (VoIPBin's PUTs write
// every field), the second finds the flow by name and writes nothing.
func TestProvisionTwice(t *testing.T) {
	api := voipbintest.NewREST(t)
	api.Whitelist = []string{"us", "gb"}
	before := api.Customer
	var out strings.Builder
	res, err := Run(context.Background(), options(api, &out))
	if err != nil {
		t.Fatalf("%v\n%s\nrefused: %v", err, out.String(), api.Problems)
	}
	if want := []string{"POST /v1.0/flows", "PUT /v1.0/numbers/" + voipbintest.FrontDesk + "/flow_ids", "PUT /v1.0/customer"}; strings.Join(api.Writes, ",") != strings.Join(want, ",") {
		t.Errorf("writes = %v, want %v", api.Writes, want)
	}
	ours := api.Flows[len(api.Flows)-1]
	n, _ := api.Number(voipbintest.FrontDesk)
	if n.CallFlowID != ours.ID || api.Customer.WebhookURI != "https://switchboard.example.com/voipbin/events" {
		t.Errorf("account not wired: number %+v, flow %s, webhook %q", n, ours.ID, api.Customer.WebhookURI)
	}
	// What is the customer's stays the customer's.
	if n.MessageFlowID != voipbintest.SMSFlow || n.Name != "front desk" || n.Detail != "the number on our website" {
		t.Errorf("the number lost what is not ours: %+v", n)
	}
	got := api.Customer
	got.WebhookMethod, got.WebhookURI = before.WebhookMethod, before.WebhookURI
	if got != before {
		t.Errorf("the customer lost what is not ours:\n got %+v\nwant %+v", api.Customer, before)
	}
	var fetch struct {
		Option struct {
			EventURL string `json:"event_url"`
		} `json:"option"`
	}
	if err := json.Unmarshal(ours.Actions[1], &fetch); err != nil ||
		fetch.Option.EventURL != "https://switchboard.example.com/voipbin/fetch?t=fetch-tok&to=${voipbin.call.destination.target}&from=${voipbin.call.source.target}" {
		t.Errorf("fetch action %s does not carry the token, the dialled number and the caller's", ours.Actions[1])
	}
	if res.WebhookSecret != "whsec-xyz" || !res.Reachable() {
		t.Errorf("secret %q, reachable %v:\n%s", res.WebhookSecret, res.Reachable(), out.String())
	}

	api.Writes = nil
	out.Reset()
	if _, err := Run(context.Background(), options(api, &out)); err != nil {
		t.Fatal(err)
	}
	if len(api.Writes) != 0 || len(api.Flows) != 2 {
		t.Errorf("a second run wrote %v (flows now %d)", api.Writes, len(api.Flows))
	}
	for _, want := range []string{`flow "switchboard": unchanged`, "number +15550001000: already on the flow", "event webhook: unchanged"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("second run should say %q:\n%s", want, out.String())
		}
	}

	// A new public URL updates the flow in place.
	api.Writes = nil
	opt := options(api, &out)
	opt.PublicURL = "https://new.example.com"
	if _, err := Run(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	if want := []string{"PUT /v1.0/flows/" + ours.ID, "PUT /v1.0/customer"}; strings.Join(api.Writes, ",") != strings.Join(want, ",") {
		t.Errorf("writes after a URL change = %v, want %v", api.Writes, want)
	}
	if api.Customer.Email != before.Email || api.Customer.Name != before.Name {
		t.Errorf("the second webhook change lost the customer's fields: %+v", api.Customer)
	}
}

// TestPreflight refuses what VoIPBin would refuse when the transfer runs: a
// country not whitelisted, a caller ID VoIPBin does not show (a virtual
// number, with the default unset as the nil UUID, or itself virtual or
// gone), an identity not verified, an account not active, and an agent whose
// phone is under the same rules.
func TestPreflight(t *testing.T) {
	virtual := voipbintest.ID(2)
	tests := []struct {
		name          string
		whitelist     []string
		defaultSource string
		number        string
		identity      string
		status        string
		want          map[string]string // department -> "" when reachable, else part of the reason
	}{
		{"all good", []string{"us", "gb"}, voipbintest.NilID, "+15550001000", "", "", map[string]string{"sales": "", "london": "", "desk": ""}},
		{"london not whitelisted", []string{"us"}, voipbintest.NilID, "+15550001000", "", "",
			map[string]string{"sales": "", "london": `"gb", not in destination_whitelist`, "desk": ""}},
		{"empty whitelist denies all", []string{}, voipbintest.NilID, "+15550001000", "", "",
			map[string]string{"sales": "not in destination_whitelist", "london": "not in destination_whitelist", "desk": ""}},
		{"virtual number, nil UUID default", []string{"us", "gb"}, voipbintest.NilID, "+899123456780", "", "",
			map[string]string{"sales": "virtual number VoIPBin will not send, and there is no default", "london": "virtual number", "desk": ""}},
		{"virtual number, default caller ID", []string{"us", "gb"}, voipbintest.FrontDesk, "+899123456780", "", "",
			map[string]string{"sales": "", "london": "", "desk": ""}},
		{"virtual number, default itself virtual", []string{"us", "gb"}, virtual, "+899123456780", "", "",
			map[string]string{"sales": "is not an active normal number", "london": "is not an active normal number", "desk": ""}},
		{"virtual number, default released", []string{"us", "gb"}, voipbintest.ID(77), "+899123456780", "", "",
			map[string]string{"sales": "is no number of this account", "london": "is no number of this account", "desk": ""}},
		{"identity pending", []string{"us", "gb"}, voipbintest.NilID, "+15550001000", "pending", "",
			map[string]string{"sales": `identity_verification_status "pending"`, "london": "not verified", "desk": ""}},
		{"account not active yet", []string{"us", "gb"}, voipbintest.NilID, "+15550001000", "", "initial",
			map[string]string{"sales": `status is "initial"`, "london": `status is "initial"`, "desk": `status is "initial"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := voipbintest.NewREST(t)
			api.Whitelist, api.DefaultSource = tt.whitelist, tt.defaultSource
			api.Customer.IdentityVerificationStatus = cmpOr(tt.identity, api.Customer.IdentityVerificationStatus)
			api.Customer.Status = cmpOr(tt.status, api.Customer.Status)
			api.Numbers = append(api.Numbers, voipbintest.Number{ID: virtual, Number: "+899123456780", Type: "virtual",
				CallFlowID: voipbintest.NilID, MessageFlowID: voipbintest.NilID, Status: "active"})
			var out strings.Builder
			opt := options(api, &out)
			opt.Check, opt.Number = true, tt.number
			res, err := Run(context.Background(), opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(api.Writes) != 0 {
				t.Errorf("--check wrote %v", api.Writes)
			}
			for _, v := range res.Preflight {
				want := tt.want[v.Department]
				if v.OK != (want == "") || want != "" && !strings.Contains(v.Why, want) {
					t.Errorf("%s: ok=%v %q, want %q", v.Department, v.OK, v.Why, want)
				}
			}
			if !strings.Contains(out.String(), "preflight") {
				t.Errorf("no preflight report:\n%s", out.String())
			}
		})
	}
}

// TestPreflightAgents reads the account's agents: an agent rung at a phone
// number is a PSTN call, under the whitelist and caller-ID rules; one rung
// over SIP is not; one the account does not have, or with no address, rings
// nobody.
func TestPreflightAgents(t *testing.T) {
	api := voipbintest.NewREST(t)
	api.Agents = []voipbintest.Agent{
		{ID: voipbintest.ID(50), Name: "Ann", Addresses: []voipbintest.Address{{Type: "sip", Target: "ann@pbx.example.com"}}},
		{ID: voipbintest.ID(51), Name: "Bob", Addresses: []voipbintest.Address{{Type: "extension", Target: "2002"}, {Type: "tel", Target: "+442071838751"}}},
		{ID: voipbintest.ID(52), Name: "Cy"},
	}
	var out strings.Builder
	opt := options(api, &out)
	opt.Check = true
	opt.Transfers = []Transfer{
		{Department: "ann", Kind: "agent", Target: voipbintest.ID(50)},
		{Department: "bob", Kind: "agent", Target: voipbintest.ID(51)},
		{Department: "cy", Kind: "agent", Target: voipbintest.ID(52)},
		{Department: "gone", Kind: "agent", Target: voipbintest.ID(53)},
	}
	res, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ann": "", "bob": `agent's phone +442071838751: +442071838751 is in "gb", not in destination_whitelist`,
		"cy": "has no address", "gone": "is not an agent of this account"}
	for _, v := range res.Preflight {
		if w := want[v.Department]; v.OK != (w == "") || w != "" && !strings.Contains(v.Why, w) {
			t.Errorf("%s: ok=%v %q, want %q", v.Department, v.OK, v.Why, w)
		}
	}
	api.Whitelist = []string{"us", "gb"}
	out.Reset()
	if res, _ = Run(context.Background(), opt); !strings.Contains(out.String(), "ok   bob        agent "+voipbintest.ID(51)+": 2 address(es), phone +442071838751 over the PSTN") {
		t.Errorf("bob, whitelisted, should pass:\n%s", out.String())
	}
}

// TestPreflightQueues reads each queue department's queue and its wait flow:
// a queue VoIPBin does not show, one with no wait flow, a wait flow gone or
// passing no time fail (VoIPBin hangs the caller up at once); a wait flow
// costlier a pass than the config assumes fails (the caller is cut off
// sooner than check counts); a wait the call's actions end before the
// queue's wait_timeout, and a wait flow the config does not describe, warn.
func TestPreflightQueues(t *testing.T) {
	talk := `{"type":"talk","option":{"text":"Please hold.","language":"en-US"}}`
	sleep := `{"type":"sleep","option":{"duration":29000}}`
	flows := map[string][]string{
		"hold":    {talk, sleep},
		"long":    {talk, sleep, talk, sleep},
		"sleepy":  {`{"type":"sleep","option":{"duration":30000}}`},
		"instant": {`{"type":"variable_set","option":{"key":"x","value":"y"}}`},
	}
	flowID := map[string]string{"hold": voipbintest.ID(80), "long": voipbintest.ID(81), "sleepy": voipbintest.ID(82), "instant": voipbintest.ID(83), "gone": voipbintest.ID(84), "none": voipbintest.NilID}
	queue := voipbintest.ID(70)
	const fiveMinutes = 300000
	tests := []struct {
		name      string
		waitFlow  string // a key of flowID; "" no queue at all
		timeout   int
		assumed   int
		described bool
		fail      string // in the FAIL line; "" passes
		warn      string // in a WARN line; "" none
		maxWait   time.Duration
	}{
		{"a wait flow as the config says", "hold", fiveMinutes, 2, true, "", "", 0},
		{"a wait flow cheaper than assumed", "sleepy", fiveMinutes, 2, true, "", "", 0},
		{"no such queue", "", 0, 2, true, "cannot be read (VoIPBin GET /v1.0/queues/" + queue + ": 404", "", 0},
		{"no wait flow", "none", fiveMinutes, 2, true, "no wait flow; VoIPBin fails queue_join at once", "", 0},
		{"a wait flow gone", "gone", fiveMinutes, 2, true, "its wait flow " + voipbintest.ID(84) + " cannot be read", "", 0},
		{"a wait flow that passes no time", "instant", fiveMinutes, 2, true, "passes no time", "", 0},
		{"a wait flow costlier than assumed", "long", fiveMinutes, 2, true,
			"has 4 actions and routing.departments.sales.wait_flow assumes 2: each pass costs 6 actions, not 4, so a caller is cut off after 6 passes, not the 10", "", 0},
		{"no wait_timeout: the actions end the wait", "hold", 0, 2, true, "", "cut off after 10 passes, about 5m0s", 0},
		{"a wait flow the config does not describe", "hold", fiveMinutes, 2, false, "", "routing.departments.sales.wait_flow is not set", 0},
		{"a wait_timeout within the longest wait", "hold", 120000, 2, true, "", "", 2 * time.Minute},
		{"a wait_timeout past the longest wait", "hold", fiveMinutes, 2, true, "",
			"wait_timeout 5m0s, but the department's longest wait is 2m0s (max_wait_seconds): a caller nobody answers waits on", 2 * time.Minute},
		{"no wait_timeout, a longest wait", "sleepy", 0, 2, true, "", "Set the queue's wait_timeout to 120000 (ms) or less", 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := voipbintest.NewREST(t)
			for name, acts := range flows {
				f := voipbintest.Flow{ID: flowID[name], Name: name}
				for _, a := range acts {
					f.Actions = append(f.Actions, json.RawMessage(a))
				}
				api.Flows = append(api.Flows, f)
			}
			if tt.waitFlow != "" {
				api.Queues = []voipbin.Queue{{ID: queue, Name: "sales", WaitFlowID: flowID[tt.waitFlow], WaitTimeout: tt.timeout}}
			}
			var out strings.Builder
			opt := options(api, &out)
			opt.Check = true
			opt.Transfers = []Transfer{{Department: "sales", Kind: "queue", Target: queue,
				WaitActions: tt.assumed, WaitDescribed: tt.described, WaitAt: "routing.departments.sales.wait_flow", ActionsLeft: 42, MaxWait: tt.maxWait}}
			res, err := Run(context.Background(), opt)
			if err != nil {
				t.Fatal(err)
			}
			v := res.Preflight[0]
			if v.OK != (tt.fail == "") || !strings.Contains(v.Why, tt.fail) {
				t.Errorf("ok=%v %q, want failing with %q", v.OK, v.Why, tt.fail)
			}
			warnings := strings.Join(v.Warnings, "\n")
			if tt.warn == "" && warnings != "" || !strings.Contains(warnings, tt.warn) {
				t.Errorf("warnings %q, want %q", warnings, tt.warn)
			}
			if tt.warn != "" && !strings.Contains(out.String(), "WARN sales      ") {
				t.Errorf("no WARN line:\n%s", out.String())
			}
			t.Log(out.String())
		})
	}
}

// TestPreflightQueueUnanswered: a queue VoIPBin cannot show now (a 5xx) stops
// the run, as any read does; only a refusal is the department's finding.
func TestPreflightQueueUnanswered(t *testing.T) {
	api := voipbintest.NewREST(t)
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1.0/queues/") {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		api.ServeHTTP(w, r)
	}))
	defer busy.Close()
	var out strings.Builder
	opt := options(api, &out)
	opt.API, opt.Check = busy.URL, true
	opt.Transfers = []Transfer{{Department: "sales", Kind: "queue", Target: voipbintest.ID(70), WaitActions: 2, ActionsLeft: 42}}
	var apiErr *APIError
	if _, err := Run(context.Background(), opt); !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable {
		t.Errorf("a 503 reading the queue: %v, want the run to fail with it\n%s", err, out.String())
	}
}

// TestDryRun sends reads only and prints every write with its secrets masked.
func TestDryRun(t *testing.T) {
	api := voipbintest.NewREST(t)
	var out strings.Builder
	opt := options(api, &out)
	opt.DryRun, opt.Number, opt.Buy = true, "", true
	if _, err := Run(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	if len(api.Writes) != 0 {
		t.Errorf("a dry run wrote %v", api.Writes)
	}
	got := out.String()
	for _, want := range []string{
		`read: POST /auth/login {"password":"***","username":"owner@example.com"}`,
		"would send: POST /v1.0/flows",
		`/voipbin/fetch?t=***`,
		`would send: POST /v1.0/numbers {"call_flow_id":"(new flow id)","name":"switchboard","number":"+899123456789","type":"virtual"}`,
		`would send: PUT /v1.0/customer {"name":"Acme Dental","detail":"two clinics","email":"office@acme.example","phone_number":"+15550009999","address":"1 Main St","webhook_method":"POST","webhook_uri":"https://switchboard.example.com/voipbin/events"}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, got)
		}
	}
	for _, secret := range []string{voipbintest.Password, "fetch-tok"} {
		if strings.Contains(got, secret) {
			t.Errorf("dry run shows the secret %q:\n%s", secret, got)
		}
	}
}

// TestAccessKeyAndAPIErrors authenticates with an access key in the query, and
// shows VoIPBin's refusal as it gave it.
func TestAccessKeyAndAPIErrors(t *testing.T) {
	api := voipbintest.NewREST(t)
	var out strings.Builder
	opt := options(api, &out)
	opt.Username, opt.Password, opt.AccessKey = "", "", voipbintest.AccessKey
	if _, err := Run(context.Background(), opt); err != nil {
		t.Fatalf("%v (refused: %v)", err, api.Problems)
	}
	opt.AccessKey = "wrong"
	_, err := Run(context.Background(), opt)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 401 || !strings.Contains(err.Error(), "not authenticated") {
		t.Errorf("want VoIPBin's 401 as it gave it, got %v", err)
	}
	opt.AccessKey = voipbintest.AccessKey
	api.Customer.Status = "frozen"
	if _, err := Run(context.Background(), opt); !errors.As(err, &apiErr) || apiErr.Status != 403 || !strings.Contains(err.Error(), "frozen") {
		t.Errorf("a frozen account: want VoIPBin's 403, got %v", err)
	}
	api.Customer.Status = "active"
	opt.Number = "+15559999999"
	if _, err := Run(context.Background(), opt); err == nil || !strings.Contains(err.Error(), "not a number of this account") {
		t.Errorf("an unknown number must be refused, got %v", err)
	}
}

// TestBuyOnce takes a virtual number on the first run, already on the flow,
// and reuses it on the second; an account whose identity is not verified
// can do it (a normal number would need it).
func TestBuyOnce(t *testing.T) {
	api := voipbintest.NewREST(t)
	api.Customer.IdentityVerificationStatus = "none"
	var out strings.Builder
	opt := options(api, &out)
	opt.Number, opt.Buy = "", true
	for run := range 2 {
		if _, err := Run(context.Background(), opt); err != nil {
			t.Fatalf("run %d: %v (refused %v)", run, err, api.Problems)
		}
	}
	bought := 0
	for _, w := range api.Writes {
		if w == "POST /v1.0/numbers" {
			bought++
		}
		if strings.HasPrefix(w, "PUT /v1.0/numbers/") {
			t.Errorf("a bought number needs no second write: %v", api.Writes)
		}
	}
	ours := api.Flows[len(api.Flows)-1]
	if n := api.Numbers[len(api.Numbers)-1]; bought != 1 || len(api.Numbers) != 2 || n.Type != "virtual" || n.CallFlowID != ours.ID {
		t.Errorf("bought %d numbers, want 1, virtual, on the flow: %+v", bought, api.Numbers)
	}
}

func TestCountryOf(t *testing.T) {
	for number, want := range map[string]string{
		"+14155550100": "us", "+14165550100": "ca", "+442071838750": "gb", "+34911234567": "es",
		"+4930123456": "de", "+35312345678": "ie", "+8613812345678": "cn", "+999123": "",
	} {
		if got := countryOf(number); got != want {
			t.Errorf("countryOf(%s) = %q, want %q", number, got, want)
		}
	}
}

// TestPreflightConfiguredCallerID accepts a department whose configured caller
// ID is an active normal number of the account even when callers dial a
// virtual one, and refuses one that is inactive.
func TestPreflightConfiguredCallerID(t *testing.T) {
	acct := account{
		customer: voipbin.Customer{Status: "active", IdentityVerificationStatus: "verified"},
		outbound: voipbin.OutboundConfig{DestinationWhitelist: []string{"us"}, DefaultOutgoingSourceNumberID: voipbin.NilID},
		numbers: []voipbin.Number{{Number: "+15550001000", Type: "normal", Status: "active"}, {Number: "+899123456789", Type: "virtual", Status: "active"},
			{Number: "+15550002000", Type: "normal", Status: "deleted"}},
	}
	got := preflight([]Transfer{
		{Department: "sales", Kind: "tel", Target: "+14155550100", CallerID: "+15550001000"},
		{Department: "support", Kind: "tel", Target: "+14155550101"},
		{Department: "billing", Kind: "tel", Target: "+14155550102", CallerID: "+15550002000"},
	}, acct, []string{"+899123456789"})
	want := map[string]bool{"billing": false, "sales": true, "support": false}
	for _, v := range got {
		if v.OK != want[v.Department] {
			t.Errorf("%s: ok=%v (%s), want %v", v.Department, v.OK, v.Why, want[v.Department])
		}
	}
}

// TestEventsURLChecked: VoIPBin drops at once every event whose URL fails its
// check (bin-webhook-manager validateWebhookURL): provision fails such a
// public URL, saying why, before it writes anything; --check reports it.
func TestEventsURLChecked(t *testing.T) {
	for _, tt := range []struct {
		name, public string
		want         string // in the report and the error; "": passes
	}{
		{"public", "https://switchboard.example.com", ""},
		{"a private address", "https://sb.internal", "10.0.0.5, in 10.0.0.0/8"},
		{"a loopback address", "http://127.0.0.1:3000", "in 127.0.0.0/8"},
		{"a shared (CGN) address", "http://100.100.1.1", "in 100.64.0.0/10"},
		{"a name that does not resolve", "https://nowhere.example.com", "does not resolve"},
		{"not http", "ws://switchboard.example.com", `not "ws"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, check := range []bool{true, false} {
				api := voipbintest.NewREST(t)
				var out strings.Builder
				opt := options(api, &out)
				opt.PublicURL, opt.Check = tt.public, check
				res, err := Run(t.Context(), opt)
				if tt.want == "" {
					if err != nil || res.EventsURL != "" || !strings.Contains(out.String(), "events URL: ok "+tt.public+"/voipbin/events") {
						t.Errorf("check %v: err %v, problem %q:\n%s", check, err, res.EventsURL, out.String())
					}
					continue
				}
				if !strings.Contains(res.EventsURL, tt.want) || !strings.Contains(out.String(), "events URL: FAIL") {
					t.Errorf("check %v: problem %q, want %q:\n%s", check, res.EventsURL, tt.want, out.String())
				}
				if !check && (err == nil || !strings.Contains(err.Error(), tt.want) || len(api.Writes) != 0) {
					t.Errorf("provision: err %v, writes %v; want it to fail before writing", err, api.Writes)
				}
			}
		})
	}
}
