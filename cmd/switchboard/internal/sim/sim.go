// Package sim is a VoIPBin call simulator: it plays a scripted caller against
// a Switchboard server over real HTTP and executes the actions the server
// returns with VoIPBin's semantics (see VOIPBIN.md, "What VoIPBin does with
// our actions"), as strictly as VoIPBin does:
//
//   - ${...} is substituted when an action runs, in every string of its option,
//     nested ones included; an unset variable becomes "", and nothing is
//     URL-encoded, so a "#" in a fetch URL starts its fragment and is lost;
//   - keys pressed at any moment (during a talk, a sleep, the greeting) are kept
//     in ${voipbin.call.digits} for the whole call, a new press overwrites them,
//     and digits_receive returns at once when they already satisfy it;
//   - variable_set sets a variable;
//   - events are delivered up to 3 times, 1 s apart, on a 5xx or a connection error;
//   - a connect to a phone number needs a caller ID VoIPBin accepts (a normal
//     number the account owns, else the account's default outgoing number):
//     without one the transfer fails and the caller is hung up;
//   - queue_join puts the caller in a queue, to a human; an unknown action type
//     is skipped but counted; at most 100 actions run per call, the flow's
//     answer and fetch and the confbridge_join after a connect included;
//   - the number's own flow runs first, and what a fetch returns runs as a
//     stack frame on top of the flow that fetched it: when those actions end,
//     the flow goes on after its fetch (so an answer without connect or hangup
//     hands the call back to the number's flow); branch jumps to the action its
//     variable names, and resets that variable;
//   - each transcribe_start is a transcription of its own, and each one hears
//     everything the caller says, as VoIPBin's streaming speech-to-text
//     reports it (bin-transcribe-manager streaminghandler): the caller starts
//     speaking a moment after the pause begins and speaks for a while
//     (Step.SpeakMS); the recognizer's first interim result brings
//     transcribe_speech_started with it, interim results follow every half
//     second, and the final result brings transcribe_speech_ended and then
//     transcript_created, the only event with the final words;
//   - a caller who said something waits for a talk after it before they say
//     more (or keep a scripted silence);
//   - time passes only in pauses (sleep, digits_receive); a talk takes none.
//     By default the call runs on its own clock, fast and repeatable: the
//     events due by the end of a pause are delivered, in order, before the
//     action after it. With RealTime, pauses really last, and each event is
//     posted at its moment on a goroutine of its own, as VoIPBin's webhook
//     service does, racing the call's fetches.
//
// It writes a readable transcript of the call, for golden-file tests.
package sim

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Step is what the caller does at the next moment VoIPBin gives them.
type Step struct {
	Say    string `json:"say,omitempty"`    // speak
	Press  string `json:"press,omitempty"`  // press keys
	Silent bool   `json:"silent,omitempty"` // do nothing during the next pause or key collection
	Hangup bool   `json:"hangup,omitempty"` // hang up
	// During is the action the step happens during: "talk", "sleep" or
	// "digits_receive". Empty: keys are pressed at the next digits_receive,
	// words said (or the call hung up) during the next sleep.
	During string `json:"during,omitempty"`
	// SpeakMS is how long the caller speaks Say; zero: 400 ms a word, 1 to 4 s.
	SpeakMS int `json:"speak_ms,omitempty"`
}

// speakMS is how long the caller takes to say s.Say.
func (s Step) speakMS() int {
	if s.SpeakMS > 0 {
		return s.SpeakMS
	}
	return min(max(400*len(strings.Fields(s.Say)), 1000), 4000)
}

// at is the action the step waits for.
func (s Step) at() string {
	switch {
	case s.During != "":
		return s.During
	case s.Press != "":
		return "digits_receive"
	}
	return "sleep"
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
	// Caller is the caller's number and Dialled the number they dialled
	// (${voipbin.call.source.target}, ${voipbin.call.destination.target});
	// defaults DefaultCaller and DefaultDialled.
	Caller, Dialled string
	// Owned lists the account's other numbers. The dialled number is the
	// account's too. A virtual +899 number is never accepted as caller ID.
	Owned []string
	// DefaultOutgoing is the account's default outgoing number (its outbound
	// config), the caller ID VoIPBin uses when a transfer's is not accepted;
	// empty: none.
	DefaultOutgoing string
	// RetryPause is the pause between an event's delivery attempts; zero is
	// VoIPBin's 1 s. Tests shorten it.
	RetryPause time.Duration
	// FetchTimeout is how long VoIPBin waits for a fetch; zero is its 3 s.
	FetchTimeout time.Duration
	// OnLine, when set, sees each transcript line as it is written, so a test
	// can act at a given moment of the call (stop a server, say).
	OnLine func(line string)
	// Flow is the number's VoIPBin flow, its actions as JSON objects. Empty:
	// [answer, fetch] as provisioned, the fetch URL carrying the token, the
	// language when set, and the dialled number. A fetch URL's host is
	// ignored: every request goes to Bases.
	Flow []json.RawMessage
	// Ask, when set, is asked for the caller's next step once the scripted
	// ones run out, at each "sleep" and "digits_receive": a person at a
	// terminal playing the caller. It returns false when they have nothing more to do.
	Ask func(at string) (Step, bool)
	// RealTime plays the call in real time: pauses last their duration, and
	// the caller's speech events are posted at their moments, each on its
	// own goroutine. Default: the call's own clock (see the package doc).
	RealTime bool
	// EventBases, when set, receive the events instead of Bases: events to
	// one replica, fetches to another.
	EventBases []string
	// Holding is the acknowledgement the server says while it decides ("One
	// moment, please."): an answer that only says it, or only pauses, is not
	// yet the answer to the caller's words (see Result.Waits).
	Holding string
}

// Numbers of a simulated call unless Options say otherwise.
const (
	DefaultCaller  = "+14155550123"
	DefaultDialled = "+14155550000"
)

// Result is what happened on the call.
type Result struct {
	Transcript []string
	// Connected is where the caller reached a human: the target of a connect
	// that VoIPBin placed, or "queue <id>"; empty when nobody was reached.
	Connected string
	// CallerID is the caller ID the transfer showed (after substitution).
	CallerID string
	Fetches  int
	Actions  int // actions VoIPBin executed, its own (answer, fetch, confbridge_join) included
	// FetchTimes is how long each fetch took to be answered.
	FetchTimes []time.Duration
	// Waits are, with RealTime, how long after each of the caller's final
	// words (their transcript_created sent) the answer acting on them came
	// back from a fetch: the caller's wait in silence. Pauses and the Holding
	// acknowledgement do not end a wait.
	Waits []time.Duration
}

// Summary is the call's outcome in one line.
func (r *Result) Summary() string {
	s := fmt.Sprintf("result: connected=%q", r.Connected)
	if r.CallerID != "" {
		s += fmt.Sprintf(" caller_id=%q", r.CallerID)
	}
	return s + fmt.Sprintf(" fetches=%d actions=%d", r.Fetches, r.Actions)
}

// VoIPBin's limits and habits.
const (
	maxActions     = 100
	maxFetches     = 60
	maxFrames      = 100 // nested fetches
	eventAttempts  = 3
	retryPause     = time.Second
	fetchTimeout   = 3 * time.Second
	digitsVariable = "voipbin.call.digits"
	virtualPrefix  = "+899"
)

var telTarget = regexp.MustCompile(`^\+[0-9]{7,15}$`)

type call struct {
	opt         Options
	res         *Result
	transcribes []string // the ids of the call's transcriptions, in order
	vars        map[string]string
	steps       []Step
	// clock is the call's time in ms since it began: its own, or (RealTime)
	// the wall clock's since start.
	clock int
	start time.Time
	// due are the caller's speech events not yet delivered, by their time
	// (the call's own clock only); busyUntil is when the caller's current
	// utterance has been transcribed: no new step before it.
	due       []timedEvent
	busyUntil int
	// unanswered is set from the caller's words until a talk is heard after
	// them: a caller who said something waits for an answer before they
	// speak again (or keep silent on purpose).
	unanswered bool

	// mu guards what RealTime's event goroutines share with the call.
	mu       sync.Mutex
	requests int
	events   int
	// heardAt are the moments final words were sent and not yet answered.
	heardAt []time.Time
	posting sync.WaitGroup
	lost    error // the first event that could not be delivered (RealTime)
}

// timedEvent is a webhook event due at a moment of the call.
type timedEvent struct {
	at   int
	typ  string
	data map[string]any
}

// errEnded stops the call: the caller hung up, or VoIPBin ended it.
var errEnded = errors.New("call ended")

// Run plays steps as one call and returns its transcript. An error means the
// server broke VoIPBin's rules (bad status, bad JSON, bad action ids, a slow
// answer) or the network failed; the transcript so far is returned with it.
func Run(ctx context.Context, opt Options, steps []Step) (*Result, error) {
	if opt.Client == nil {
		opt.Client = http.DefaultClient
	}
	for i, s := range steps {
		if !slices.Contains([]string{"", "talk", "sleep", "digits_receive"}, s.During) {
			return &Result{}, fmt.Errorf("step %d: during %q: want talk, sleep or digits_receive", i+1, s.During)
		}
	}
	opt.Caller = cmp.Or(opt.Caller, DefaultCaller)
	opt.Dialled = cmp.Or(opt.Dialled, DefaultDialled)
	c := &call{opt: opt, res: &Result{}, steps: steps, start: time.Now(), vars: map[string]string{
		"voipbin.call.id":                 opt.CallID,
		"voipbin.activeflow.id":           "flow-" + opt.CallID,
		"voipbin.call.source.type":        "tel",
		"voipbin.call.source.target":      opt.Caller,
		"voipbin.call.destination.type":   "tel",
		"voipbin.call.destination.target": opt.Dialled,
	}}
	flow, err := numberFlow(opt)
	if err != nil {
		return c.res, err
	}
	res, err := c.run(ctx, flow)
	c.posting.Wait() // RealTime: the events still on their way
	if err == nil {
		c.mu.Lock()
		err = c.lost
		c.mu.Unlock()
	}
	return res, err
}

func (c *call) run(ctx context.Context, flow []action) (*Result, error) {
	opt := c.opt
	// frames is VoIPBin's stack: the number's flow at the bottom, what each
	// fetch returned on top of it; at[i] is the next action of frames[i].
	frames, at := [][]action{flow}, []int{0}
	for len(frames) > 0 {
		top := len(frames) - 1
		if at[top] == len(frames[top]) {
			frames, at = frames[:top], at[:top]
			if top > 0 && top == 1 && at[0] < len(frames[0]) {
				c.logf("(the fetched actions ended: the number's flow goes on after its fetch)")
			}
			continue
		}
		a := frames[top][at[top]]
		at[top]++
		if err := c.count(1); err != nil {
			return c.res, err
		}
		var o option
		if len(a.Option) > 0 {
			if err := c.decode(a.Option, &o); err != nil {
				return c.res, fmt.Errorf("action %s option: %w", a.Type, err)
			}
		}
		if a.Type == "branch" {
			i, err := c.branch(o, frames[top])
			if err != nil {
				return c.res, err
			}
			at[top] = i
			continue
		}
		fetched, err := c.execute(ctx, a.Type, o)
		if errors.Is(err, errEnded) {
			return c.res, nil
		}
		if err != nil {
			return c.res, err
		}
		if fetched != nil {
			if len(frames) == maxFrames {
				c.logf("VOIPBIN STACK LIMIT REACHED: call dropped")
				return c.res, fmt.Errorf("call %s: more than %d nested fetches", opt.CallID, maxFrames)
			}
			frames, at = append(frames, *fetched), append(at, 0)
		}
	}
	c.logf("flow ended: VoIPBin hangs up")
	return c.res, nil
}

// numberFlow is the number's flow: the one given, or the one provisioning creates.
func numberFlow(opt Options) ([]action, error) {
	raws := opt.Flow
	if len(raws) == 0 {
		u := "/voipbin/fetch?t=" + url.QueryEscape(opt.Token)
		if opt.Language != "" {
			u += "&lang=" + url.QueryEscape(opt.Language)
		}
		u += "&to=${voipbin.call.destination.target}"
		fetch, _ := json.Marshal(map[string]any{"id": uuid.NewString(), "type": "fetch",
			"option": map[string]string{"event_url": u, "event_method": "POST"}})
		raws = []json.RawMessage{json.RawMessage(`{"id":"` + uuid.NewString() + `","type":"answer"}`), fetch}
	}
	acts := make([]action, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal(raw, &acts[i]); err != nil {
			return nil, fmt.Errorf("the number's flow, action %d: %w", i+1, err)
		}
	}
	return acts, nil
}

// branch finds where a branch action jumps to in its flow, and resets the
// variable it read, as VoIPBin does.
func (c *call) branch(o option, flow []action) (int, error) {
	value := c.vars[o.Variable]
	target, ok := o.TargetIDs[value]
	if !ok {
		target = o.DefaultTargetID
	}
	c.logf("  branch on %s=%q", o.Variable, value)
	c.vars[o.Variable] = ""
	for i, a := range flow {
		if a.ID == target {
			return i, nil
		}
	}
	c.logf("BRANCH TARGET %q NOT IN THE FLOW: VoIPBin stops the call", target)
	return 0, fmt.Errorf("branch target %q is no action of the flow", target)
}

// option holds every option field of the actions we play.
type option struct {
	Text         string    `json:"text"`
	Language     string    `json:"language"`
	Direction    string    `json:"direction"`
	Duration     int       `json:"duration"`
	Length       int       `json:"length"`
	Key          string    `json:"key"` // digits_receive's terminating key, variable_set's variable
	EventURL     string    `json:"event_url"`
	Destinations []address `json:"destinations"`
	Source       *address  `json:"source"`
	QueueID      string    `json:"queue_id"`
	Reason       string    `json:"reason"`
	Value        string    `json:"value"`
	// branch
	Variable        string            `json:"variable"`
	TargetIDs       map[string]string `json:"target_ids"`
	DefaultTargetID string            `json:"default_target_id"`
}

// execute runs one action. It returns the actions a fetch brought, or
// errEnded when the call is over.
func (c *call) execute(ctx context.Context, typ string, o option) (*[]action, error) {
	switch typ {
	case "transcribe_start":
		c.logf("  transcribe_start %s %s", o.Language, o.Direction)
		id := "transcribe-" + c.opt.CallID
		if len(c.transcribes) > 0 {
			id += fmt.Sprint("-", len(c.transcribes)+1)
		}
		c.transcribes = append(c.transcribes, id)
		return nil, c.event(ctx, "transcribe_created", map[string]any{
			"id": id, "reference_type": "call", "reference_id": c.opt.CallID,
			"direction": o.Direction, "language": o.Language,
		})
	case "talk":
		c.logf("  talk (%s): %s", o.Language, o.Text)
		if c.now() >= c.busyUntil {
			c.unanswered = false
		}
		return nil, c.moment(ctx, "talk", 0, "")
	case "sleep":
		c.logf("  sleep %d", o.Duration)
		if err := c.moment(ctx, "sleep", 0, ""); err != nil {
			return nil, err
		}
		return nil, c.advance(ctx, o.Duration)
	case "variable_set":
		c.logf("  variable_set %s=%q", o.Key, o.Value)
		c.vars[o.Key] = o.Value
	case "digits_receive":
		c.logf("  digits_receive %d ms, length %d%s", o.Duration, o.Length, keyNote(o.Key))
		if done(c.vars[digitsVariable], o.Length, o.Key) {
			c.logf("  (returns at once: %q was pressed before)", c.vars[digitsVariable])
			return nil, nil
		}
		if err := c.moment(ctx, "digits_receive", o.Length, o.Key); err != nil {
			return nil, err
		}
		if !done(c.vars[digitsVariable], o.Length, o.Key) {
			return nil, c.advance(ctx, o.Duration) // nobody pressed: it times out
		}
		return nil, nil
	case "fetch":
		// The URL was substituted as it is, not URL-encoded: a "#" in a value
		// starts the fragment, which an HTTP request does not carry.
		parsed, err := url.Parse(o.EventURL)
		if err != nil {
			return nil, fmt.Errorf("fetch event_url %q: %w", o.EventURL, err)
		}
		acts, err := c.fetch(ctx, parsed.RequestURI())
		return &acts, err
	case "connect":
		return nil, c.connect(o)
	case "queue_join":
		c.logf("  queue_join %s", o.QueueID)
		c.res.Connected = "queue " + o.QueueID
		c.logf("caller waits in the queue for an agent")
		return nil, errEnded
	case "hangup":
		c.logf("  hangup %s", o.Reason)
		return nil, errEnded
	case "answer":
	default:
		c.logf("  %s: unknown to VoIPBin, skipped (still counted)", typ)
	}
	return nil, nil
}

func keyNote(key string) string {
	if key == "" {
		return ""
	}
	return ", key " + key
}

// done is VoIPBin's test of a digits_receive: enough keys, or its terminating key.
func done(digits string, length int, key string) bool {
	return length > 0 && len(digits) >= length || key != "" && strings.ContainsAny(digits, key)
}

// connect places a transfer as VoIPBin does: to a phone number only with a
// caller ID it accepts.
func (c *call) connect(o option) error {
	if len(o.Destinations) == 0 {
		c.logf("  connect with no destination: VoIPBin refuses it")
		c.logf("CALL FAILED: the caller is hung up")
		return errEnded
	}
	to := o.Destinations[0]
	from := ""
	if o.Source != nil {
		from = o.Source.Target
	}
	c.logf("  connect %s %s, caller ID %q", to.Type, to.Target, from)
	if to.Type == "tel" {
		if !telTarget.MatchString(to.Target) {
			c.logf("CALL FAILED: %q is not a number VoIPBin dials; the caller is hung up", to.Target)
			return errEnded
		}
		if why := c.refuses(o.Source); why != "" {
			if c.opt.DefaultOutgoing == "" {
				c.logf("CALL FAILED: caller ID %s and no default outgoing number; the caller is hung up", why)
				return errEnded
			}
			c.logf("  (caller ID %s: VoIPBin uses the default outgoing number %s)", why, c.opt.DefaultOutgoing)
			from = c.opt.DefaultOutgoing
		}
	}
	if err := c.count(1); err != nil { // VoIPBin's confbridge_join
		return err
	}
	c.res.Connected, c.res.CallerID = to.Target, from
	return errEnded
}

// refuses says why VoIPBin would not accept source as a transfer's caller ID, or "".
func (c *call) refuses(source *address) string {
	switch {
	case source == nil || source.Target == "":
		return "missing"
	case source.Type != "tel":
		return fmt.Sprintf("of type %q", source.Type)
	case strings.HasPrefix(source.Target, virtualPrefix):
		return source.Target + " is a virtual number"
	case source.Target != c.opt.Dialled && !slices.Contains(c.opt.Owned, source.Target):
		return source.Target + " is not the account's"
	}
	return ""
}

// count adds n executed actions and enforces VoIPBin's limit.
func (c *call) count(n int) error {
	c.res.Actions += n
	if c.res.Actions > maxActions {
		c.logf("VOIPBIN ACTION LIMIT REACHED: call dropped")
		return fmt.Errorf("call %s: over VoIPBin's %d actions", c.opt.CallID, maxActions)
	}
	return nil
}

var variable = regexp.MustCompile(`\$\{([^}]*)\}`)

// decode substitutes ${...} in every string of an action's option, nested ones
// included, as VoIPBin does when it runs the action, and decodes it.
func (c *call) decode(raw json.RawMessage, o *option) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	v = c.substitute(v)
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, o)
}

func (c *call) substitute(v any) any {
	switch v := v.(type) {
	case string:
		return variable.ReplaceAllStringFunc(v, func(m string) string {
			return c.vars[m[2:len(m)-1]] // unset: ""
		})
	case map[string]any:
		for k, e := range v {
			v[k] = c.substitute(e)
		}
	case []any:
		for i, e := range v {
			v[i] = c.substitute(e)
		}
	}
	return v
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
	c.mu.Lock()
	defer c.mu.Unlock()
	c.res.Transcript = append(c.res.Transcript, line)
	if c.opt.OnLine != nil {
		c.opt.OnLine(line)
	}
}

// moment gives the caller the action `at` to act in: the next step happens
// now if it waits for this kind of action. At a digits_receive, keys are
// collected until length or key is satisfied. It returns errEnded when the
// caller hangs up.
func (c *call) moment(ctx context.Context, at string, length int, key string) error {
	if len(c.steps) == 0 && c.opt.Ask != nil && at != "talk" {
		if s, ok := c.opt.Ask(at); ok {
			c.steps = append(c.steps, s)
		}
	}
	if len(c.steps) == 0 || c.busyUntil > c.now() {
		return nil // the caller is still speaking
	}
	s := c.steps[0]
	if c.unanswered && (s.Say != "" || s.Silent) && at != "digits_receive" {
		return nil // the caller waits for an answer to what they said
	}
	silentAtKeys := at == "digits_receive" && s.Silent && s.During == ""
	if s.at() != at && !silentAtKeys {
		return nil
	}
	c.steps = c.steps[1:]
	when := ""
	if at != "sleep" && at != "digits_receive" {
		when = " (during the " + at + ")"
	}
	switch {
	case s.Hangup:
		c.logf("caller hangs up%s", when)
		if err := c.event(ctx, "call_hangup", map[string]any{"id": c.opt.CallID, "hangup_reason": "normal"}); err != nil {
			return err
		}
		return errEnded
	case s.Press != "":
		c.logf("caller presses %s%s", s.Press, when)
		c.press(s.Press, at == "digits_receive", length, key)
	case s.Say != "":
		c.logf("caller: %s%s", s.Say, when)
		return c.say(ctx, s)
	default:
		if at == "digits_receive" {
			c.logf("caller presses nothing")
		} else {
			c.logf("caller is silent")
		}
	}
	return nil
}

// press keeps keys as VoIPBin does: while a digits_receive runs, each key is
// added until it is satisfied; at any other moment each key replaces what
// was stored.
func (c *call) press(keys string, collecting bool, length int, key string) {
	for _, k := range keys {
		if !collecting {
			c.vars[digitsVariable] = string(k)
			continue
		}
		c.vars[digitsVariable] += string(k)
		if done(c.vars[digitsVariable], length, key) {
			return
		}
	}
}

// say plays the caller speaking words from now on, as VoIPBin's streaming
// speech-to-text reports it to every transcription of the call.
func (c *call) say(ctx context.Context, s Step) error {
	if len(c.transcribes) == 0 {
		c.logf("(not transcribed: no transcribe_start)")
		return nil
	}
	begin := c.now() + speechDelayMS
	end := begin + s.speakMS()
	final := end + finalAfterMS
	c.busyUntil, c.unanswered = final, true
	var evs []timedEvent
	for _, id := range c.transcribes {
		speech := func(typ string, at int, message string) {
			c.mu.Lock()
			c.events++
			n := c.events
			c.mu.Unlock()
			data := map[string]any{"id": fmt.Sprintf("speech-%s-%d", c.opt.CallID, n), "transcribe_id": id,
				"streaming_id": "streaming-" + id, "direction": "in", "tm_event": nil}
			if message != "" {
				data["message"] = message
			}
			evs = append(evs, timedEvent{at, typ, data})
		}
		// The first interim result is what tells VoIPBin that speech started.
		words := strings.Fields(s.Say)
		for at := begin + firstInterimMS; at < end; at += interimEveryMS {
			if at == begin+firstInterimMS {
				speech("transcribe_speech_started", at, "")
			}
			said := max(1, len(words)*(at-begin)/(end-begin))
			speech("transcribe_speech_interim", at, strings.Join(words[:said], " "))
		}
		speech("transcribe_speech_ended", final, "")
		c.mu.Lock()
		c.events++
		n := c.events
		c.mu.Unlock()
		evs = append(evs, timedEvent{final, "transcript_created", map[string]any{
			"id": fmt.Sprintf("transcript-%s-%d", c.opt.CallID, n), "transcribe_id": id,
			"direction": "in", "message": s.Say, "tm_transcript": "2026-08-22 10:11:12.123456",
		}})
	}
	slices.SortStableFunc(evs, func(a, b timedEvent) int { return a.at - b.at })
	if !c.opt.RealTime {
		c.due = append(c.due, evs...)
		slices.SortStableFunc(c.due, func(a, b timedEvent) int { return a.at - b.at })
		return nil
	}
	for _, ev := range evs {
		c.posting.Add(1)
		time.AfterFunc(time.Duration(ev.at-c.now())*time.Millisecond, func() {
			defer c.posting.Done()
			if ctx.Err() != nil {
				return
			}
			if ev.typ == "transcript_created" {
				c.mu.Lock()
				c.heardAt = append(c.heardAt, time.Now())
				c.mu.Unlock()
			}
			if err := c.event(ctx, ev.typ, ev.data); err != nil {
				c.mu.Lock()
				if c.lost == nil {
					c.lost = err
				}
				c.mu.Unlock()
			}
		})
	}
	return nil
}

// How VoIPBin's streaming speech-to-text times a caller's utterance, in ms:
// the caller starts a moment into the pause, the recognizer's first interim
// result comes a little after the first words, then one about every half
// second, and the final result a little after the caller stops.
const (
	speechDelayMS  = 300
	firstInterimMS = 400
	interimEveryMS = 500
	finalAfterMS   = 300
)

// now is the call's time, in ms.
func (c *call) now() int {
	if c.opt.RealTime {
		return int(time.Since(c.start).Milliseconds())
	}
	return c.clock
}

// advance lets ms pass in a pause: in real time it waits; on the call's own
// clock it delivers, in order, the events due by the pause's end.
func (c *call) advance(ctx context.Context, ms int) error {
	if c.opt.RealTime {
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	end := c.clock + ms
	for len(c.due) > 0 && c.due[0].at <= end {
		ev := c.due[0]
		c.due = c.due[1:]
		c.clock = ev.at
		if err := c.event(ctx, ev.typ, ev.data); err != nil {
			return err
		}
	}
	c.clock = end
	return nil
}

// answered notes a fetch's answer: one that does more than pause or say the
// Holding acknowledgement answers the caller's words heard so far.
func (c *call) answered(acts []action) {
	if !c.opt.RealTime {
		return
	}
	for _, a := range acts {
		var o option
		_ = json.Unmarshal(a.Option, &o)
		if a.Type == "sleep" || a.Type == "fetch" || a.Type == "talk" && o.Text == c.opt.Holding && c.opt.Holding != "" {
			continue
		}
		c.mu.Lock()
		for _, at := range c.heardAt {
			c.res.Waits = append(c.res.Waits, time.Since(at))
		}
		c.heardAt = c.heardAt[:0]
		c.mu.Unlock()
		return
	}
}

// base is the server the next request goes to, events to EventBases when set.
func (c *call) base(event bool) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	bases := c.opt.Bases
	if event && len(c.opt.EventBases) > 0 {
		bases = c.opt.EventBases
	}
	b := bases[c.requests%len(bases)]
	c.requests++
	return strings.TrimSuffix(b, "/")
}

// fetch posts VoIPBin's fetch request and checks the answer the way VoIPBin
// needs it: in time, 200, a bare JSON array, every action with a fresh
// non-zero UUID.
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
	timeout := c.opt.FetchTimeout
	if timeout == 0 {
		timeout = fetchTimeout
	}
	fctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(fctx, http.MethodPost, c.base(false)+requestURI, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := c.opt.Client.Do(req)
	if err != nil {
		if fctx.Err() != nil && ctx.Err() == nil {
			c.logf("FETCH NOT ANSWERED IN %v: the call sits in silence", timeout)
		}
		return nil, fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	c.res.FetchTimes = append(c.res.FetchTimes, time.Since(start))
	if err != nil {
		return nil, fmt.Errorf("fetch answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		c.logf("FETCH FAILED %d: %s (VoIPBin stops the call)", resp.StatusCode, b)
		return nil, fmt.Errorf("fetch answered %d: %s", resp.StatusCode, b)
	}
	if moves := resp.Header.Get("Switchboard-Moves"); moves != "" {
		c.logf("  moves: %s", moves)
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
	c.answered(acts)
	return acts, nil
}

// event delivers a webhook event as VoIPBin does: up to 3 attempts, a pause
// apart, while the answer is a 5xx or the connection fails; then it is lost.
func (c *call) event(ctx context.Context, typ string, data map[string]any) error {
	body, _ := json.Marshal(map[string]any{"type": typ, "data": data})
	times := 1
	if c.opt.DuplicateEvents {
		times = 2
	}
	pause := c.opt.RetryPause
	if pause == 0 {
		pause = retryPause
	}
	for range times {
		for attempt := 1; ; attempt++ {
			status, err := c.post(ctx, body)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err == nil && status < 500 {
				if status != http.StatusOK {
					return fmt.Errorf("event %s answered %d", typ, status)
				}
				break
			}
			if err != nil {
				c.logf("(event %s not delivered: connection failed)", typ)
			} else {
				c.logf("(event %s answered %d)", typ, status)
			}
			if attempt == eventAttempts {
				c.logf("EVENT %s LOST after %d attempts", typ, eventAttempts)
				break
			}
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

func (c *call) post(ctx context.Context, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base(true)+"/voipbin/events", bytes.NewReader(body))
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
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
