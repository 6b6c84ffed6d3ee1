// Package flow is Switchboard's domain: a call's state, the state machine that
// greets, clarifies, classifies and transfers, what callers do between turns,
// the routing table, the local classifier, and the small interfaces it needs
// from the outside (Calls, Inbox, Classifier). It does no network I/O of its own.
//
// A newcomer reads machine.go (the states and the moves between them), then
// turn.go (one turn: load, decide and fire through the machine, save), then
// the state_*.go files, one per state's policy.
package flow

import "context"

// Call is everything Switchboard remembers about one phone call between turns.
// It is small and flat because it is stored as one value per call.
type Call struct {
	ID      string `json:"id"`
	Version int64  `json:"v"` // bumped by every save; the store's compare-and-set guard
	State   string `json:"s"`
	// Language is the BCP-47 tag the caller is spoken to in.
	Language string `json:"lang,omitempty"`
	// Turns is every caller utterance so far, oldest first: the classifier sees them all.
	Turns          []string `json:"turns,omitempty"`
	Clarifications int      `json:"clar,omitempty"`
	// SilenceMS is the listening time handed to VoIPBin since the caller last
	// spoke (or since we asked whether they are still there).
	SilenceMS int `json:"sil,omitempty"`
	// Actions counts the VoIPBin actions handed out, against its 100-action limit.
	Actions    int    `json:"acts,omitempty"`
	Department string `json:"dept,omitempty"`
	// Reason says how the department was chosen: priority, named, model, local, keypad, silence, ...
	Reason string `json:"why,omitempty"`
	// Guess is the last classifier answer the router went by, sure or not,
	// and Confidence its probability; ModelMS is the time spent waiting for
	// the model over the whole call. They explain a route in logs and simulations.
	Guess      string  `json:"guess,omitempty"`
	Confidence float64 `json:"conf,omitempty"`
	ModelMS    int64   `json:"mms,omitempty"`
	// StartedMS is the call's first turn by the router's Clock: the moment
	// opening hours are read at for the whole call, so a call that starts at
	// 16:59 is not rerouted at 17:00.
	StartedMS int64 `json:"t0,omitempty"`
	UpdatedMS int64 `json:"t,omitempty"`
	// Closed names the department chosen while it was closed; Department is
	// then where its after_hours chain sent the call ("": nobody was open).
	Closed string `json:"closed,omitempty"`
	// Mode names the mode the dialled number is answered in, fixed on the first turn.
	Mode string `json:"mode,omitempty"`
	// Menu is the path through a keypad tree to the menu on offer; MenuTries
	// counts the wrong or missing keys at it.
	Menu      []string `json:"menu,omitempty"`
	MenuTries int      `json:"mtry,omitempty"`
	// Caller is the number the caller calls from and Dialled the number they
	// called, once a fetch said them (a callback's offer).
	Caller  string `json:"from,omitempty"`
	Dialled string `json:"to,omitempty"`
	// Returning is the department of the caller's last call when they are
	// asked whether they call about it again (returning.go), and Topic what
	// it was about; Repeat is set when that call was within 24 hours;
	// CalledBack when this call booked a callback.
	Returning  string `json:"ret,omitempty"`
	Topic      string `json:"topic,omitempty"`
	Repeat     bool   `json:"rep,omitempty"`
	CalledBack bool   `json:"cb,omitempty"`
	// Typing is set while the caller types the number to call back.
	Typing bool `json:"typing,omitempty"`
	// Audit is kept for calls whose mode audits them.
	Audit *Audit `json:"audit,omitempty"`
	// Sure is how sure whoever chose Department was: the classifier's
	// confidence, or 1 for a key pressed, a priority word or a fallback.
	Sure float64 `json:"sure,omitempty"`
	// LanguageSet is true once the caller's language is settled (picked by
	// key or detected); Sessions maps each transcription of a call that
	// detects its language to that transcription's language.
	LanguageSet bool              `json:"lset,omitempty"`
	Sessions    map[string]string `json:"ses,omitempty"`
	// Transcribes are the transcription sessions listening to the call (at
	// most maxTranscribes): when the call leaves us they are stopped, and
	// what they hear is no longer kept.
	Transcribes []string `json:"tx,omitempty"`
	// Ready is what was decided on the caller's words when they arrived (an
	// event), for the next fetch to hand out at once; ReadyMoves are the
	// moves that decision made. Words that arrived while the call was not
	// waiting for words, or while a decision waited for its fetch, have no
	// decision of their own on the way: WordsFromMS is when the call last
	// began waiting or handed a decision out, and only words after it are
	// left to the turn that arrived with them.
	Ready       []Action `json:"ready,omitempty"`
	ReadyMoves  Moves    `json:"rmoves,omitempty"`
	WordsFromMS int64    `json:"wfrom,omitempty"`
	// ReadyFrom is what the call was before the decision in Ready, so that
	// a line of the caller's that arrives before it is handed out (a
	// correction: "no wait, ...") has it taken again on all their words.
	ReadyFrom *Before `json:"rfrom,omitempty"`
	// Announced is the department the caller was last told they are routed
	// to while the transfer itself still waits in Ready (see Router.handOut):
	// a line of theirs until the next fetch can still change it.
	Announced string `json:"ann,omitempty"`
	// HeardMS is when the caller's last words taken arrived (Unix ms): voice
	// activity from before then was theirs. Acked is set once the caller was
	// told "One moment, please." while their words are being decided.
	HeardMS int64 `json:"heard,omitempty"`
	Acked   bool  `json:"ack,omitempty"`
	// RestartedMS is when a fetch started a decision on unread words that
	// had none on its way (see Router.awaiting); zero once words are taken.
	RestartedMS int64 `json:"restart,omitempty"`
	// Voices is the caller's latest voice activity heard by each
	// transcription session, as the store had it when Load returned the
	// call; like InboxDropped it is the store's.
	Voices map[string]VoiceActivity `json:"-"`
	// NowMS is the store's clock when Load returned the call (Unix ms). The
	// call's times (WordsFromMS, HeardMS, Input.At, VoiceActivity.AtMS) are
	// all the store's, so every replica compares them with the same clock,
	// whatever its own says; like InboxDropped it is the store's.
	NowMS int64 `json:"-"`
	// Handoff is the call's handoff to a person, once routed (handoff.go).
	Handoff *Handoff `json:"ho,omitempty"`
	// InboxDropped is how many inputs the store had dropped from the call's
	// inbox (see MaxInbox) when Load returned it. It is the store's, not
	// stored with the call: Save uses it to take exactly the inputs Load
	// returned even when older ones were dropped meanwhile.
	InboxDropped int64 `json:"-"`
}

// Before is what a decision on the caller's words changes of a call, as it
// was before the decision.
type Before struct {
	State          string   `json:"s"`
	Clarifications int      `json:"clar,omitempty"`
	Actions        int      `json:"acts,omitempty"`
	SilenceMS      int      `json:"sil,omitempty"`
	Acked          bool     `json:"ack,omitempty"`
	Menu           []string `json:"menu,omitempty"`
	MenuTries      int      `json:"mtry,omitempty"`
}

func (c *Call) before() Before {
	return Before{State: c.State, Clarifications: c.Clarifications, Actions: c.Actions, SilenceMS: c.SilenceMS,
		Acked: c.Acked, Menu: c.Menu, MenuTries: c.MenuTries}
}

// takeBack undoes the decision kept in Ready: the call is again as it was
// before it, but for the caller's words, which it keeps.
func (c *Call) takeBack() {
	b := c.ReadyFrom
	if b == nil {
		return
	}
	c.State, c.Clarifications, c.Actions, c.SilenceMS, c.Acked = b.State, b.Clarifications, b.Actions, b.SilenceMS, b.Acked
	c.Menu, c.MenuTries = b.Menu, b.MenuTries
	c.Department, c.Reason, c.Sure, c.Closed = "", "", 0, ""
	if c.Audit != nil {
		c.Audit.Destination = ""
	}
	c.Ready, c.ReadyMoves, c.ReadyFrom = nil, nil, nil
}

// Over reports whether the call needs no more turns; stores keep it briefly.
func (c *Call) Over() bool { return over(c.State) }

// Left reports whether the call has left us: over, and the fetch that told
// the platform so has been answered (no decision waits for it in Ready).
// From then on what its transcriptions hear is kept nowhere and decides
// nothing; stores refuse to append to it (ErrLeft).
func (c *Call) Left() bool { return c.Over() && c.Ready == nil }

// Routed reports whether the call has been sent to a department:
// transferred, or handed back to the customer's flow with one (a flow-step
// mode).
func (c *Call) Routed() bool { return c.State == StateTransferred || c.State == StateHandedBack }

// Input is one thing that happened on a call between two fetches, as delivered
// by VoIPBin's events: the caller's words, or the caller hanging up.
type Input struct {
	Text   string `json:"x,omitempty"`
	Hangup bool   `json:"h,omitempty"`
	// Session is the transcription the words came from. An input with a
	// Session and a Lang but no Text says that transcription started, in Lang.
	Session string `json:"s,omitempty"`
	Lang    string `json:"l,omitempty"`
	// At is when the input arrived (Unix ms), by the store's clock: Append
	// stamps a zero At. Zero for inputs stored before it was recorded.
	At int64 `json:"t,omitempty"`
}

// VoiceActivity is the caller's voice activity as one streaming
// transcription reports it: heard speaking at AtMS (Unix ms), or, Ended,
// stopped then. The store stamps AtMS with its own clock when it is zero.
type VoiceActivity struct {
	AtMS  int64 `json:"t"`
	Ended bool  `json:"e,omitempty"`
}

// Classifier picks the department a caller wants.
type Classifier interface {
	// Classify returns the department for a conversation's caller turns, oldest
	// first. An unsure classifier returns a Verdict with no Department, not an
	// error; errors mean it could not answer (timeout, outage, bad reply).
	Classify(ctx context.Context, turns []string) (Verdict, error)
}

// Verdict is a classifier's answer.
type Verdict struct {
	// Department is a configured department name; empty means unknown.
	Department string
	// Confidence is the probability of Department, RunnerUp that of the next best.
	// A classifier that cannot tell sets Confidence to 1 and RunnerUp to 0.
	Confidence float64
	RunnerUp   float64
	// Tokens is what a model call cost, for evaluation reports.
	Tokens int
}
