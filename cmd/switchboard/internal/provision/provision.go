// Package provision wires a VoIPBin account to Switchboard through VoIPBin's
// REST API: a flow [answer, fetch] whose fetch URL carries the fetch token, a
// number pointing at it, and the customer's event webhook. It is idempotent
// (the flow is found by name, nothing is written that is already right), and
// its preflight reads the outbound config to tell, per department, whether a
// transfer can go through before the first caller finds out.
//
// VoIPBin's API shapes live in this package and nowhere else; see
// VOIPBIN.md's "Provisioning".
package provision

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
)

// Transfer is where one department's calls go, as the routing config says.
type Transfer struct {
	Department string
	Kind       string // "tel", "sip", "extension", "agent", "queue"...; only tel transfers need the outbound checks
	Target     string
	// CallerID is the caller ID the transfer shows: a configured number, or ""
	// for the number the caller dialled (Switchboard's default).
	CallerID string
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
	// Flow, when set, builds the flow's actions around Switchboard's fetch
	// URL (token and dialled number in it): a customer's own flow with
	// Switchboard as one step of it. Nil: [answer, fetch].
	Flow func(fetchURL string) []voipbin.Action
	HTTP *http.Client
	Out  io.Writer // the report
}

// Result says what the run found and did.
type Result struct {
	Preflight     []Verdict
	WebhookSecret string // as VoIPBin shows it; empty when it shows none
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
}

// APIError is a refusal from VoIPBin, shown as the API gave it.
type APIError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("VoIPBin %s %s: %d %s: %s", e.Method, e.Path, e.Status, http.StatusText(e.Status), strings.TrimSpace(e.Body))
}

// Run provisions (or, with Check, only runs the preflight) and writes what it
// does to opt.Out.
func Run(ctx context.Context, opt Options) (Result, error) {
	c := &client{opt: opt, http: opt.HTTP}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	var res Result
	if err := c.login(ctx); err != nil {
		return res, err
	}
	var outbound outboundConfig
	if err := c.do(ctx, http.MethodGet, "/v1.0/outbound_config", nil, &outbound); err != nil {
		return res, err
	}
	numbers, err := list[number](ctx, c, "/v1.0/numbers")
	if err != nil {
		return res, err
	}
	flows, err := list[flow](ctx, c, "/v1.0/flows")
	if err != nil {
		return res, err
	}
	ours := findFlow(flows, opt.FlowName)
	dialled := c.dialledNumbers(numbers, ours)

	res.Preflight = preflight(opt.Transfers, outbound, numbers, dialled)
	c.printf("preflight (outbound config: whitelist %v, default caller ID %s):\n", outbound.DestinationWhitelist, orNone(outbound.DefaultOutgoingSourceNumberID))
	for _, v := range res.Preflight {
		mark := "ok  "
		if !v.OK {
			mark = "FAIL"
		}
		c.printf("  %s %-10s %s\n", mark, v.Department, v.Why)
	}
	if opt.Check {
		return res, nil
	}

	flowID, err := c.ensureFlow(ctx, ours)
	if err != nil {
		return res, err
	}
	if err := c.ensureNumber(ctx, numbers, flowID); err != nil {
		return res, err
	}
	secret, err := c.ensureWebhook(ctx)
	if err != nil {
		return res, err
	}
	res.WebhookSecret = secret
	return res, nil
}

type client struct {
	opt   Options
	http  *http.Client
	token string
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
	var out struct {
		Token string `json:"token"`
	}
	// Auth lives at /auth/login, without /v1.0. Logging in changes nothing, so a dry run does it too.
	if err := c.send(ctx, http.MethodPost, "/auth/login", map[string]string{"username": c.opt.Username, "password": c.opt.Password}, &out); err != nil {
		return err
	}
	if out.Token == "" {
		return errors.New("provision: VoIPBin's login answered without a token")
	}
	c.token = out.Token
	return nil
}

// do sends a request, or in a dry run prints a write instead of sending it.
func (c *client) do(ctx context.Context, method, path string, body, out any) error {
	if c.opt.DryRun && method != http.MethodGet {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // show a URL's "&" as the operator wrote it
		_ = enc.Encode(body)
		c.printf("would send: %s %s %s\n", method, path, mask(strings.TrimSpace(b.String())))
		return nil
	}
	return c.send(ctx, method, path, body, out)
}

func (c *client) send(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	u := strings.TrimSuffix(c.opt.API, "/") + path
	if c.opt.AccessKey != "" {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + "accesskey=" + url.QueryEscape(c.opt.AccessKey)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.opt.DryRun {
		c.printf("read: %s\n", strings.TrimSpace(method+" "+path+" "+mask(string(b))))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("VoIPBin %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return &APIError{Method: method, Path: path, Status: resp.StatusCode, Body: string(rb)}
	}
	if out != nil && len(bytes.TrimSpace(rb)) > 0 {
		if err := json.Unmarshal(rb, out); err != nil {
			return fmt.Errorf("VoIPBin %s %s: unexpected answer: %w", method, path, err)
		}
	}
	return nil
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

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// VoIPBin's resources, as far as provisioning reads them.
type (
	outboundConfig struct {
		DestinationWhitelist          []string `json:"destination_whitelist"`
		DefaultOutgoingSourceNumberID string   `json:"default_outgoing_source_number_id,omitempty"`
	}
	number struct {
		ID         string `json:"id"`
		Number     string `json:"number"`
		CallFlowID string `json:"call_flow_id,omitempty"`
		Status     string `json:"status,omitempty"`
	}
	flow struct {
		ID      string           `json:"id,omitempty"`
		Name    string           `json:"name"`
		Detail  string           `json:"detail"`
		Actions []voipbin.Action `json:"actions"`
	}
	customer struct {
		WebhookMethod string `json:"webhook_method"`
		WebhookURI    string `json:"webhook_uri"`
		WebhookSecret string `json:"webhook_secret,omitempty"`
	}
	page[T any] struct {
		Result        []T    `json:"result"`
		NextPageToken string `json:"next_page_token"`
	}
)

// list reads every page of a list resource.
func list[T any](ctx context.Context, c *client, path string) ([]T, error) {
	var all []T
	token := ""
	for range 100 { // bounded: a server that keeps paging forever is a bug, not a reason to hang
		p := path + "?page_size=100"
		if token != "" {
			p += "&page_token=" + url.QueryEscape(token)
		}
		var pg page[T]
		if err := c.send(ctx, http.MethodGet, p, nil, &pg); err != nil {
			return nil, err
		}
		all = append(all, pg.Result...)
		if pg.NextPageToken == "" || len(pg.Result) == 0 {
			return all, nil
		}
		token = pg.NextPageToken
	}
	return all, fmt.Errorf("VoIPBin GET %s: more than 100 pages", path)
}

func findFlow(flows []flow, name string) *flow {
	for i := range flows {
		if flows[i].Name == name {
			return &flows[i]
		}
	}
	return nil
}

// dialledNumbers is what callers dial to reach us: the number given, or the
// account's numbers already pointing at our flow.
func (c *client) dialledNumbers(numbers []number, ours *flow) []string {
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

// preflight tells, per department, whether VoIPBin will place its transfer:
// the destination's country must be whitelisted, and the caller ID must be an
// active normal number of the account, or the account must have a default one.
func preflight(transfers []Transfer, oc outboundConfig, numbers []number, dialled []string) []Verdict {
	allowed := map[string]bool{}
	for _, c := range oc.DestinationWhitelist {
		allowed[strings.ToLower(c)] = true
	}
	owned := map[string]bool{}
	for _, n := range numbers {
		if !voipbin.Virtual(n.Number) && (n.Status == "" || n.Status == "active") {
			owned[n.Number] = true
		}
	}
	hasDefault := oc.DefaultOutgoingSourceNumberID != ""
	var out []Verdict
	for _, t := range transfers {
		v := Verdict{Department: t.Department, OK: true}
		if t.Kind != "tel" {
			v.Why = fmt.Sprintf("%s %s: no outbound call, nothing to check", t.Kind, t.Target)
			out = append(out, v)
			continue
		}
		var problems []string
		country := countryOf(t.Target)
		switch {
		case country == "":
			problems = append(problems, fmt.Sprintf("cannot tell the country of %s; check destination_whitelist by hand", t.Target))
		case !allowed[country]:
			problems = append(problems, fmt.Sprintf("%s is in %q, not in destination_whitelist %v", t.Target, country, oc.DestinationWhitelist))
		}
		sources := []string{t.CallerID}
		if t.CallerID == "" {
			sources = dialled
			if len(dialled) == 0 {
				sources = []string{""}
			}
		}
		for _, src := range sources {
			if owned[src] || hasDefault {
				continue
			}
			switch {
			case src == "":
				problems = append(problems, "the caller ID is the number dialled, no number of the account is on the flow yet (--number)"+
					" and the account has no default_outgoing_source_number_id")
			case voipbin.Virtual(src):
				problems = append(problems, fmt.Sprintf("caller ID %s is a virtual number VoIPBin will not send, and there is no default_outgoing_source_number_id", src))
			default:
				problems = append(problems, fmt.Sprintf("caller ID %s is not an active number of this account, and there is no default_outgoing_source_number_id", src))
			}
		}
		if len(problems) > 0 {
			v.OK, v.Why = false, strings.Join(problems, "; ")
		} else {
			v.Why = fmt.Sprintf("tel %s (%s) from %s", t.Target, country, describeSource(t.CallerID, hasDefault, owned))
		}
		out = append(out, v)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Department < out[j].Department })
	return out
}

func describeSource(src string, hasDefault bool, owned map[string]bool) string {
	switch {
	case src == "":
		return "the number dialled"
	case !owned[src] && hasDefault:
		return "the account's default caller ID"
	}
	return src
}

// fetchURL is the flow's fetch target: the public URL with the token, the
// number's language when set, and the number the caller dialled.
func (c *client) fetchURL() string {
	u := strings.TrimSuffix(c.opt.PublicURL, "/") + "/voipbin/fetch?t=" + url.QueryEscape(c.opt.FetchToken)
	if c.opt.Language != "" {
		u += "&lang=" + url.QueryEscape(c.opt.Language)
	}
	return u + "&to=" + voipbin.DialledNumber
}

// ensureFlow creates the flow, or updates it when it differs, and returns its id.
func (c *client) ensureFlow(ctx context.Context, have *flow) (string, error) {
	want := flow{
		Name:   c.opt.FlowName,
		Detail: "Switchboard: answers and hands the call to Switchboard's fetch",
		Actions: []voipbin.Action{
			{Type: voipbin.TypeAnswer},
			{Type: voipbin.TypeFetch, Option: voipbin.FetchOption{EventURL: c.fetchURL(), EventMethod: "POST"}},
		},
	}
	if c.opt.Flow != nil {
		want.Detail = "Switchboard as one step: answer, fetch from Switchboard, branch on switchboard.department"
		want.Actions = c.opt.Flow(c.fetchURL())
	}
	if have == nil {
		var created flow
		if err := c.do(ctx, http.MethodPost, "/v1.0/flows", want, &created); err != nil {
			return "", err
		}
		c.done(fmt.Sprintf("flow %q", want.Name), "created "+created.ID)
		return cmpOr(created.ID, "(new flow id)"), nil
	}
	if sameActions(have.Actions, want.Actions) {
		c.printf("flow %q: unchanged (%s)\n", want.Name, have.ID)
		return have.ID, nil
	}
	if err := c.do(ctx, http.MethodPut, "/v1.0/flows/"+url.PathEscape(have.ID), want, nil); err != nil {
		return "", err
	}
	c.done(fmt.Sprintf("flow %q", want.Name), "updated ("+have.ID+")")
	return have.ID, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// sameActions compares flows by what VoIPBin runs: action types and options,
// and the ids of wanted actions that have one (a branch's targets). VoIPBin
// adds ids to the others; those do not matter here.
func sameActions(have, want []voipbin.Action) bool {
	if len(have) != len(want) {
		return false
	}
	for i := range have {
		if have[i].Type != want[i].Type || !bytes.Equal(optionJSON(have[i].Option), optionJSON(want[i].Option)) || want[i].ID != "" && have[i].ID != want[i].ID {
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

// ensureNumber points the number at the flow, buying one first with Buy.
func (c *client) ensureNumber(ctx context.Context, numbers []number, flowID string) error {
	var n *number
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
		var avail page[struct {
			Number string `json:"number"`
		}]
		if err := c.send(ctx, http.MethodGet, "/v1.0/available_numbers?type=virtual&page_size=1", nil, &avail); err != nil {
			return err
		}
		if len(avail.Result) == 0 {
			return errors.New("provision: VoIPBin offers no available number to buy")
		}
		var bought number
		if err := c.do(ctx, http.MethodPost, "/v1.0/numbers", map[string]string{"number": avail.Result[0].Number}, &bought); err != nil {
			return err
		}
		bought.Number = cmpOr(bought.Number, avail.Result[0].Number)
		c.done("number "+bought.Number, "bought")
		n = &bought
	case n == nil:
		c.printf("number: none given (--number N or --buy); attach the flow to a number by hand\n")
		return nil
	}
	if n.CallFlowID == flowID {
		c.printf("number %s: already on the flow\n", n.Number)
		return nil
	}
	if err := c.do(ctx, http.MethodPut, "/v1.0/numbers/"+url.PathEscape(cmpOr(n.ID, "(new number id)")), map[string]string{"call_flow_id": flowID}, nil); err != nil {
		return err
	}
	c.done("number "+n.Number, "attached to the flow")
	return nil
}

// ensureWebhook points the customer's events at /voipbin/events and returns
// the webhook secret VoIPBin shows.
func (c *client) ensureWebhook(ctx context.Context) (string, error) {
	var cust customer
	if err := c.send(ctx, http.MethodGet, "/v1.0/customer", nil, &cust); err != nil {
		return "", err
	}
	want := strings.TrimSuffix(c.opt.PublicURL, "/") + "/voipbin/events"
	if cust.WebhookURI == want && cust.WebhookMethod == http.MethodPost {
		c.printf("event webhook: unchanged (%s)\n", want)
	} else {
		if err := c.do(ctx, http.MethodPut, "/v1.0/customer", map[string]string{"webhook_method": http.MethodPost, "webhook_uri": want}, nil); err != nil {
			return "", err
		}
		c.done("event webhook", "set to "+want)
	}
	return cust.WebhookSecret, nil
}
