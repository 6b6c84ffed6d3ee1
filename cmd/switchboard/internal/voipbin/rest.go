// Package voipbin is VoIPBin as Switchboard speaks to it; this file is its
// REST API (provisioning, the preflight, stopping transcriptions). The shapes
// and rules here are read from VoIPBin's source (bin-api-manager's handlers and
// request structs, the managers behind them); CONFORMANCE.md lists each
// call with the source that says what VoIPBin does with it.
package voipbin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// DefaultAPI is VoIPBin's API root.
const DefaultAPI = "https://api.voipbin.net"

// NilID is the nil UUID VoIPBin shows for "none" (a number without a flow, an
// outbound config without a default caller ID): its ids are uuid.UUID values,
// never empty strings.
const NilID = "00000000-0000-0000-0000-000000000000"

// IsNil reports whether id names nothing: empty or the nil UUID.
func IsNil(id string) bool { return id == "" || id == NilID }

// Client calls VoIPBin's REST API, authenticated either by an access key
// (sent as ?accesskey=, never as a Bearer) or by a login token (Login).
type Client struct {
	API       string // the API root; empty: DefaultAPI
	AccessKey string
	Token     string // a JWT from Login, sent as Authorization: Bearer
	HTTP      *http.Client
	// Sent, when set, sees every request before it goes out, its body as
	// sent (a dry run shows them).
	Sent func(method, path string, body []byte)
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

// Retryable reports whether trying the same request again may succeed: a 5xx
// or a 429. A 4xx will be refused again.
func (e *APIError) Retryable() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

// Login exchanges a username and password for a token (POST /auth/login: no
// /v1.0 prefix) and keeps it in c.
func (c *Client) Login(ctx context.Context, username, password string) error {
	var out struct {
		Token string `json:"token"`
	}
	if err := c.Do(ctx, http.MethodPost, "/auth/login", map[string]string{"username": username, "password": password}, &out); err != nil {
		return err
	}
	if out.Token == "" {
		return errors.New("VoIPBin's login answered without a token")
	}
	c.Token = out.Token
	return nil
}

// Do sends one request with a JSON body (nil: none) and decodes a 2xx
// answer into out (nil: ignored). Other statuses are an *APIError.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return fmt.Errorf("VoIPBin %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	u := strings.TrimSuffix(cmpOr(c.API, DefaultAPI), "/") + path
	if c.AccessKey != "" {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + "accesskey=" + url.QueryEscape(c.AccessKey)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("VoIPBin %s %s: %w", method, path, RedactError(err))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" && c.AccessKey == "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.Sent != nil {
		c.Sent(method, path, b)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("VoIPBin %s %s: %w", method, path, RedactError(err))
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		body := string(rb)
		if c.AccessKey != "" { // an answer that quotes the key must not put it in a log
			body = strings.ReplaceAll(body, c.AccessKey, "(the access key)")
		}
		return &APIError{Method: method, Path: path, Status: resp.StatusCode, Body: body}
	}
	if out != nil && len(bytes.TrimSpace(rb)) > 0 {
		if err := json.Unmarshal(rb, out); err != nil {
			return fmt.Errorf("VoIPBin %s %s: unexpected answer: %w", method, path, err)
		}
	}
	return nil
}

// secretParams are the query parameters that carry a credential: VoIPBin's
// access key, the fetch token (?t=), and the usual names for tokens.
var secretParams = []string{"accesskey", "t", "token", "access_token", "key", "secret", "password"}

// RedactURL returns u with every credential in it (the secret query
// parameters, a password in the user info) replaced by ***, so a URL can go
// into an error or a log line.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		// Unparsable: keep the scheme, host and path, never the query.
		before, _, _ := strings.Cut(u, "?")
		return before + "?***"
	}
	if _, has := p.User.Password(); has {
		p.User = url.UserPassword(p.User.Username(), "***")
	}
	if p.RawQuery != "" {
		q := p.Query()
		for k := range q {
			if slices.Contains(secretParams, strings.ToLower(k)) {
				q[k] = []string{"***"}
			}
		}
		p.RawQuery = q.Encode()
	}
	return strings.ReplaceAll(p.String(), "%2A%2A%2A", "***")
}

// RedactError redacts the URL of every *url.Error in err's chain (what
// net/http returns: `Get "https://...?accesskey=..."`), in place, and
// returns err.
func RedactError(err error) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ue, ok := e.(*url.Error); ok {
			ue.URL = RedactURL(ue.URL)
		}
	}
	return err
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Customer is the account (GET /v1.0/customer, bin-customer-manager's
// SelfWebhookMessage). PUT /v1.0/customer writes its first seven fields,
// all of them: one left out is written empty.
type Customer struct {
	Name          string `json:"name"`
	Detail        string `json:"detail"`
	Email         string `json:"email"`
	PhoneNumber   string `json:"phone_number"`
	Address       string `json:"address"`
	WebhookMethod string `json:"webhook_method"`
	WebhookURI    string `json:"webhook_uri"`

	// Read only.
	ID     string `json:"id,omitempty"`
	Status string `json:"status,omitempty"` // initial, active, frozen, deleted, expired: only active may call out
	// IdentityVerificationStatus is none, pending, verified or rejected: only
	// verified may call the PSTN or buy a normal number.
	IdentityVerificationStatus string `json:"identity_verification_status,omitempty"`
	// WebhookSecret signs the events (X-VoIPBIN-Signature); VoIPBin makes it
	// when the account is created and offers no way to set or change it. An
	// account without one gets its events unsigned.
	WebhookSecret string `json:"webhook_secret,omitempty"`
}

// Customer statuses and identity verification statuses that matter here.
const (
	CustomerActive = "active"
	Verified       = "verified"
)

// GetCustomer reads the account.
func (c *Client) GetCustomer(ctx context.Context) (Customer, error) {
	var cu Customer
	err := c.Do(ctx, http.MethodGet, "/v1.0/customer", nil, &cu)
	return cu, err
}

// CustomerUpdate is PUT /v1.0/customer's body: every field is written.
type CustomerUpdate struct {
	Name          string `json:"name"`
	Detail        string `json:"detail"`
	Email         string `json:"email"`
	PhoneNumber   string `json:"phone_number"`
	Address       string `json:"address"`
	WebhookMethod string `json:"webhook_method"`
	WebhookURI    string `json:"webhook_uri"`
}

// WithWebhook is cu as PUT /v1.0/customer must send it to change the event
// webhook alone: every other field sent back as read.
func (cu Customer) WithWebhook(method, uri string) CustomerUpdate {
	return CustomerUpdate{Name: cu.Name, Detail: cu.Detail, Email: cu.Email, PhoneNumber: cu.PhoneNumber, Address: cu.Address,
		WebhookMethod: method, WebhookURI: uri}
}

// UpdateCustomer writes every field of u.
func (c *Client) UpdateCustomer(ctx context.Context, u CustomerUpdate) error {
	return c.Do(ctx, http.MethodPut, "/v1.0/customer", u, nil)
}

// OutboundConfig says where transfers may call and from which caller ID
// (GET /v1.0/outbound_config).
type OutboundConfig struct {
	// DestinationWhitelist holds ISO 3166 alpha-2 codes, lower case; empty
	// denies every PSTN call.
	DestinationWhitelist []string `json:"destination_whitelist"`
	// DefaultOutgoingSourceNumberID is always present: NilID when there is
	// no default caller ID.
	DefaultOutgoingSourceNumberID string `json:"default_outgoing_source_number_id"`
}

// GetOutboundConfig reads the outbound config.
func (c *Client) GetOutboundConfig(ctx context.Context) (OutboundConfig, error) {
	var oc OutboundConfig
	err := c.Do(ctx, http.MethodGet, "/v1.0/outbound_config", nil, &oc)
	return oc, err
}

// Number is one of the account's numbers.
type Number struct {
	ID            string `json:"id"`
	Number        string `json:"number"`
	Type          string `json:"type"` // normal or virtual (+899...)
	CallFlowID    string `json:"call_flow_id"`
	MessageFlowID string `json:"message_flow_id"`
	Name          string `json:"name"`
	Detail        string `json:"detail"`
	Status        string `json:"status"` // active, deleted
}

// Number types and the status of a number in use.
const (
	NumberNormal  = "normal"
	NumberVirtual = "virtual"
	NumberActive  = "active"
)

// CallerID reports whether VoIPBin shows n as a transfer's caller ID: only
// an active normal number in E.164 (bin-call-manager callhandler
// getValidatedSourceForOutgoingCall).
func (n Number) CallerID() bool {
	return n.Type == NumberNormal && n.Status == NumberActive && strings.HasPrefix(n.Number, "+")
}

// Numbers lists the account's numbers.
func (c *Client) Numbers(ctx context.Context) ([]Number, error) {
	return list[Number](ctx, c, "/v1.0/numbers")
}

// SetNumberFlows points a number at its flows (PUT
// /v1.0/numbers/{id}/flow_ids). Both are written: send the message flow
// back as read to keep the number's SMS handling.
func (c *Client) SetNumberFlows(ctx context.Context, id, callFlowID, messageFlowID string) error {
	body := map[string]string{"call_flow_id": callFlowID, "message_flow_id": cmpOr(messageFlowID, NilID)}
	return c.Do(ctx, http.MethodPut, "/v1.0/numbers/"+url.PathEscape(id)+"/flow_ids", body, nil)
}

// AvailableVirtualNumbers lists up to n free virtual numbers.
func (c *Client) AvailableVirtualNumbers(ctx context.Context, n int) ([]string, error) {
	var page struct {
		Result []struct {
			Number string `json:"number"`
		} `json:"result"`
	}
	if err := c.Do(ctx, http.MethodGet, fmt.Sprintf("/v1.0/available_numbers?type=virtual&page_size=%d", n), nil, &page); err != nil {
		return nil, err
	}
	var out []string
	for _, r := range page.Result {
		out = append(out, r.Number)
	}
	return out, nil
}

// BuyVirtualNumber takes a free virtual number for the account, pointed at
// callFlowID. Without "type": "virtual" VoIPBin would buy a normal number
// from its carrier instead, which costs money and a verified identity.
func (c *Client) BuyVirtualNumber(ctx context.Context, number, callFlowID, name string) (Number, error) {
	body := map[string]string{"number": number, "type": NumberVirtual, "call_flow_id": callFlowID, "name": name}
	var n Number
	err := c.Do(ctx, http.MethodPost, "/v1.0/numbers", body, &n)
	return n, err
}

// Flow is a flow (POST/PUT /v1.0/flows), its actions as VoIPBin takes them.
type Flow struct {
	ID      string            `json:"id,omitempty"`
	Name    string            `json:"name"`
	Detail  string            `json:"detail"`
	Actions []json.RawMessage `json:"actions"`
}

// Flows lists the account's flows.
func (c *Client) Flows(ctx context.Context) ([]Flow, error) {
	return list[Flow](ctx, c, "/v1.0/flows")
}

// CreateFlow creates f and returns it with its id.
func (c *Client) CreateFlow(ctx context.Context, f Flow) (Flow, error) {
	var out Flow
	err := c.Do(ctx, http.MethodPost, "/v1.0/flows", f, &out)
	return out, err
}

// UpdateFlow replaces flow id's name, detail and actions with f's.
func (c *Client) UpdateFlow(ctx context.Context, id string, f Flow) error {
	f.ID = ""
	return c.Do(ctx, http.MethodPut, "/v1.0/flows/"+url.PathEscape(id), f, nil)
}

// GetFlow reads one flow (GET /v1.0/flows/{id}); a deleted one is 404
// (bin-api-manager servicehandler flowGet).
func (c *Client) GetFlow(ctx context.Context, id string) (Flow, error) {
	var f Flow
	err := c.Do(ctx, http.MethodGet, "/v1.0/flows/"+url.PathEscape(id), nil, &f)
	return f, err
}

// Queue reads a queue (GET /v1.0/queues/{id}, bin-queue-manager's
// WebhookMessage): its wait_flow_id is always there, the nil UUID for none,
// and wait_timeout is left out when 0.
func (c *Client) Queue(ctx context.Context, id string) (Queue, error) {
	var q Queue
	err := c.Do(ctx, http.MethodGet, "/v1.0/queues/"+url.PathEscape(id), nil, &q)
	return q, err
}

// FlowActions decodes a flow's actions, their options as JSON objects.
func FlowActions(f Flow) ([]Action, error) {
	acts := []Action{}
	for _, raw := range f.Actions {
		var a Action
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, fmt.Errorf("flow %s: action %s: %w", f.ID, raw, err)
		}
		acts = append(acts, a)
	}
	return acts, nil
}

// Agent is one of the account's agents (GET /v1.0/agents). A transfer to
// an agent rings each of its addresses (bin-call-manager groupcallhandler
// getDialDestinationsAddressAndRingMethodTypeAgent): a tel address is a PSTN
// call, under the same whitelist, caller-ID and verification rules.
type Agent struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Addresses []AgentAddress `json:"addresses"`
}

// AgentAddress is where an agent is rung: type tel, sip, extension, ...
type AgentAddress struct {
	Type   string `json:"type"`
	Target string `json:"target"`
}

// Agents lists the account's agents.
func (c *Client) Agents(ctx context.Context) ([]Agent, error) {
	return list[Agent](ctx, c, "/v1.0/agents")
}

// StopTranscribe stops a transcription (POST /v1.0/transcribes/{id}/stop).
// VoIPBin answers 200 for one already stopped too (bin-transcribe-manager
// transcribehandler Stop), so stopping twice is harmless.
func (c *Client) StopTranscribe(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodPost, "/v1.0/transcribes/"+url.PathEscape(id)+"/stop", nil, nil)
}

// pageSize is the largest page VoIPBin serves.
const pageSize = 100

// list reads every page of a list resource. VoIPBin gives a next page token
// with every page that has items, so a short page is the last.
func list[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	var all []T
	token := ""
	for range 100 { // bounded: a server that keeps paging forever is a bug, not a reason to hang
		p := fmt.Sprintf("%s?page_size=%d", path, pageSize)
		if token != "" {
			p += "&page_token=" + url.QueryEscape(token)
		}
		var pg struct {
			Result        []T    `json:"result"`
			NextPageToken string `json:"next_page_token"`
		}
		if err := c.Do(ctx, http.MethodGet, p, nil, &pg); err != nil {
			return nil, err
		}
		all = append(all, pg.Result...)
		if pg.NextPageToken == "" || len(pg.Result) < pageSize {
			return all, nil
		}
		token = pg.NextPageToken
	}
	return all, fmt.Errorf("VoIPBin GET %s: more than 100 pages", path)
}

// ErrorKind sorts a failed REST API call: unauthorized (401: the access
// key is expired or deleted, bin-api-manager lib/middleware/authenticate.go
// Authenticate and authenticateAccesskey, abortUnauthenticated; 403: the
// account is frozen, isFrozenAccountBlocked, or the key lacks permission),
// refused (another 4xx) or unavailable (a 5xx or no answer, after retries).
func ErrorKind(err error) string {
	var apiErr *APIError
	switch {
	case !errors.As(err, &apiErr):
		return "unavailable"
	case apiErr.Status == http.StatusUnauthorized || apiErr.Status == http.StatusForbidden:
		return "unauthorized"
	case apiErr.Retryable():
		return "unavailable"
	}
	return "refused"
}
