package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/provision"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/service"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/flow"
)

// runProvision is `switchboard provision`: it wires a VoIPBin account to this
// service and checks, first, that every department's transfer can go through
// and that VoIPBin will post events to the public URL (lookup resolves its
// host; nil: the system's resolver).
func runProvision(ctx context.Context, args []string, getenv func(string) string, lookup voipbin.LookupIP, stdout, stderr io.Writer) error {
	fs := newFlags("provision", stdout, stderr)
	opt := provision.Options{Out: stdout, FetchToken: getenv("SWITCHBOARD_FETCH_TOKEN"), LookupIP: lookup}
	var configFile string
	fs.StringVar(&opt.API, "api", cmp.Or(getenv("VOIPBIN_API_URL"), voipbin.DefaultAPI), "VoIPBin's API root (default $VOIPBIN_API_URL, else "+voipbin.DefaultAPI+")")
	fs.StringVar(&opt.Username, "username", getenv("VOIPBIN_USERNAME"), "VoIPBin login (default $VOIPBIN_USERNAME)")
	fs.StringVar(&opt.Password, "password", getenv("VOIPBIN_PASSWORD"), "VoIPBin password (default $VOIPBIN_PASSWORD)")
	fs.StringVar(&opt.AccessKey, "accesskey", getenv("VOIPBIN_ACCESSKEY"), "VoIPBin access key, instead of a login (default $VOIPBIN_ACCESSKEY)")
	fs.StringVar(&opt.PublicURL, "public-url", getenv("SWITCHBOARD_PUBLIC_URL"), "where VoIPBin reaches this service, https://... (default $SWITCHBOARD_PUBLIC_URL)")
	fs.StringVar(&opt.Number, "number", "", "the number (E.164) to point at the flow")
	fs.BoolVar(&opt.Buy, "buy", false, "take a free virtual (+899) number when --number is not given (a second run reuses it); transfers then need a default caller ID")
	fs.StringVar(&opt.FlowName, "flow-name", "switchboard", "the VoIPBin flow's name; a second run finds and updates it")
	fs.StringVar(&opt.Language, "lang", "", "the number's language, put on the fetch URL (default: the config's)")
	fs.BoolVar(&opt.DryRun, "dry-run", false, "log in and read, but print every write (secrets masked) instead of sending it")
	fs.BoolVar(&opt.Check, "check", false, "run the preflight alone; exit 1 when a department cannot be reached or VoIPBin would drop the events posted to --public-url")
	fs.StringVar(&configFile, "config", "", "routing config JSON `FILE` (default: the embedded example)")
	flowStep := fs.Bool("flow-step", false, "create the example customer flow for a number in a flow-step mode: answer, fetch from Switchboard, branch on switchboard.department, a transfer per department (edit it in VoIPBin afterwards)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("provision: unexpected arguments %v", fs.Args())
	}
	cfg, err := service.LoadConfig(configFile)
	if err != nil {
		return err
	}
	opt.Transfers = transfersOf(cfg)
	opt.Messages = messagesOf(cfg)
	if *flowStep {
		opt.Flow = func(fetchURL string) []voipbin.Action { return voipbin.CustomerFlow(cfg, fetchURL) }
	}
	if !opt.Check {
		var missing []error
		if opt.PublicURL == "" {
			missing = append(missing, errors.New("provision: --public-url (or SWITCHBOARD_PUBLIC_URL) is required: VoIPBin must reach this service"))
		}
		if opt.FetchToken == "" {
			missing = append(missing, errors.New("provision: SWITCHBOARD_FETCH_TOKEN is required: the flow's fetch URL carries it"))
		}
		if err := errors.Join(missing...); err != nil {
			return err
		}
	}
	res, err := provision.Run(ctx, opt)
	if err != nil && opt.AccessKey != "" && voipbin.ErrorKind(err) == "unauthorized" {
		return fmt.Errorf("provision: VoIPBin refused the access key: it is revoked, expired or without permission; "+
			"serve stops the transcriptions of transferred calls with VOIPBIN_ACCESSKEY, so replace it there too: %w", err)
	}
	if err != nil {
		return err
	}
	keyErr := checkServiceKey(ctx, stdout, opt, getenv("VOIPBIN_ACCESSKEY"))
	secretErr := errors.Join(keyErr, reportSecret(stdout, res.WebhookSecret, getenv("VOIPBIN_WEBHOOK_SECRET"), opt.DryRun))
	if res.EventsURL != "" { // --check: Run has reported, not failed
		secretErr = errors.Join(secretErr, provision.EventsURLError(res.EventsURL))
	}
	if !res.Reachable() {
		n := 0
		for _, v := range res.Preflight {
			if !v.OK {
				n++
			}
		}
		return errors.Join(secretErr, fmt.Errorf("preflight: %d department(s) cannot be reached; callers sent there would be hung up", n))
	}
	return secretErr
}

// checkServiceKey checks the access key serve runs with (key, from
// VOIPBIN_ACCESSKEY), which stops the transcriptions of transferred calls: a
// revoked or expired one would leave VoIPBin transcribing and billing every
// caller's talk with the agent, and is an error here rather than a
// surprise there.
func checkServiceKey(ctx context.Context, w io.Writer, opt provision.Options, key string) error {
	switch {
	case key == "":
		fmt.Fprintln(w, "access key: VOIPBIN_ACCESSKEY is not set: serve cannot stop the transcriptions of transferred calls (VoIPBin transcribes and bills them to the end of the call)")
		return nil
	case key != opt.AccessKey: // provision logged in otherwise: try the service's key on its own
		api := &voipbin.Client{API: opt.API, AccessKey: key, HTTP: opt.HTTP}
		if _, err := api.GetCustomer(ctx); err != nil {
			if voipbin.ErrorKind(err) == "unauthorized" {
				return fmt.Errorf("access key: VoIPBin refuses VOIPBIN_ACCESSKEY (revoked, expired or without permission): "+
					"serve could not stop the transcriptions of transferred calls; make a new key: %w", err)
			}
			return fmt.Errorf("access key: VOIPBIN_ACCESSKEY could not be checked: %w", err)
		}
	}
	fmt.Fprintln(w, "access key: VOIPBIN_ACCESSKEY works (serve stops the transcriptions of transferred calls with it)")
	return nil
}

// reportSecret says what the service's VOIPBIN_WEBHOOK_SECRET must be: the
// secret VoIPBin signs the account's events with (shown by GET
// /v1.0/customer), or unset when the account has none and its events come
// unsigned. A mismatch is an error: the service would answer every event 401,
// and VoIPBin never retries a 4xx, so every caller's words would be lost.
// set is the secret in this environment, the one the service is likely given.
func reportSecret(w io.Writer, shown, set string, dryRun bool) error {
	switch {
	case shown == "" && set != "":
		return errors.New("webhook secret: VoIPBin shows none for this account, so it sends the events unsigned, and a service with " +
			"VOIPBIN_WEBHOOK_SECRET set refuses every one (401; VoIPBin never retries a 4xx): callers' words would be lost. " +
			"VoIPBin makes the secret when an account is created and has no call to set one: ask VoIPBin's support for one, " +
			"or run serve without VOIPBIN_WEBHOOK_SECRET (with Redis, --insecure), knowing that anyone who can reach the events URL " +
			"can then post events (it cannot be hidden on a private network: VoIPBin posts only to public addresses)")
	case shown == "":
		fmt.Fprintln(w, "webhook secret: VoIPBin shows none for this account: its events come unsigned; leave VOIPBIN_WEBHOOK_SECRET unset (with Redis, serve needs --insecure)")
	case set != "" && set != shown:
		return errors.New("webhook secret: VOIPBIN_WEBHOOK_SECRET is not the secret VoIPBin signs this account's events with; " +
			"a service with it refuses every event (401; VoIPBin never retries a 4xx): set it to the one VoIPBin shows (GET /v1.0/customer, webhook_secret)")
	case set == shown:
		fmt.Fprintln(w, "webhook secret: VOIPBIN_WEBHOOK_SECRET matches the one VoIPBin signs with")
	case dryRun:
		fmt.Fprintln(w, "webhook secret: shown by VoIPBin (hidden in a dry run); put it in VOIPBIN_WEBHOOK_SECRET")
	default:
		fmt.Fprintf(w, "webhook secret: put it in the service's environment:\n  VOIPBIN_WEBHOOK_SECRET=%s\n", shown)
	}
	return nil
}

// transfersOf lists where the routing config sends each department and the
// caller ID its transfers show ("": the number dialled).
func transfersOf(cfg *flow.Config) []provision.Transfer {
	r := &cfg.Routing
	var out []provision.Transfer
	for _, name := range r.DepartmentNames(true) {
		d, _ := r.Department(name)
		to := d.Destination()
		t := provision.Transfer{Department: name, Kind: string(to.Kind), Target: to.Target, CallerID: r.CallerIDFor(d)}
		if to.Kind == flow.ToQueue {
			t.WaitActions, t.WaitDescribed = d.WaitFlowOf().Actions, d.WaitFlow != nil
			t.WaitAt, t.ActionsLeft = "routing.departments."+name+".wait_flow", r.QueueReserve()
			t.MaxWait = d.MaxWait()
		}
		out = append(out, t)
	}
	return out
}

// messagesOf is what provision's preflight checks of the config's messages.
func messagesOf(cfg *flow.Config) *provision.Messages {
	m := cfg.Routing.Messages
	if m == nil {
		return nil
	}
	out := &provision.Messages{SMSFrom: m.SMSFrom, Callbacks: true}
	for _, cs := range m.Contacts {
		for _, c := range cs {
			out.SMS, out.Email = out.SMS || c.SMS != "", out.Email || c.Email != ""
		}
	}
	for _, name := range cfg.Routing.DepartmentNames(true) {
		if d, _ := cfg.Routing.Department(name); d.Destination().Kind == flow.ToQueue {
			out.QueueDepartments = append(out.QueueDepartments, name)
		}
	}
	return out
}
