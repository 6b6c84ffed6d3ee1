// Package voipbintest is a VoIPBin call simulator: it plays a scripted caller against
// a Switchboard server over real HTTP and executes the actions the server
// returns with VoIPBin's semantics (each rule, and where VoIPBin's source has
// it: ../CONFORMANCE.md), as strictly as VoIPBin does:
//
//   - ${...} is substituted when an action runs, in every string of its option,
//     nested ones included; an unset variable becomes "", and nothing is
//     URL-encoded, so a "#" in a fetch URL starts its fragment and is lost;
//   - keys pressed at any moment (during a talk, a sleep, the greeting) are kept
//     in ${voipbin.call.digits} for the whole call; outside a digits_receive
//     each key overwrites the one before (an account number typed during its
//     prompt is left as its last key), during one they append; digits_receive
//     returns at once when the stored keys already satisfy it; keys come at
//     typing speed, and those typed after a digits_receive's time are not
//     in it; a talk with "digits_handle": "next" ends at the first key,
//     which is kept, and the keys after it reach the next action (appended
//     by a digits_receive), but two or more typed during it stop the call
//     (each forces the next action with the talk's id); an async talk
//     starts and the next action runs at once, so the keys typed during
//     it reach that action;
//   - variable_set sets a variable;
//   - events are delivered up to 3 times, 1 s apart, on a 5xx or a connection error;
//   - a connect to a phone number needs a caller ID VoIPBin accepts (a normal
//     number the account owns, else the account's default outgoing number):
//     without one the transfer fails and the caller is hung up; so does a
//     connect to an extension without target_name (VoIPBin finds its phones
//     by it), to an agent whose target is no agent id, or to an address
//     type VoIPBin does not connect;
//   - a connect that VoIPBin places bridges the caller to the department;
//     when the department hangs up, the flow goes on after the connect; a
//     destination that is busy, does not answer or fails leaves the caller
//     hearing ringing until they hang up (VoIPBin runs nothing more);
//   - queue_join puts the caller in a queue: it fails at once when the queue
//     has no wait flow, else the wait flow loops, each pass spending its
//     actions, a fetch_flow and an empty, until an agent answers (a
//     confbridge_join), the queue's wait_timeout passes (VoIPBin takes the
//     caller out of the queue and the flow goes on after the queue_join:
//     bin-queue-manager queuecallhandler TimeoutWait and Kick pop the
//     queue's stack) or the actions run out; an unknown action type
//     is skipped but counted; at most 100 actions run per call, the flow's
//     answer and fetch and the confbridge_join after a connect included;
//   - the number's own flow runs first, and what a fetch returns runs as a
//     stack frame on top of the flow that fetched it: when those actions end,
//     the flow goes on after its fetch (so an answer without connect or hangup
//     hands the call back to the number's flow); branch jumps to the action its
//     variable names, and resets that variable;
//   - a talk whose text VoIPBin's TTS refuses (not SSML even inside <speak>:
//     a bare "&", say) is skipped: the caller hears nothing, and no step
//     happens during it;
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
//   - time passes in pauses (sleep, digits_receive) and while a talk plays
//     (400 ms a word on the call's own clock; an async talk takes none, a
//     key that ends it cuts it, and in RealTime talks stay instant).
//     By default the call runs on its own clock, fast and repeatable: the
//     events due by the end of a pause are delivered, in order, before the
//     action after it. With RealTime, pauses really last, and each event is
//     posted at its moment on a goroutine of its own, as VoIPBin's webhook
//     service does, racing the call's fetches.
//   - transcription runs until the call ends: after a transfer it goes on
//     transcribing the caller's talk with the human they reached
//     (Options.ToHuman), and sends it to the webhook;
//
// It writes a readable transcript of the call, for golden-file tests.
package voipbintest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
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
	// AfterMS, on a Say that follows another, is how long after the end of
	// that line the caller goes on with this one, without waiting for an
	// answer: a correction ("no wait, ..."), heard as a line of its own.
	AfterMS int `json:"after_ms,omitempty"`
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
	// CallID names the call; on the wire it is WireID(CallID), a UUID.
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
	// Unanswered are destinations (targets) that are busy, do not answer or
	// fail: VoIPBin leaves a caller connected to one ringing until they hang up.
	Unanswered []string
	// Queues are the account's queues by id. A queue_join to a queue not
	// here, or to one without a wait flow, fails at once, as in VoIPBin.
	Queues map[string]Queue
	// ToHuman is what the caller says to the human a transfer reached.
	// VoIPBin's transcription runs on, so each line reaches the webhook as a
	// transcript_created, after any words of Steps left unsaid.
	ToHuman []string
	// Ask, when set, is asked for the caller's next step once the scripted
	// ones run out, at each "sleep" and "digits_receive" where the caller is
	// free to act (their last words spoken and answered): a person at a
	// terminal playing the caller, whose step is played at once. It returns
	// false when they have nothing more to do.
	Ask func(at string) (Step, bool)
	// RealTime plays the call in real time: pauses last their duration, and
	// the caller's speech events are posted at their moments, each on its
	// own goroutine. Default: the call's own clock (see the package doc).
	RealTime bool
	// EventBases, when set, receive the events instead of Bases: events to
	// one replica, fetches to another.
	EventBases []string
	// Clock, when set, is moved on with the call's own clock (not
	// RealTime), for a service in the same process to read as its store's
	// clock: then what the service measures between two moments of the
	// call is the time VoIPBin would have let pass, not the few
	// microseconds the simulation took.
	Clock *Clock
	// Jumble, when set, delivers the caller's speech events as VoIPBin's
	// webhook service may: each on a goroutine of its own, so late and out of
	// order (up to JumbleMS after its moment), some twice, some never (a
	// transcript_created is only late: losing one is losing the caller's
	// words, which is another matter). Its seed makes a call repeatable.
	Jumble *rand.Rand
	// REST, when set, is the account's REST API: each transcription the
	// call starts is one of its transcriptions, running until stopped there;
	// its conferences and outgoing calls are those a handoff uses (nil: the
	// account has none, and a conference_join fails).
	REST *REST
	// Holding is the acknowledgement the server says while it decides ("One
	// moment, please."): an answer that only says it, or only pauses, is not
	// yet the answer to the caller's words (see Result.Waits).
	Holding string
	// Recorder keeps the call's recordings (the REST stand-in); nil: the
	// call records, and nobody keeps what it recorded.
	Recorder Recorder
}

// Queue is a VoIPBin queue: the wait flow it loops while the caller waits,
// each pass costing its actions and VoIPBin's fetch_flow and empty, how
// long until an agent answers (zero: none does, and the caller waits until
// the call's actions run out), and its wait_timeout (zero: none; else the
// caller leaves the queue when it passes, and the flow goes on).
type Queue struct {
	WaitFlow    []voipbin.Action
	AnswerAfter time.Duration
	WaitTimeout time.Duration
	// AgentHangsUp: the agent who answered hangs up first, and the caller
	// stays on the line: VoIPBin's flow goes on after the queue_join.
	AgentHangsUp bool
}

// pass is how long one pass of the wait flow lasts: its sleeps, and a
// second for anything else that passes time.
func (q Queue) pass() time.Duration {
	var d time.Duration
	for _, a := range q.WaitFlow {
		switch a.Type {
		case voipbin.TypeSleep:
			var o voipbin.SleepOption
			b, _ := json.Marshal(a.Option)
			_ = json.Unmarshal(b, &o)
			d += time.Duration(o.Duration) * time.Millisecond
		case voipbin.TypeTalk, voipbin.TypeDigitsReceive, "play", "beep":
			d += time.Second
		}
	}
	return d
}

// Clock is a simulated call's time, as a clock (see Options.Clock).
type Clock struct {
	mu sync.Mutex
	at time.Time
}

// NewClock returns a Clock that starts at at.
func NewClock(at time.Time) *Clock { return &Clock{at: at} }

// Now is the simulated time.
func (k *Clock) Now() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.at
}

func (k *Clock) add(ms int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.at = k.at.Add(time.Duration(ms) * time.Millisecond)
}

// JumbleMS is how late Options.Jumble delivers a speech event at most.
const JumbleMS = 1500

// WireID is the id VoIPBin would give what name names: name itself when it is
// a UUID (VoIPBin's ids all are), else a UUID made from it, the same each
// time, so that a test can name its calls and still find them in the store.
func WireID(name string) string {
	if id, err := uuid.Parse(name); err == nil && id.String() == name {
		return name
	}
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("switchboard-sim:"+name)).String()
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
	// Transcribes are the ids of the transcriptions the call started.
	Transcribes []string
	Actions     int // actions VoIPBin executed, its own (answer, fetch, confbridge_join) included
	// FetchTimes is how long each fetch took to be answered.
	FetchTimes []time.Duration
	// Unplayed are the steps the call ended before it came to.
	Unplayed []Step
	// Waits are, with RealTime, how long after each of the caller's final
	// words (their transcript_created sent) the answer acting on them came
	// back from a fetch: the caller's wait in silence. Pauses and the Holding
	// acknowledgement do not end a wait.
	Waits []time.Duration
	// Late are, with RealTime, the caller's lines whose transcript_created
	// was taken only after the call's last fetch was sent: the router had
	// decided before it could hear them (on VoIPBin too, words that land
	// after the transfer was answered are not part of it).
	Late []string
}

// Summary is the call's outcome in one line.
func (r *Result) Summary() string {
	s := fmt.Sprintf("result: connected=%q", r.Connected)
	if r.CallerID != "" {
		s += fmt.Sprintf(" caller_id=%q", r.CallerID)
	}
	return s + fmt.Sprintf(" fetches=%d actions=%d", r.Fetches, r.Actions)
}

// maxFetches bounds a simulated call that never ends.
const maxFetches = 60

const digitsVariable = voipbin.VarDigits

type call struct {
	opt         Options
	res         *Result
	transcribes []string // the ids of the call's transcriptions, in order
	// transcribing are their languages, as VoIPBin reads them: each runs
	// until the call ends.
	transcribing []string
	vars         map[string]string
	steps        []Step
	// talkNext is set while a talk with digits_handle "next" plays: its
	// first key ends it. talkAsync is set while an async talk starts: the
	// keys pressed during it reach the actions after it.
	talkNext, talkAsync bool
	// pending holds keys still being pressed when a key ended a talk; they
	// reach whatever action runs next.
	pending string
	// transferred is set once the caller reached a human: events from then
	// on are for a call Switchboard no longer handles.
	transferred bool
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
	// rec is the recording running on the call (recording.go).
	rec *recording

	// mu guards what RealTime's event goroutines share with the call.
	mu       sync.Mutex
	requests int
	events   int
	// heardAt are the moments final words were sent and not yet answered.
	heardAt []time.Time
	// lastFetch is when the latest fetch was sent, storedAt when each line's
	// transcript was taken (RealTime).
	lastFetch time.Time
	storedAt  map[string]time.Time
	posting   sync.WaitGroup
	lost      error // the first event that could not be delivered (RealTime)
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
		if !slices.Contains([]string{"", "talk", "sleep", "digits_receive", "conference_join"}, s.During) {
			return &Result{}, fmt.Errorf("step %d: during %q: want talk, sleep, digits_receive or conference_join", i+1, s.During)
		}
	}
	opt.Caller = cmp.Or(opt.Caller, DefaultCaller)
	opt.Dialled = cmp.Or(opt.Dialled, DefaultDialled)
	opt.CallID = WireID(opt.CallID)
	c := &call{opt: opt, res: &Result{}, steps: steps, start: time.Now(), vars: map[string]string{
		"voipbin.call.id":                 opt.CallID,
		"voipbin.activeflow.id":           WireID("flow-" + opt.CallID),
		"voipbin.call.source.type":        "tel",
		"voipbin.call.source.target":      opt.Caller,
		"voipbin.call.destination.type":   "tel",
		"voipbin.call.destination.target": opt.Dialled,
	}}
	defer func() { c.res.Unplayed = c.steps }()
	flow, err := numberFlow(opt)
	if err != nil {
		return c.res, err
	}
	res, err := c.run(ctx, flow)
	c.finishLegs()
	c.posting.Wait() // RealTime: the events still on their way
	c.mu.Lock()
	if err == nil {
		err = c.lost
	}
	for words, at := range c.storedAt {
		if c.opt.RealTime && at.After(c.lastFetch) && !slices.Contains(c.opt.ToHuman, words) {
			res.Late = append(res.Late, words)
		}
	}
	c.mu.Unlock()
	return res, err
}

func (c *call) run(ctx context.Context, flow []voipbin.Action) (*Result, error) {
	opt := c.opt
	// frames is VoIPBin's stack: the number's flow at the bottom, what each
	// fetch returned on top of it; at[i] is the next action of frames[i].
	frames, at := [][]voipbin.Action{flow}, []int{0}
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
		raw := c.substituted(a.Option)
		if a.Type == voipbin.TypeBranch {
			i, err := c.branch(raw, frames[top])
			if err != nil {
				return c.res, err
			}
			at[top] = i
			continue
		}
		fetched, err := c.execute(ctx, a.Type, raw)
		if errors.Is(err, errEnded) {
			return c.res, nil
		}
		if err != nil {
			return c.res, err
		}
		if fetched != nil {
			if len(frames) == voipbin.MaxStack {
				c.logf("VOIPBIN STACK LIMIT REACHED: call dropped")
				return c.res, fmt.Errorf("call %s: more than %d nested fetches", opt.CallID, voipbin.MaxStack)
			}
			frames, at = append(frames, *fetched), append(at, 0)
		}
	}
	c.logf("flow ended: VoIPBin hangs up")
	return c.res, nil
}

// numberFlow is the number's flow: the one given, or the one provisioning creates.
func numberFlow(opt Options) ([]voipbin.Action, error) {
	raws := opt.Flow
	if len(raws) == 0 {
		u := voipbin.FetchURL{Token: opt.Token, Lang: opt.Language, To: voipbin.DialledNumber}.String()
		return []voipbin.Action{{ID: uuid.NewString(), Type: voipbin.TypeAnswer},
			{ID: uuid.NewString(), Type: voipbin.TypeFetch, Option: voipbin.FetchOption{EventURL: u, EventMethod: "POST"}}}, nil
	}
	acts := make([]voipbin.Action, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal(raw, &acts[i]); err != nil {
			return nil, fmt.Errorf("the number's flow, action %d: %w", i+1, err)
		}
	}
	return acts, nil
}

// branch finds where a branch action jumps to in its flow, and resets the
// variable it read, as VoIPBin does.
func (c *call) branch(raw []byte, flow []voipbin.Action) (int, error) {
	var o voipbin.BranchOption
	if err := decodeOption(voipbin.TypeBranch, raw, &o); err != nil {
		return 0, err
	}
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

// decodeOption decodes an action's substituted option into VoIPBin's
// option of its type. A field VoIPBin does not know is refused: VoIPBin would
// ignore it, so a misspelt option would silently do nothing there.
func decodeOption(typ string, raw []byte, o any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(o); err != nil {
		return fmt.Errorf("action %s option %s: %w", typ, raw, err)
	}
	return nil
}

// execute runs one action, its option substituted. It returns the actions
// a fetch brought, or errEnded when the call is over.
func (c *call) execute(ctx context.Context, typ string, raw []byte) (*[]voipbin.Action, error) {
	if c.pending != "" && typ != voipbin.TypeDigitsReceive && !asyncTalk(typ, raw) {
		// Keys outside a digits_receive overwrite each other (an async
		// talk only starts: the next action comes at once).
		c.vars[digitsVariable] = c.pending[len(c.pending)-1:]
		c.pending = ""
	}
	if handled, err := c.recordingAction(ctx, typ, raw); handled {
		return nil, err
	}
	switch typ {
	case voipbin.TypeTranscribeStart:
		var o voipbin.TranscribeStartOption
		if err := decodeOption(typ, raw, &o); err != nil {
			return nil, err
		}
		c.logf("  transcribe_start %s %s", o.Language, o.Direction)
		// VoIPBin transcribes in the tag as it reads it, and refuses a second
		// live transcription of the call in a language one is running in
		// (transcribe-manager startLive, TRANSCRIBE_ALREADY_PROGRESSING); the
		// flow moves on without it (flow-manager executeAction).
		lang := voipbin.Language(o.Language)
		if slices.Contains(c.transcribing, lang) {
			c.logf("  transcribe_start REFUSED: a transcription in %s is running already; nothing more is transcribed", lang)
			return nil, nil
		}
		id := WireID(fmt.Sprint("transcribe-", c.opt.CallID, "-", len(c.transcribes)+1))
		c.transcribes, c.transcribing = append(c.transcribes, id), append(c.transcribing, lang)
		c.res.Transcribes = append(c.res.Transcribes, id)
		if c.opt.REST != nil {
			c.opt.REST.track(id)
		}
		return nil, c.event(ctx, voipbin.EventTranscribeCreated, map[string]any{
			"id": id, "reference_type": "call", "reference_id": c.opt.CallID,
			"direction": o.Direction, "language": lang,
		})
	case voipbin.TypeTalk:
		var o voipbin.TalkOption
		if err := decodeOption(typ, raw, &o); err != nil {
			return nil, err
		}
		if err := voipbin.CheckSpeakable(o.Text); err != nil {
			// VoIPBin's talk fails and it moves on: the caller hears nothing.
			c.logf("  talk (%s) SKIPPED, the caller hears nothing: %v: %s", o.Language, err, o.Text)
			return nil, nil
		}
		c.logf("  talk (%s)%s: %s", o.Language, handleNote(o.DigitsHandle)+asyncNote(o.Async), voipbin.Spoken(o.Text))
		c.talkNext, c.talkAsync = o.DigitsHandle == voipbin.DigitsHandleNext, o.Async
		defer func() { c.talkNext, c.talkAsync = false, false }()
		if c.now() >= c.busyUntil {
			c.unanswered = false
		}
		steps, press := len(c.steps), len(c.steps) > 0 && c.steps[0].Press != ""
		err := c.moment(ctx, "talk", voipbin.DigitsReceiveOption{})
		if err != nil || o.Async || c.talkNext && press && len(c.steps) < steps || c.opt.RealTime {
			// An async talk only starts; a key ends a talk with
			// digits_handle next; in real time talks stay instant, so that
			// load runs keep the pace they are measured at.
			return nil, err
		}
		// VoIPBin's talk ends when its speech has played (bin-call-manager
		// callhandler actionExecuteTalk moves to the next action at once only
		// for an async talk): what the caller says meanwhile reaches us
		// before the action after it.
		return nil, c.advance(ctx, talkMS(o.Text))
	case voipbin.TypeSleep:
		var o voipbin.SleepOption
		if err := decodeOption(typ, raw, &o); err != nil {
			return nil, err
		}
		c.logf("  sleep %d", o.Duration)
		if err := c.moment(ctx, "sleep", voipbin.DigitsReceiveOption{}); err != nil {
			return nil, err
		}
		return nil, c.advance(ctx, o.Duration)
	case voipbin.TypeVariableSet:
		var o voipbin.VariableSetOption
		if err := decodeOption(typ, raw, &o); err != nil {
			return nil, err
		}
		c.logf("  variable_set %s=%q", o.Key, o.Value)
		c.vars[o.Key] = o.Value
	case voipbin.TypeDigitsReceive:
		var o voipbin.DigitsReceiveOption
		if err := decodeOption(typ, raw, &o); err != nil {
			return nil, err
		}
		c.logf("  digits_receive %d ms, length %d%s", o.Duration, o.Length, keyNote(o.Key))
		if done(c.vars[digitsVariable], o.Length, o.Key) {
			c.logf("  (returns at once: %q was pressed before)", c.vars[digitsVariable])
			c.pending = "" // the rest come too late for this fetch
			return nil, nil
		}
		if keys := c.pending; keys != "" {
			c.pending = c.collect(keys, o)
			c.logf("  (the keys typed during the prompt are collected: %q)", c.vars[digitsVariable])
			if done(c.vars[digitsVariable], o.Length, o.Key) {
				return nil, nil
			}
		}
		if err := c.moment(ctx, "digits_receive", o); err != nil {
			return nil, err
		}
		if !done(c.vars[digitsVariable], o.Length, o.Key) {
			return nil, c.advance(ctx, o.Duration) // nobody pressed: it times out
		}
		return nil, nil
	case voipbin.TypeFetch:
		var o voipbin.FetchOption
		if err := decodeOption(typ, raw, &o); err != nil {
			return nil, err
		}
		// The URL was substituted as it is, not URL-encoded: a "#" in a value
		// starts the fragment, which an HTTP request does not carry.
		parsed, err := url.Parse(o.EventURL)
		if err != nil {
			return nil, fmt.Errorf("fetch event_url %q: %w", o.EventURL, err)
		}
		acts, err := c.fetch(ctx, parsed.RequestURI())
		return &acts, err
	case voipbin.TypeConnect:
		var o voipbin.ConnectOption
		if err := decodeOption(typ, raw, &o); err != nil {
			return nil, err
		}
		return nil, c.connect(ctx, o)
	case voipbin.TypeConferenceJoin:
		var o voipbin.ConferenceJoinOption
		if err := decodeOption(typ, raw, &o); err != nil {
			return nil, err
		}
		return nil, c.conferenceJoin(ctx, o.ConferenceID)
	case voipbin.TypeQueueJoin:
		var o voipbin.QueueJoinOption
		if err := decodeOption(typ, raw, &o); err != nil {
			return nil, err
		}
		c.logf("  queue_join %s", o.QueueID)
		return nil, c.queue(ctx, o.QueueID)
	case voipbin.TypeHangup:
		var o voipbin.HangupOption
		if err := decodeOption(typ, raw, &o); err != nil {
			return nil, err
		}
		c.logf("  hangup %s", o.Reason)
		return nil, errEnded
	case voipbin.TypeAnswer:
	default:
		c.logf("  %s: unknown to VoIPBin, skipped (still counted)", typ)
	}
	return nil, nil
}

// queue plays a queued caller's wait as VoIPBin does: pass after pass of the
// queue's wait flow, each spending its actions, fetch_flow and empty, until
// an agent answers (then confbridge_join) or the call's actions run out.
func (c *call) queue(ctx context.Context, id string) error {
	q, ok := c.opt.Queues[id]
	if !ok || len(q.WaitFlow) == 0 {
		c.logf("CALL FAILED: the queue has no wait flow (VoIPBin's fetch_flow fails); the caller is hung up")
		return errEnded
	}
	var waited time.Duration
	for passes := 0; passes <= voipbin.MaxActions; passes++ { // every pass costs actions: bounded
		if q.WaitTimeout > 0 && waited >= q.WaitTimeout && (q.AnswerAfter == 0 || q.WaitTimeout <= q.AnswerAfter) {
			c.logf("caller waits %v (%d passes of the wait flow, %d actions each); the queue's wait_timeout passes: VoIPBin takes the caller out of the queue and goes on after the queue_join", waited, passes, len(q.WaitFlow)+2)
			return nil
		}
		if q.AnswerAfter > 0 && waited >= q.AnswerAfter {
			c.logf("caller waits %v (%d passes of the wait flow, %d actions each); an agent answers", waited, passes, len(q.WaitFlow)+2)
			if err := c.count(1); err != nil { // confbridge_join
				return err
			}
			c.res.Connected = "queue " + id
			// bin-queue-manager EventCallConfbridgeJoined -> UpdateStatusService.
			if err := c.event(ctx, voipbin.EventQueuecallServiced, map[string]any{"id": WireID("queuecall-" + c.opt.CallID),
				"queue_id": id, "reference_type": "call", "reference_id": c.opt.CallID, "status": "service"}); err != nil {
				return err
			}
			if err := c.talkToHuman(ctx); err != nil {
				return err
			}
			if q.AgentHangsUp {
				c.logf("the agent hangs up; the caller stays on the line: VoIPBin goes on after the queue_join")
				return nil
			}
			return errEnded
		}
		if err := c.count(1 + len(q.WaitFlow) + 1); err != nil {
			return fmt.Errorf("queued caller cut off after waiting %v (%d passes): %w", waited, passes, err)
		}
		waited += q.pass()
	}
	return fmt.Errorf("queued caller never cut off after %d passes: the simulator counts no actions", voipbin.MaxActions)
}

// asyncTalk reports whether an action is a talk that only starts.
func asyncTalk(typ string, raw []byte) bool {
	var o voipbin.TalkOption
	return typ == voipbin.TypeTalk && json.Unmarshal(raw, &o) == nil && o.Async
}

func asyncNote(async bool) string {
	if async {
		return " [async]"
	}
	return ""
}

// typingMS is how long a caller takes per key: keys come at typing speed,
// each an event of its own that VoIPBin's call-manager handles on any of its
// 20 ARI workers, in no fixed order.
const typingMS = 200

// collect presses keys typed from a digits_receive's start: it collects
// those typed within its duration (and until it is satisfied), and returns
// the ones that come after it, for the next action.
func (c *call) collect(keys string, o voipbin.DigitsReceiveOption) (late string) {
	if o.Duration > 0 {
		if fit := o.Duration / typingMS; len(keys) > fit {
			keys, late = keys[:fit], keys[fit:]
			c.logf("  (typing at %d ms a key, %q comes after the digits_receive's %d ms)", typingMS, late, o.Duration)
		}
	}
	c.press(keys, true, o.Length, o.Key)
	return late
}

func handleNote(handle string) string {
	if handle == "" {
		return ""
	}
	return " [digits_handle " + handle + "]"
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
func (c *call) connect(ctx context.Context, o voipbin.ConnectOption) error {
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
	switch to.Type {
	case voipbin.AddressExtension:
		// VoIPBin looks the extension's registered phones up by target_name.
		if to.TargetName == "" {
			c.logf("CALL FAILED: extension without target_name: VoIPBin finds no registered phone; the caller is hung up")
			return errEnded
		}
	case voipbin.AddressAgent:
		if _, err := uuid.Parse(to.Target); err != nil {
			c.logf("CALL FAILED: agent %q is no agent id; the caller is hung up", to.Target)
			return errEnded
		}
	case voipbin.AddressSIP:
	case voipbin.AddressTel:
		if !voipbin.Dialable(to.Target) {
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
	default:
		c.logf("CALL FAILED: VoIPBin connects no %q address; the caller is hung up", to.Type)
		return errEnded
	}
	if err := c.count(1); err != nil { // VoIPBin's confbridge_join
		return err
	}
	if slices.Contains(c.opt.Unanswered, to.Target) {
		// The outgoing call never joins the connect's conference, and
		// nothing in VoIPBin moves the caller on: they hear ringing.
		c.logf("%s does not answer: the caller hears ringing until they hang up; VoIPBin runs no further action", to.Target)
		c.logf("caller hangs up")
		if err := c.event(context.Background(), voipbin.EventCallHangup, map[string]any{"id": c.opt.CallID, "hangup_reason": "normal"}); err != nil {
			return err
		}
		return errEnded
	}
	if c.res.Connected != "" {
		c.logf("CALLER TRANSFERRED AGAIN after talking to %s", c.res.Connected)
		return fmt.Errorf("call %s: transferred to %s after a conversation with %s", c.opt.CallID, to.Target, c.res.Connected)
	}
	c.res.Connected, c.res.CallerID = to.Target, from
	if err := c.talkToHuman(ctx); err != nil {
		return err
	}
	// When the department hangs up, the caller leaves the conference and
	// VoIPBin goes on with the action after the connect.
	c.logf("caller talks to %s until it hangs up; then VoIPBin goes on after the connect", to.Target)
	return nil
}

// talkToHuman plays the caller's talk with the human they reached
// (Options.ToHuman), each line transcribed and sent as VoIPBin does, since
// its transcription runs until the call ends. The script's own steps left are
// not said here: they stay unplayed, so a script that reached a human sooner
// than it meant to says so.
func (c *call) talkToHuman(ctx context.Context) error {
	c.transferred = true
	for _, words := range c.opt.ToHuman {
		c.logf("caller (to the human, still transcribed): %s", words)
		if err := c.say(ctx, Step{Say: words}); err != nil {
			return err
		}
	}
	if c.opt.RealTime || len(c.due) == 0 {
		return nil // RealTime: the events are on their way, and Run waits for them
	}
	// The caller talks with the human for as long as it takes: every event
	// of that talk reaches the webhook.
	return c.advance(ctx, c.due[len(c.due)-1].at-c.clock)
}

// refuses says why VoIPBin would not accept source as a transfer's caller ID, or "".
func (c *call) refuses(source *voipbin.Address) string {
	switch {
	case source == nil || source.Target == "":
		return "missing"
	case source.Type != "tel":
		return fmt.Sprintf("of type %q", source.Type)
	case voipbin.Virtual(source.Target):
		return source.Target + " is a virtual number"
	case source.Target != c.opt.Dialled && !slices.Contains(c.opt.Owned, source.Target):
		return source.Target + " is not the account's"
	}
	return ""
}

// count adds n executed actions and enforces VoIPBin's limit.
func (c *call) count(n int) error {
	c.res.Actions += n
	if c.res.Actions > voipbin.MaxActions {
		c.logf("VOIPBIN ACTION LIMIT REACHED: call dropped")
		return fmt.Errorf("call %s: over VoIPBin's %d actions", c.opt.CallID, voipbin.MaxActions)
	}
	return nil
}

var variable = regexp.MustCompile(`\$\{([^}]*)\}`)

// substituted is an action's option with ${...} substituted in every
// string, nested ones included, as VoIPBin does when it runs the action. The
// action itself is left as it is: a flow's action may run again.
func (c *call) substituted(opt any) []byte {
	if opt == nil {
		return nil
	}
	b, err := json.Marshal(opt)
	if err != nil {
		return nil
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	b, _ = json.Marshal(c.substitute(v))
	return b
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
func (c *call) moment(ctx context.Context, at string, keys voipbin.DigitsReceiveOption) error {
	// The person at the terminal is asked only when what they type is played
	// at once: not while their last words are still being spoken or wait
	// for an answer, when a line typed would sit unplayed.
	free := c.busyUntil <= c.now() && (!c.unanswered || at == "digits_receive")
	if len(c.steps) == 0 && c.opt.Ask != nil && at != "talk" && free {
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
		if err := c.event(ctx, voipbin.EventCallHangup, map[string]any{"id": c.opt.CallID, "hangup_reason": "normal"}); err != nil {
			return err
		}
		return errEnded
	case s.Press != "":
		c.logf("caller presses %s%s", s.Press, when)
		if c.talkNext && len(s.Press) > 1 {
			// The first key forces the next action with the talk's id; the
			// second, handled by another worker while the call's action is
			// still the talk, forces it again with that id, which
			// flow-manager no longer holds (validateCurrentActionID): it
			// stops the flow.
			c.logf("VOIPBIN STOPS THE CALL: keys typed quickly during a talk with digits_handle next force the next action twice with the talk's id")
			return fmt.Errorf("keys %q typed during a talk with digits_handle next: VoIPBin may stop the flow", s.Press)
		}
		if c.talkAsync {
			c.pending += s.Press // the next action runs while the talk plays
			return nil
		}
		if c.talkNext {
			// The first key ends the talk and is kept; the others reach
			// the next action.
			c.vars[digitsVariable], c.pending = s.Press[:1], s.Press[1:]
			c.logf("  (the first key ends the talk)")
			return nil
		}
		if at == "digits_receive" {
			c.pending = c.collect(s.Press, keys)
			return nil
		}
		c.press(s.Press, false, 0, "")
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
	for {
		final := c.speak(ctx, s, begin)
		if len(c.steps) == 0 || c.steps[0].AfterMS <= 0 || c.steps[0].Say == "" {
			return nil
		}
		s, c.steps = c.steps[0], c.steps[1:]
		c.logf("caller, %d ms later: %s", s.AfterMS, s.Say)
		begin = final + s.AfterMS
	}
}

// speak plays the caller saying s.Say from begin on, and returns when their
// final words are sent.
func (c *call) speak(ctx context.Context, s Step, begin int) int {
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
			data := map[string]any{"id": WireID(fmt.Sprintf("speech-%s-%d", c.opt.CallID, n)), "transcribe_id": id,
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
			"id": WireID(fmt.Sprintf("transcript-%s-%d", c.opt.CallID, n)), "transcribe_id": id,
			"direction": "in", "message": s.Say, "tm_transcript": "2026-08-22 10:11:12.123456",
		}})
	}
	if c.opt.Jumble != nil {
		evs = jumble(c.opt.Jumble, evs)
	}
	slices.SortStableFunc(evs, func(a, b timedEvent) int { return a.at - b.at })
	if !c.opt.RealTime {
		c.due = append(c.due, evs...)
		slices.SortStableFunc(c.due, func(a, b timedEvent) int { return a.at - b.at })
		return final
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
	return final
}

// jumble makes each event late by up to JumbleMS, and loses (one in five)
// or repeats (one in five) each speech event.
func jumble(rnd *rand.Rand, evs []timedEvent) []timedEvent {
	var out []timedEvent
	for _, ev := range evs {
		speech := ev.typ != voipbin.EventTranscriptCreated
		switch n := rnd.IntN(5); {
		case speech && n == 0:
			continue
		case speech && n == 1:
			out = append(out, timedEvent{ev.at + rnd.IntN(JumbleMS+1), ev.typ, ev.data})
		}
		ev.at += rnd.IntN(JumbleMS + 1)
		out = append(out, ev)
	}
	return out
}

// talkMS is how long a talk of text plays: 400 ms a word, as a caller speaks.
func talkMS(text string) int { return 400 * len(strings.Fields(voipbin.Spoken(text))) }

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
		c.setClock(max(ev.at, c.clock))
		if err := c.event(ctx, ev.typ, ev.data); err != nil {
			return err
		}
	}
	c.setClock(end)
	return nil
}

// setClock moves the call's own clock, and Options.Clock with it.
func (c *call) setClock(ms int) {
	if c.opt.Clock != nil {
		c.opt.Clock.add(ms - c.clock)
	}
	c.clock = ms
}

// answered notes a fetch's answer: one that does more than pause or say the
// Holding acknowledgement answers the caller's words heard so far.
func (c *call) answered(acts []voipbin.Action) {
	if !c.opt.RealTime {
		return
	}
	for _, a := range acts {
		var o voipbin.TalkOption
		if a.Type == voipbin.TypeTalk {
			b, _ := json.Marshal(a.Option)
			_ = json.Unmarshal(b, &o)
		}
		if a.Type == voipbin.TypeSleep || a.Type == voipbin.TypeFetch || a.Type == voipbin.TypeTalk && voipbin.Spoken(o.Text) == c.opt.Holding && c.opt.Holding != "" {
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
func (c *call) fetch(ctx context.Context, requestURI string) ([]voipbin.Action, error) {
	c.res.Fetches++
	if c.res.Fetches > maxFetches {
		return nil, fmt.Errorf("more than %d fetches", maxFetches)
	}
	shown := requestURI
	if i := strings.Index(shown, "?t="); i >= 0 {
		shown = shown[:i] + strings.Replace(shown[i:], "t="+url.QueryEscape(c.opt.Token), "t=TOKEN", 1)
	}
	c.logf("fetch %s", shown)
	body, _ := json.Marshal(voipbin.FetchRequest{ActiveflowID: c.vars["voipbin.activeflow.id"], ReferenceID: c.opt.CallID})
	timeout := c.opt.FetchTimeout
	if timeout == 0 {
		timeout = voipbin.FetchTimeout
	}
	fctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(fctx, http.MethodPost, c.base(false)+requestURI, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	c.mu.Lock()
	c.lastFetch = start
	c.mu.Unlock()
	resp, err := c.opt.Client.Do(req)
	if err != nil {
		if fctx.Err() != nil && ctx.Err() == nil {
			c.logf("FETCH NOT ANSWERED IN %v: the call sits in silence", timeout)
		}
		return nil, fmt.Errorf("fetch: %w", voipbin.RedactError(err))
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
	acts, err := voipbin.Actions(b)
	if err != nil {
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
		pause = voipbin.RetryPause
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
				if words, ok := data["message"].(string); ok && typ == voipbin.EventTranscriptCreated {
					c.mu.Lock()
					if c.storedAt == nil {
						c.storedAt = map[string]time.Time{}
					}
					c.storedAt[words] = time.Now()
					c.mu.Unlock()
				}
				break
			}
			if err != nil {
				c.logf("(event %s not delivered: connection failed)", typ)
			} else {
				c.logf("(event %s answered %d)", typ, status)
			}
			if attempt == voipbin.EventAttempts {
				after := ""
				if c.transferred {
					after = " (after the transfer)"
				}
				c.logf("EVENT %s LOST after %d attempts%s", typ, voipbin.EventAttempts, after)
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
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base(true)+voipbin.EventsPath, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.opt.Secret != "" {
		req.Header.Set(voipbin.SignatureHeader, voipbin.Sign(c.opt.Secret, body))
	}
	resp, err := c.opt.Client.Do(req)
	if err != nil {
		return 0, voipbin.RedactError(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
