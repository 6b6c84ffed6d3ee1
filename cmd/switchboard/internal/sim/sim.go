// Package sim is a VoIPBin call simulator: it plays a scripted caller against
// a Switchboard server over real HTTP, executing the actions the server
// returns the way VoIPBin does (talk, sleep, fetch, digits_receive,
// transcribe_start, connect, hangup) and delivering the caller's words as
// transcript_created events. It checks VoIPBin's rules on every answer and
// writes a readable transcript of the call, for golden-file tests.
package sim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// Step is what the caller does at the next moment VoIPBin gives them.
type Step struct {
	Say    string `json:"say,omitempty"`    // speak during the next pause
	Press  string `json:"press,omitempty"`  // keys typed at the next digits_receive
	Silent bool   `json:"silent,omitempty"` // say nothing during the next pause
	Hangup bool   `json:"hangup,omitempty"` // hang up during the next pause
}

// Options configures a simulated call.
type Options struct {
	CallID string
	// Bases are the servers' base URLs ("http://127.0.0.1:1234"). Requests go to
	// them in turn, like a load balancer in front of replicas.
	Bases []string
	Token string // the fetch token, ?t=
	// Language, when set, is put in the number's first fetch URL (?lang=), as
	// an operator does for a number that answers in another language.
	Language string
	// Secret signs events as VoIPBin does, when set.
	Secret string
	// DuplicateEvents delivers every event twice, as VoIPBin's retries can.
	DuplicateEvents bool
	// Client defaults to http.DefaultClient.
	Client *http.Client
	// RetryEvent, when set, is asked whether to deliver an event again after a
	// 5xx answer (VoIPBin retries up to 3 times, 1 s apart); attempt counts from 1.
	RetryEvent func(attempt int) bool
	// OnLine, when set, sees each transcript line as it is written, so a test
	// can act at a given moment of the call (stop a server, say).
	OnLine func(line string)
	// Caller, when set, is asked for the caller's next move once the scripted
	// steps run out: at a pause (menu false) or a keypad prompt (menu true).
	// It returns false when the caller has nothing more to do.
	Caller func(menu bool) (Step, bool)
}

// Result is what happened on the call.
type Result struct {
	Transcript []string
	Connected  string // the number the call was connected to, if any
	Fetches    int
	Actions    int // actions VoIPBin executed, its flow's answer and fetch included
}

// VoIPBin's limits.
const (
	maxActions = 100
	maxFetches = 60
)

type call struct {
	opt          Options
	res          *Result
	requests     int
	transcribeID string
	digits       string
	steps        []Step
	events       int
}

// Run plays steps as one call and returns its transcript. An error means the
// server broke VoIPBin's rules (bad status, bad JSON, bad action ids) or the
// network failed; the transcript so far is returned with it.
func Run(ctx context.Context, opt Options, steps []Step) (*Result, error) {
	if opt.Client == nil {
		opt.Client = http.DefaultClient
	}
	c := &call{opt: opt, res: &Result{Actions: 2}, steps: steps} // the number's flow: answer, fetch
	next := "/voipbin/fetch?t=" + url.QueryEscape(opt.Token)
	if opt.Language != "" {
		next += "&lang=" + url.QueryEscape(opt.Language)
	}
	acts, err := c.fetch(ctx, next)
	if err != nil {
		return c.res, err
	}
	for len(acts) > 0 {
		a := acts[0]
		acts = acts[1:]
		c.res.Actions++
		if c.res.Actions > maxActions {
			c.logf("VOIPBIN ACTION LIMIT REACHED: call dropped")
			return c.res, fmt.Errorf("call %s: over VoIPBin's %d actions", opt.CallID, maxActions)
		}
		var o struct {
			Text         string    `json:"text"`
			Language     string    `json:"language"`
			Direction    string    `json:"direction"`
			Duration     int       `json:"duration"`
			Length       int       `json:"length"`
			EventURL     string    `json:"event_url"`
			Destinations []address `json:"destinations"`
			Source       *address  `json:"source"`
			Reason       string    `json:"reason"`
		}
		if len(a.Option) > 0 {
			if err := json.Unmarshal(a.Option, &o); err != nil {
				return c.res, fmt.Errorf("action %s option: %w", a.Type, err)
			}
		}
		switch a.Type {
		case "transcribe_start":
			c.logf("  transcribe_start %s %s", o.Language, o.Direction)
			c.transcribeID = "transcribe-" + opt.CallID
			if err := c.event(ctx, "transcribe_created", map[string]any{
				"id": c.transcribeID, "reference_type": "call", "reference_id": opt.CallID,
				"direction": o.Direction, "language": o.Language,
			}); err != nil {
				return c.res, err
			}
		case "talk":
			c.logf("  talk (%s): %s", o.Language, o.Text)
		case "sleep":
			c.logf("  sleep %d", o.Duration)
			done, err := c.pause(ctx)
			if err != nil || done {
				return c.res, err
			}
		case "digits_receive":
			c.logf("  digits_receive %d ms, %d key", o.Duration, o.Length)
			c.digits = ""
			if s, ok := c.peek(true); ok && (s.Press != "" || s.Silent) {
				c.steps = c.steps[1:]
				c.digits = s.Press
				if s.Press != "" {
					c.logf("caller presses %s", s.Press)
				} else {
					c.logf("caller presses nothing")
				}
			}
		case "fetch":
			u := strings.ReplaceAll(o.EventURL, "${voipbin.call.digits}", c.digits)
			parsed, err := url.Parse(u)
			if err != nil {
				return c.res, fmt.Errorf("fetch event_url %q: %w", o.EventURL, err)
			}
			if acts, err = c.fetch(ctx, parsed.RequestURI()); err != nil {
				return c.res, err
			}
		case "connect":
			to := ""
			if len(o.Destinations) > 0 {
				to = o.Destinations[0].Target
			}
			from := ""
			if o.Source != nil {
				from = " from " + o.Source.Target
			}
			c.logf("  connect %s%s", to, from)
			c.res.Connected = to
			return c.res, nil
		case "hangup":
			c.logf("  hangup %s", o.Reason)
			return c.res, nil
		default:
			return c.res, fmt.Errorf("unknown action type %q", a.Type)
		}
	}
	c.logf("flow ended without connect or hangup")
	return c.res, nil
}

type address struct {
	Type   string `json:"type"`
	Target string `json:"target"`
}

type action struct {
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	Option json.RawMessage `json:"option"`
}

func (c *call) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	c.res.Transcript = append(c.res.Transcript, line)
	if c.opt.OnLine != nil {
		c.opt.OnLine(line)
	}
}

func (c *call) peek(menu bool) (Step, bool) {
	if len(c.steps) == 0 && c.opt.Caller != nil {
		if s, ok := c.opt.Caller(menu); ok {
			c.steps = append(c.steps, s)
		}
	}
	if len(c.steps) == 0 {
		return Step{}, false
	}
	return c.steps[0], true
}

// pause is a sleep: the caller may speak or hang up meanwhile. It reports
// whether the call ended.
func (c *call) pause(ctx context.Context) (bool, error) {
	s, ok := c.peek(false)
	if !ok || s.Press != "" {
		return false, nil
	}
	c.steps = c.steps[1:]
	switch {
	case s.Hangup:
		c.logf("caller hangs up")
		return true, c.event(ctx, "call_hangup", map[string]any{"id": c.opt.CallID, "hangup_reason": "normal"})
	case s.Say != "":
		c.logf("caller: %s", s.Say)
		if c.transcribeID == "" {
			c.logf("(not transcribed: no transcribe_start)")
			return false, nil
		}
		c.events++
		return false, c.event(ctx, "transcript_created", map[string]any{
			"id": fmt.Sprintf("transcript-%s-%d", c.opt.CallID, c.events), "transcribe_id": c.transcribeID,
			"direction": "in", "message": s.Say, "tm_transcript": "2026-08-22 10:11:12.123456",
		})
	default:
		c.logf("caller is silent")
		return false, nil
	}
}

func (c *call) base() string {
	b := c.opt.Bases[c.requests%len(c.opt.Bases)]
	c.requests++
	return strings.TrimSuffix(b, "/")
}

// fetch posts VoIPBin's fetch request and checks the answer the way VoIPBin
// needs it: 200, a bare JSON array, every action with a fresh non-zero UUID.
func (c *call) fetch(ctx context.Context, requestURI string) ([]action, error) {
	c.res.Fetches++
	if c.res.Fetches > maxFetches {
		return nil, fmt.Errorf("more than %d fetches", maxFetches)
	}
	shown := requestURI
	if i := strings.Index(shown, "?t="); i >= 0 {
		shown = shown[:i] + strings.Replace(shown[i:], "t="+url.QueryEscape(c.opt.Token), "t=TOKEN", 1)
	}
	c.logf("fetch %s", shown)
	body, _ := json.Marshal(map[string]string{"activeflow_id": "flow-" + c.opt.CallID, "reference_id": c.opt.CallID})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base()+requestURI, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.opt.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		c.logf("FETCH FAILED %d: %s (VoIPBin stops the call)", resp.StatusCode, b)
		return nil, fmt.Errorf("fetch answered %d: %s", resp.StatusCode, b)
	}
	var acts []action
	if err := json.Unmarshal(b, &acts); err != nil {
		c.logf("FETCH ANSWER IS NOT A JSON ARRAY: %s", b)
		return nil, fmt.Errorf("fetch answer: %w", err)
	}
	seen := map[string]bool{}
	for _, a := range acts {
		id, err := uuid.Parse(a.ID)
		if err != nil || id == uuid.Nil || seen[a.ID] {
			return nil, fmt.Errorf("action %s has a bad or repeated id %q", a.Type, a.ID)
		}
		seen[a.ID] = true
	}
	return acts, nil
}

// event delivers a webhook event; on 5xx it retries while RetryEvent allows.
func (c *call) event(ctx context.Context, typ string, data map[string]any) error {
	body, _ := json.Marshal(map[string]any{"type": typ, "data": data})
	times := 1
	if c.opt.DuplicateEvents {
		times = 2
	}
	for range times {
		for attempt := 1; ; attempt++ {
			status, err := c.post(ctx, body)
			if err != nil {
				return err
			}
			if status < 500 {
				if status != http.StatusOK {
					return fmt.Errorf("event %s answered %d", typ, status)
				}
				break
			}
			c.logf("(event %s answered %d)", typ, status)
			if c.opt.RetryEvent == nil || !c.opt.RetryEvent(attempt) {
				c.logf("EVENT %s LOST", typ)
				break
			}
		}
	}
	return nil
}

func (c *call) post(ctx context.Context, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base()+"/voipbin/events", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.opt.Secret != "" {
		mac := hmac.New(sha256.New, []byte(c.opt.Secret))
		mac.Write(body)
		req.Header.Set("X-VoIPBIN-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	resp, err := c.opt.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("event: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
