package provision

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/provision/voipbintest"
)

var transfers = []Transfer{
	{Department: "sales", Kind: "tel", Target: "+14155550100"},
	{Department: "london", Kind: "tel", Target: "+442071838750"},
	{Department: "desk", Kind: "sip", Target: "desk@pbx.example.com"},
}

func options(api *voipbintest.Server, out *strings.Builder) Options {
	return Options{
		API: api.URL, Username: voipbintest.Username, Password: voipbintest.Password,
		PublicURL: "https://switchboard.example.com", FetchToken: "fetch-tok", FlowName: "switchboard",
		Number: "+15550001000", Transfers: transfers, Out: out,
	}
}

// TestProvisionTwice provisions an empty account, then runs again: the second
// run finds the flow by name and writes nothing.
func TestProvisionTwice(t *testing.T) {
	api := voipbintest.New(t)
	api.Whitelist = []string{"us", "gb"}
	var out strings.Builder
	res, err := Run(context.Background(), options(api, &out))
	if err != nil {
		t.Fatalf("%v\n%s\nrefused: %v", err, out.String(), api.Problems)
	}
	if want := []string{"POST /v1.0/flows", "PUT /v1.0/numbers/num-1", "PUT /v1.0/customer"}; strings.Join(api.Writes, ",") != strings.Join(want, ",") {
		t.Errorf("writes = %v, want %v", api.Writes, want)
	}
	if len(api.Flows) != 1 || api.Numbers[0].CallFlowID != api.Flows[0].ID || api.WebhookURI != "https://switchboard.example.com/voipbin/events" {
		t.Errorf("account not wired: flows %v, numbers %v, webhook %q", api.Flows, api.Numbers, api.WebhookURI)
	}
	var fetch struct {
		Option struct {
			EventURL string `json:"event_url"`
		} `json:"option"`
	}
	if err := json.Unmarshal(api.Flows[0].Actions[1], &fetch); err != nil ||
		fetch.Option.EventURL != "https://switchboard.example.com/voipbin/fetch?t=fetch-tok&to=${voipbin.call.destination.target}" {
		t.Errorf("fetch action %s does not carry the token and the dialled number", api.Flows[0].Actions[1])
	}
	if res.WebhookSecret != "whsec-xyz" || !res.Reachable() {
		t.Errorf("secret %q, reachable %v:\n%s", res.WebhookSecret, res.Reachable(), out.String())
	}

	api.Writes = nil
	out.Reset()
	if _, err := Run(context.Background(), options(api, &out)); err != nil {
		t.Fatal(err)
	}
	if len(api.Writes) != 0 || len(api.Flows) != 1 {
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
	if want := []string{"PUT /v1.0/flows/" + api.Flows[0].ID, "PUT /v1.0/customer"}; strings.Join(api.Writes, ",") != strings.Join(want, ",") {
		t.Errorf("writes after a URL change = %v, want %v", api.Writes, want)
	}
}

// TestPreflight refuses a department whose country is not whitelisted, and
// one whose caller ID VoIPBin would not accept.
func TestPreflight(t *testing.T) {
	tests := []struct {
		name          string
		whitelist     []string
		defaultSource string
		number        string
		want          map[string]string // department -> "" when reachable, else part of the reason
	}{
		{"all good", []string{"us", "gb"}, "", "+15550001000", map[string]string{"sales": "", "london": "", "desk": ""}},
		{"london not whitelisted", []string{"us"}, "", "+15550001000",
			map[string]string{"sales": "", "london": `"gb", not in destination_whitelist`, "desk": ""}},
		{"empty whitelist denies all", []string{}, "", "+15550001000",
			map[string]string{"sales": "not in destination_whitelist", "london": "not in destination_whitelist", "desk": ""}},
		{"virtual number, no default caller ID", []string{"us", "gb"}, "", "+899123456789",
			map[string]string{"sales": "virtual number", "london": "virtual number", "desk": ""}},
		{"virtual number, default caller ID", []string{"us", "gb"}, "num-1", "+899123456789",
			map[string]string{"sales": "", "london": "", "desk": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := voipbintest.New(t)
			api.Whitelist, api.DefaultSource = tt.whitelist, tt.defaultSource
			api.Numbers = append(api.Numbers, voipbintest.Number{ID: "num-2", Number: "+899123456789", Status: "active"})
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

// TestDryRun sends reads only and prints every write with its secrets masked.
func TestDryRun(t *testing.T) {
	api := voipbintest.New(t)
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
		`would send: POST /v1.0/numbers {"number":"+899123456789"}`,
		`would send: PUT /v1.0/customer {"webhook_method":"POST","webhook_uri":"https://switchboard.example.com/voipbin/events"}`,
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
	api := voipbintest.New(t)
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
	opt.AccessKey, opt.Number = voipbintest.AccessKey, "+15559999999"
	if _, err := Run(context.Background(), opt); err == nil || !strings.Contains(err.Error(), "not a number of this account") {
		t.Errorf("an unknown number must be refused, got %v", err)
	}
}

// TestBuyOnce buys a number on the first run and reuses it on the second.
func TestBuyOnce(t *testing.T) {
	api := voipbintest.New(t)
	api.DefaultSource = "num-1" // the bought number is virtual: transfers need the default caller ID
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
	}
	if bought != 1 || len(api.Numbers) != 2 || api.Numbers[1].CallFlowID == "" {
		t.Errorf("bought %d numbers, want 1 and attached: %v", bought, api.Numbers)
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
// ID is a normal number of the account even when callers dial a virtual one.
func TestPreflightConfiguredCallerID(t *testing.T) {
	oc := outboundConfig{DestinationWhitelist: []string{"us"}}
	numbers := []number{{Number: "+15550001000", Status: "active"}, {Number: "+899123456789", Status: "active"}, {Number: "+15550002000", Status: "inactive"}}
	got := preflight([]Transfer{
		{Department: "sales", Kind: "tel", Target: "+14155550100", CallerID: "+15550001000"},
		{Department: "support", Kind: "tel", Target: "+14155550101"},
		{Department: "billing", Kind: "tel", Target: "+14155550102", CallerID: "+15550002000"},
	}, oc, numbers, []string{"+899123456789"})
	want := map[string]bool{"billing": false, "sales": true, "support": false}
	for _, v := range got {
		if v.OK != want[v.Department] {
			t.Errorf("%s: ok=%v (%s), want %v", v.Department, v.OK, v.Why, want[v.Department])
		}
	}
}
