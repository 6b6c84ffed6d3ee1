// Package provision wires a VoIPBin account to Switchboard through VoIPBin's
// REST API (package voipbin): a flow [answer, fetch] whose fetch URL carries
// the fetch token, a number pointing at it, and the customer's event webhook.
// It is idempotent (the flow is found by name, nothing is written that is
// already right), it keeps what it does not own (VoIPBin's PUTs overwrite
// every field, so it reads first and sends the rest back), and its preflight
// reads the account, its numbers, agents and outbound config to tell, per
// department, whether a transfer can go through before the first caller
// finds out.
package provision

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
)

// Transfer is where one department's calls go, as the routing config says.
type Transfer struct {
	Department string
	Kind       string // "tel", "sip", "extension", "agent", "queue"...; tel and agent transfers may call the PSTN
	Target     string
	// CallerID is the caller ID the transfer shows: a configured number, or ""
	// for the number the caller dialled (Switchboard's default).
	CallerID string
	// A queue's wait as the config has it: the actions of one pass of the
	// queue's wait flow it assumes (WaitDescribed: the config says so, else a
	// default), where, and the actions a caller has left on joining.
	WaitActions   int
	WaitDescribed bool
	WaitAt        string // the config's field, routing.departments.NAME.wait_flow
	ActionsLeft   int
	// MaxWait is the department's longest wait in the queue: the queue's
	// wait_timeout must end the wait by then, for the caller to go on.
	MaxWait time.Duration
}

// Options is one provisioning run.
type Options struct {
	API string // VoIPBin's API root, https://api.voipbin.net
	// Username and Password log in (a JWT); AccessKey is sent as ?accesskey= instead.
	Username, Password, AccessKey string
	PublicURL                     string // where VoIPBin reaches Switchboard, https://...
	FetchToken                    string
	Language                      string // the number's language (?lang= on the fetch URL); empty: the config's
	FlowName                      string
	Number                        string // the number to attach; empty with Buy: buy one
	Buy                           bool
	DryRun                        bool // send reads, print writes instead of sending them
	Check                         bool // the preflight alone
	Transfers                     []Transfer
	// Messages, when set, adds the preflight of messages and callbacks (messages.go).
	Messages *Messages
	// Flow, when set, builds the flow's actions around Switchboard's fetch
	// URL (token and dialled number in it): a customer's own flow with
	// Switchboard as one step of it. Nil: [answer, fetch].
	Flow func(fetchURL string) []voipbin.Action
	HTTP *http.Client
	// LookupIP resolves the public URL's host, to check that VoIPBin will
	// post events there; nil: the system's resolver.
	LookupIP voipbin.LookupIP
	Out      io.Writer // the report
}

// Result says what the run found and did.
type Result struct {
	Preflight     []Verdict
	WebhookSecret string // as VoIPBin shows it; empty when the account has none (its events come unsigned)
	// EventsURL says why VoIPBin would drop every event posted to the
	// public URL's /voipbin/events, or is empty (also when no public URL was given).
	EventsURL string
}

// Reachable reports whether every department can be transferred to.
func (r Result) Reachable() bool {
	for _, v := range r.Preflight {
		if !v.OK {
			return false
		}
	}
	return true
}

// Verdict is the preflight's answer for one department.
type Verdict struct {
	Department string
	OK         bool
	Why        string
	// Warnings are what will not stop the transfer but may cut a caller
	// short (a queue's wait the call's actions end early).
	Warnings []string
}

// APIError is a refusal from VoIPBin, shown as the API gave it.
type APIError = voipbin.APIError

// Run provisions (or, with Check, only runs the preflight) and writes what it
// does to opt.Out.
func Run(ctx context.Context, opt Options) (Result, error) {
	c := &client{opt: opt, api: &voipbin.Client{API: opt.API, AccessKey: opt.AccessKey, HTTP: opt.HTTP}}
	if opt.DryRun {
		c.api.Sent = func(method, path string, body []byte) {
			c.printf("read: %s\n", strings.TrimSpace(method+" "+path+" "+mask(string(body))))
		}
	}
	var res Result
	if err := c.login(ctx); err != nil {
		return res, err
	}
	acct, err := c.read(ctx)
	if err != nil {
		return res, err
	}
	ours := findFlow(acct.flows, opt.FlowName)
	res.Preflight = append(preflight(opt.Transfers, acct, c.dialledNumbers(acct.numbers, ours)), messagesPreflight(opt.Messages, acct)...)
	c.printf("preflight (outbound config: whitelist %v, default caller ID %s; identity %s):\n", acct.outbound.DestinationWhitelist,
		orNone(acct.outbound.DefaultOutgoingSourceNumberID), cmpOr(acct.customer.IdentityVerificationStatus, "unknown"))
	for _, v := range res.Preflight {
		mark := "ok  "
		if !v.OK {
			mark = "FAIL"
		}
		c.printf("  %s %-10s %s\n", mark, v.Department, v.Why)
		for _, w := range v.Warnings {
			c.printf("  WARN %-10s %s\n", v.Department, w)
		}
	}
	res.WebhookSecret = acct.customer.WebhookSecret
	res.EventsURL = c.checkEventsURL(ctx)
	if opt.Check {
		return res, nil
	}
	if res.EventsURL != "" { // wire nothing that would lose every caller's words
		return res, EventsURLError(res.EventsURL)
	}

	flowID, err := c.ensureFlow(ctx, ours)
	if err != nil {
		return res, err
	}
	if err := c.ensureNumber(ctx, acct.numbers, flowID); err != nil {
		return res, err
	}
	if err := c.ensureWebhook(ctx, acct.customer); err != nil {
		return res, err
	}
	return res, nil
}

// checkEventsURL says why VoIPBin would drop every event posted to the
// events URL, or "", and prints the verdict. VoIPBin checks the URL before
// each delivery and loses the event at once when it fails (see
// voipbin.EventURLProblem), so a private address is no way to keep the
// events endpoint safe: its signature is.
func (c *client) checkEventsURL(ctx context.Context) string {
	if c.opt.PublicURL == "" {
		c.printf("events URL: not checked (no public URL given)\n")
		return ""
	}
	lookup := c.opt.LookupIP
	if lookup == nil {
		lookup = func(ctx context.Context, host string) ([]net.IP, error) {
			return net.DefaultResolver.LookupIP(ctx, "ip", host)
		}
	}
	problem := voipbin.EventURLProblem(ctx, c.eventsURL(), lookup)
	if problem == "" {
		c.printf("events URL: ok %s\n", c.eventsURL())
	} else {
		c.printf("events URL: FAIL %s\n", problem)
	}
	return problem
}

// EventsURLError is the error of a run whose events URL VoIPBin would not post to.
func EventsURLError(problem string) error {
	return fmt.Errorf("events URL: %s; VoIPBin would drop every event, and with them every caller's words: "+
		"serve /voipbin/events on a public address (--public-url) and protect it with its signature (VOIPBIN_WEBHOOK_SECRET)", problem)
}

// eventsURL is where VoIPBin posts the account's events.
func (c *client) eventsURL() string {
	return strings.TrimSuffix(c.opt.PublicURL, "/") + voipbin.EventsPath
}

// account is what the preflight and the writes read of the account.
type account struct {
	customer voipbin.Customer
	outbound voipbin.OutboundConfig
	numbers  []voipbin.Number
	flows    []voipbin.Flow
	agents   []voipbin.Agent // read only when a department goes to an agent
	queues   map[string]queueRead
}

// queueRead is a queue department's queue and its wait flow as VoIPBin
// shows them, or VoIPBin's refusal to show them.
type queueRead struct {
	queue    voipbin.Queue
	err      error
	waitFlow []voipbin.Action // nil: none, or flowErr
	flowErr  error
}

func (c *client) read(ctx context.Context) (account, error) {
	var a account
	var err error
	if a.customer, err = c.api.GetCustomer(ctx); err != nil {
		return a, err
	}
	if a.outbound, err = c.api.GetOutboundConfig(ctx); err != nil {
		return a, err
	}
	if a.numbers, err = c.api.Numbers(ctx); err != nil {
		return a, err
	}
	if a.flows, err = c.api.Flows(ctx); err != nil {
		return a, err
	}
	if slices.ContainsFunc(c.opt.Transfers, func(t Transfer) bool { return t.Kind == "agent" }) {
		if a.agents, err = c.api.Agents(ctx); err != nil {
			return a, err
		}
	}
	a.queues = map[string]queueRead{}
	for _, t := range c.opt.Transfers {
		if t.Kind != "queue" {
			continue
		}
		var qr queueRead
		if qr, err = c.readQueue(ctx, t.Target); err != nil {
			return a, err
		}
		a.queues[t.Target] = qr
	}
	return a, nil
}

// readQueue reads a queue and its wait flow. VoIPBin refusing one (not a
// UUID, none such, another account's) is the preflight's finding, not the
// run's failure; a server error or no answer is.
func (c *client) readQueue(ctx context.Context, id string) (queueRead, error) {
	refused := func(err error) bool {
		var apiErr *APIError
		return errors.As(err, &apiErr) && !apiErr.Retryable()
	}
	var qr queueRead
	qr.queue, qr.err = c.api.Queue(ctx, id)
	switch {
	case qr.err != nil && !refused(qr.err):
		return qr, qr.err
	case qr.err != nil, voipbin.IsNil(qr.queue.WaitFlowID):
		return qr, nil
	}
	f, err := c.api.GetFlow(ctx, qr.queue.WaitFlowID)
	if err != nil && !refused(err) {
		return qr, err
	}
	if err == nil {
		qr.waitFlow, err = voipbin.FlowActions(f)
	}
	qr.flowErr = err
	return qr, nil
}

type client struct {
	opt Options
	api *voipbin.Client
}

func (c *client) printf(format string, args ...any) {
	if c.opt.Out != nil {
		fmt.Fprintf(c.opt.Out, format, args...)
	}
}

// done reports a write, which a dry run only would have made.
func (c *client) done(what, did string) {
	if c.opt.DryRun {
		did = "would be " + strings.TrimSpace(did)
	}
	c.printf("%s: %s\n", what, strings.TrimSpace(did))
}

func (c *client) login(ctx context.Context) error {
	switch {
	case c.opt.AccessKey != "":
		return nil
	case c.opt.Username == "" || c.opt.Password == "":
		return errors.New("provision: give --accesskey, or --username and --password")
	}
	// Logging in changes nothing, so a dry run does it too.
	return c.api.Login(ctx, c.opt.Username, c.opt.Password)
}

// write sends a write, or in a dry run prints it instead.
func (c *client) write(method, path string, body any, send func() error) error {
	if c.opt.DryRun {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // show a URL's "&" as the operator wrote it
		_ = enc.Encode(body)
		c.printf("would send: %s %s %s\n", method, path, mask(strings.TrimSpace(b.String())))
		return nil
	}
	return send()
}

// Secrets never printed: passwords, the fetch token in a URL, webhook secrets.
var (
	maskJSON  = regexp.MustCompile(`("(?:password|webhook_secret|accesskey|token)":")[^"]*"`)
	maskToken = regexp.MustCompile(`([?&](?:t|accesskey)=)[^&"]+`)
)

func mask(s string) string {
	s = maskJSON.ReplaceAllString(s, `$1***"`)
	return maskToken.ReplaceAllString(s, `$1***`)
}

func orNone(id string) string {
	if voipbin.IsNil(id) {
		return "none"
	}
	return id
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func findFlow(flows []voipbin.Flow, name string) *voipbin.Flow {
	for i := range flows {
		if flows[i].Name == name {
			return &flows[i]
		}
	}
	return nil
}

// dialledNumbers is what callers dial to reach us: the number given, or the
// account's numbers already pointing at our flow.
func (c *client) dialledNumbers(numbers []voipbin.Number, ours *voipbin.Flow) []string {
	if c.opt.Number != "" {
		return []string{c.opt.Number}
	}
	var out []string
	for _, n := range numbers {
		if ours != nil && n.CallFlowID == ours.ID {
			out = append(out, n.Number)
		}
	}
	return out
}

// preflight tells, per department, whether VoIPBin will place its transfer
// (bin-call-manager callhandler CreateCallOutgoing): the account must be
// active; a PSTN call (a tel department, or an agent's tel address) also
// needs a verified identity, a whitelisted destination country and a caller
// ID VoIPBin accepts, an active normal number of the account, either ours or
// the outbound config's default.
func preflight(transfers []Transfer, acct account, dialled []string) []Verdict {
	p := newPSTN(acct)
	var out []Verdict
	for _, t := range transfers {
		v := Verdict{Department: t.Department, OK: true}
		var problems []string
		if t.Kind != "queue" && acct.customer.Status != "" && acct.customer.Status != voipbin.CustomerActive {
			problems = append(problems, fmt.Sprintf("the account's status is %q: VoIPBin places no outgoing call for it", acct.customer.Status))
		}
		switch t.Kind {
		case "tel":
			problems = append(problems, p.problems(t.Target, t.CallerID, dialled)...)
			v.Why = fmt.Sprintf("tel %s (%s) from %s", t.Target, countryOf(t.Target), p.describeSource(t.CallerID))
		case "agent":
			ag, ok := findAgent(acct.agents, t.Target)
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("agent %s is not an agent of this account", t.Target))
			case len(ag.Addresses) == 0:
				problems = append(problems, fmt.Sprintf("agent %s has no address: nobody would ring", t.Target))
			}
			var tels []string
			for _, a := range ag.Addresses {
				if a.Type == "tel" {
					tels = append(tels, a.Target)
					for _, pr := range p.problems(a.Target, t.CallerID, dialled) {
						problems = append(problems, "agent's phone "+a.Target+": "+pr)
					}
				}
			}
			v.Why = fmt.Sprintf("agent %s: %d address(es)", t.Target, len(ag.Addresses))
			if len(tels) > 0 {
				v.Why += fmt.Sprintf(", phone %s over the PSTN from %s", strings.Join(tels, ", "), p.describeSource(t.CallerID))
			}
		case "queue":
			var fail []string
			v.Why, fail, v.Warnings = queueWait(t, acct.queues[t.Target])
			problems = append(problems, fail...)
		default:
			v.Why = fmt.Sprintf("%s %s: no PSTN call, nothing more to check", t.Kind, t.Target)
		}
		if len(problems) > 0 {
			v.OK, v.Why = false, strings.Join(problems, "; ")
		}
		out = append(out, v)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Department < out[j].Department })
	return out
}

// queueWait tells whether a caller sent to queue t waits there as `switchboard
// check` says: the queue must exist and have a wait flow that passes time
// (VoIPBin fails the queue_join at once otherwise), and a pass of that flow
// must cost no more actions than the config assumes, or the call's actions
// run out sooner than check counts and the caller is hung up while waiting.
func queueWait(t Transfer, qr queueRead) (why string, fail, warn []string) {
	name := "queue " + t.Target
	switch {
	case qr.err != nil:
		return "", []string{fmt.Sprintf("%s cannot be read (%v): VoIPBin fails the queue_join and the caller is hung up", name, qr.err)}, nil
	case qr.flowErr != nil:
		return "", []string{fmt.Sprintf("%s: its wait flow %s cannot be read (%v): VoIPBin's fetch_flow fails and the caller is hung up", name, qr.queue.WaitFlowID, qr.flowErr)}, nil
	}
	if fail, warn = voipbin.QueueProblems(qr.queue, qr.waitFlow, t.ActionsLeft); len(fail) > 0 {
		return "", fail, warn
	}
	has := len(qr.waitFlow)
	passes := func(actions int) int { return max(t.ActionsLeft-2, 0) / (actions + 2) }
	if has > t.WaitActions {
		fail = append(fail, fmt.Sprintf("%s: a pass of its wait flow %s has %d actions and %s assumes %d: each pass costs %d actions, not %d, so a caller is cut off after %d passes, not the %d `switchboard check` counts. Set %s.actions to %d",
			name, qr.queue.WaitFlowID, has, t.WaitAt, t.WaitActions, has+2, t.WaitActions+2, passes(has), passes(t.WaitActions), t.WaitAt, has))
	}
	if !t.WaitDescribed && len(fail) == 0 {
		warn = append(warn, fmt.Sprintf(`%s is not set (assumed %d actions a pass); the queue's wait flow has %d: describe it, {"actions": %d, "loop_ms": %d} or the pass's real length`,
			t.WaitAt, t.WaitActions, has, has, voipbin.PassMS(qr.waitFlow)))
	}
	timeout := "no wait_timeout"
	if qr.queue.WaitTimeout > 0 {
		timeout = fmt.Sprintf("wait_timeout %v", time.Duration(qr.queue.WaitTimeout)*time.Millisecond)
	}
	// VoIPBin takes a caller out of the queue at its wait_timeout and the
	// flow goes on after the queue_join (bin-queue-manager queuecallhandler
	// TimeoutWait, Kick): only then does Switchboard take the caller on.
	if w := time.Duration(qr.queue.WaitTimeout) * time.Millisecond; t.MaxWait > 0 && (w == 0 || w > t.MaxWait) {
		warn = append(warn, fmt.Sprintf("%s: %s, but the department's longest wait is %v (max_wait_seconds): a caller nobody answers waits on until the call's actions run out and is hung up, or is taken for one who talked to an agent and is not taken on. Set the queue's wait_timeout to %d (ms) or less",
			name, timeout, t.MaxWait, t.MaxWait.Milliseconds()))
	}
	why = fmt.Sprintf("%s (%s): wait flow %s, %d action(s) a pass (+2 of VoIPBin's), at least %v a pass; %d passes in the %d actions a caller has left; %s",
		name, qr.queue.Name, qr.queue.WaitFlowID, has, time.Duration(voipbin.PassMS(qr.waitFlow))*time.Millisecond, passes(has), t.ActionsLeft, timeout)
	return why, fail, warn
}

func findAgent(agents []voipbin.Agent, id string) (voipbin.Agent, bool) {
	for _, a := range agents {
		if strings.EqualFold(a.ID, id) {
			return a, true
		}
	}
	return voipbin.Agent{}, false
}

// pstn is what VoIPBin checks before a PSTN call.
type pstn struct {
	acct    account
	allowed map[string]bool
	// callerIDs are the account's numbers VoIPBin shows as a caller ID.
	callerIDs map[string]bool
	// byNumber is every number of the account.
	byNumber map[string]voipbin.Number
	// hasDefault: the default caller ID is set and still one VoIPBin shows;
	// badDefault says why a set default is not.
	hasDefault bool
	badDefault string
}

func newPSTN(acct account) pstn {
	p := pstn{acct: acct, allowed: map[string]bool{}, callerIDs: map[string]bool{}, byNumber: map[string]voipbin.Number{}}
	for _, c := range acct.outbound.DestinationWhitelist {
		p.allowed[strings.ToLower(c)] = true
	}
	for _, n := range acct.numbers {
		p.byNumber[n.Number] = n
		if n.CallerID() {
			p.callerIDs[n.Number] = true
		}
	}
	if def := acct.outbound.DefaultOutgoingSourceNumberID; !voipbin.IsNil(def) {
		// VoIPBin checks the default again at each call: it may have been released or be virtual.
		i := slices.IndexFunc(acct.numbers, func(n voipbin.Number) bool { return strings.EqualFold(n.ID, def) })
		switch {
		case i < 0:
			p.badDefault = fmt.Sprintf("default_outgoing_source_number_id %s is no number of this account", def)
		case !acct.numbers[i].CallerID():
			p.badDefault = fmt.Sprintf("default_outgoing_source_number_id %s (%s) is not an active normal number", def, acct.numbers[i].Number)
		default:
			p.hasDefault = true
		}
	}
	return p
}

// problems lists why a PSTN call to target, shown as callerID ("": the
// number dialled, one of dialled), would be refused.
func (p pstn) problems(target, callerID string, dialled []string) []string {
	var problems []string
	if s := p.acct.customer.IdentityVerificationStatus; s != voipbin.Verified {
		problems = append(problems, fmt.Sprintf("the account's identity is not verified (identity_verification_status %q): VoIPBin refuses PSTN calls", cmpOr(s, "unknown")))
	}
	country := countryOf(target)
	switch {
	case country == "":
		problems = append(problems, fmt.Sprintf("cannot tell the country of %s; check destination_whitelist by hand", target))
	case !p.allowed[country]:
		problems = append(problems, fmt.Sprintf("%s is in %q, not in destination_whitelist %v", target, country, p.acct.outbound.DestinationWhitelist))
	}
	sources := []string{callerID}
	if callerID == "" {
		sources = dialled
		if len(dialled) == 0 {
			sources = []string{""}
		}
	}
	noDefault := "there is no default_outgoing_source_number_id"
	if p.badDefault != "" {
		noDefault = p.badDefault
	}
	for _, src := range sources {
		if p.callerIDs[src] || p.hasDefault {
			continue
		}
		switch n, known := p.byNumber[src]; {
		case src == "":
			problems = append(problems, "the caller ID is the number dialled, no number of the account is on the flow yet (--number), and "+noDefault)
		case known && n.Type == voipbin.NumberVirtual, !known && strings.HasPrefix(src, "+899"):
			problems = append(problems, fmt.Sprintf("caller ID %s is a virtual number VoIPBin will not send, and %s", src, noDefault))
		default:
			problems = append(problems, fmt.Sprintf("caller ID %s is not an active normal number of this account, and %s", src, noDefault))
		}
	}
	return problems
}

func (p pstn) describeSource(src string) string {
	switch {
	case src == "" && p.hasDefault:
		return "the number dialled, or the account's default caller ID"
	case src == "":
		return "the number dialled"
	case !p.callerIDs[src] && p.hasDefault:
		return "the account's default caller ID"
	}
	return src
}

// fetchURL is the flow's fetch target: the public URL with the token, the
// number's language when set, the number the caller dialled, and the number
// they call from (a returning caller is recognised by it, and never kept as it is).
func (c *client) fetchURL() string {
	return voipbin.FetchURL{Base: c.opt.PublicURL, Token: c.opt.FetchToken, Lang: c.opt.Language,
		To: voipbin.DialledNumber, From: voipbin.Var(voipbin.VarCaller)}.String()
}

// ensureFlow creates the flow, or updates it when it differs, and returns its id.
func (c *client) ensureFlow(ctx context.Context, have *voipbin.Flow) (string, error) {
	acts := []voipbin.Action{
		{Type: voipbin.TypeAnswer},
		{Type: voipbin.TypeFetch, Option: voipbin.FetchOption{EventURL: c.fetchURL(), EventMethod: "POST"}},
	}
	detail := "Switchboard: answers and hands the call to Switchboard's fetch"
	if c.opt.Flow != nil {
		detail = "Switchboard as one step: answer, fetch from Switchboard, branch on switchboard.department"
		acts = c.opt.Flow(c.fetchURL())
	}
	want := voipbin.Flow{Name: c.opt.FlowName, Detail: detail}
	for _, a := range acts {
		want.Actions = append(want.Actions, rawJSON(a))
	}
	if have == nil {
		var created voipbin.Flow
		err := c.write(http.MethodPost, "/v1.0/flows", want, func() (err error) {
			created, err = c.api.CreateFlow(ctx, want)
			return err
		})
		if err != nil {
			return "", err
		}
		c.done(fmt.Sprintf("flow %q", want.Name), "created "+created.ID)
		return cmpOr(created.ID, "(new flow id)"), nil
	}
	if sameActions(have.Actions, acts) {
		c.printf("flow %q: unchanged (%s)\n", want.Name, have.ID)
		return have.ID, nil
	}
	path := "/v1.0/flows/" + url.PathEscape(have.ID)
	if err := c.write(http.MethodPut, path, want, func() error { return c.api.UpdateFlow(ctx, have.ID, want) }); err != nil {
		return "", err
	}
	c.done(fmt.Sprintf("flow %q", want.Name), "updated ("+have.ID+")")
	return have.ID, nil
}

// rawJSON is v as JSON, a URL's "&" kept as it is (json.Marshal would
// write \u0026: the same string to VoIPBin, but unreadable in a dry run).
func rawJSON(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimSpace(b.Bytes())
}

// sameActions compares flows by what VoIPBin runs: action types and options,
// and the ids of wanted actions that have one (a branch's targets). VoIPBin
// adds ids to the others; those do not matter here.
func sameActions(have []json.RawMessage, want []voipbin.Action) bool {
	if len(have) != len(want) {
		return false
	}
	for i := range have {
		var h voipbin.Action
		if json.Unmarshal(have[i], &h) != nil {
			return false
		}
		if h.Type != want[i].Type || !bytes.Equal(optionJSON(h.Option), optionJSON(want[i].Option)) || want[i].ID != "" && h.ID != want[i].ID {
			return false
		}
	}
	return true
}

// optionJSON is an option's JSON with its keys in order, whether it was
// built (a struct) or read back (a map).
func optionJSON(opt any) []byte {
	b, _ := json.Marshal(opt)
	var v any
	if json.Unmarshal(b, &v) != nil {
		return b
	}
	b, _ = json.Marshal(v)
	return b
}

// ensureNumber points the number at the flow, buying a virtual one with Buy.
// Only the call flow is ours: the number's message (SMS) flow, name and
// detail are the customer's, and /flow_ids with the message flow sent back
// leaves them as they are.
func (c *client) ensureNumber(ctx context.Context, numbers []voipbin.Number, flowID string) error {
	var n *voipbin.Number
	for i := range numbers {
		if c.opt.Number != "" && numbers[i].Number == c.opt.Number || c.opt.Number == "" && c.opt.Buy && numbers[i].CallFlowID == flowID {
			n = &numbers[i]
			break
		}
	}
	switch {
	case n == nil && c.opt.Number != "":
		return fmt.Errorf("provision: %s is not a number of this account (buy it first, or use --buy)", c.opt.Number)
	case n == nil && c.opt.Buy:
		avail, err := c.api.AvailableVirtualNumbers(ctx, 1)
		if err != nil {
			return err
		}
		if len(avail) == 0 {
			return errors.New("provision: VoIPBin offers no virtual number to take")
		}
		// Bought already pointing at the flow: one write, and a virtual
		// number (free, no identity check), never one from the carrier.
		body := map[string]string{"number": avail[0], "type": voipbin.NumberVirtual, "call_flow_id": flowID, "name": c.opt.FlowName}
		var bought voipbin.Number
		err = c.write(http.MethodPost, "/v1.0/numbers", body, func() (err error) {
			bought, err = c.api.BuyVirtualNumber(ctx, avail[0], flowID, c.opt.FlowName)
			return err
		})
		if err != nil {
			return err
		}
		c.done("number "+cmpOr(bought.Number, avail[0]), "taken (virtual, free) on the flow")
		return nil
	case n == nil:
		c.printf("number: none given (--number N or --buy); attach the flow to a number by hand\n")
		return nil
	}
	if n.CallFlowID == flowID {
		c.printf("number %s: already on the flow\n", n.Number)
		return nil
	}
	path := "/v1.0/numbers/" + url.PathEscape(n.ID) + "/flow_ids"
	body := map[string]string{"call_flow_id": flowID, "message_flow_id": cmpOr(n.MessageFlowID, voipbin.NilID)}
	if err := c.write(http.MethodPut, path, body, func() error { return c.api.SetNumberFlows(ctx, n.ID, flowID, n.MessageFlowID) }); err != nil {
		return err
	}
	c.done("number "+n.Number, "attached to the flow")
	return nil
}

// ensureWebhook points the customer's events at /voipbin/events. PUT
// /v1.0/customer writes all seven of its fields, so the other five go back
// as read.
func (c *client) ensureWebhook(ctx context.Context, cust voipbin.Customer) error {
	want := c.eventsURL()
	if cust.WebhookURI == want && cust.WebhookMethod == http.MethodPost {
		c.printf("event webhook: unchanged (%s)\n", want)
		return nil
	}
	body := cust.WithWebhook(http.MethodPost, want)
	if err := c.write(http.MethodPut, "/v1.0/customer", body, func() error { return c.api.UpdateCustomer(ctx, body) }); err != nil {
		return err
	}
	c.done("event webhook", "set to "+want)
	return nil
}
