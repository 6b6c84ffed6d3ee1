// Package flow is Switchboard's domain: a call's state, the state machine that
// greets, clarifies, classifies and transfers, the routing table, the local
// classifier, and the small interfaces it needs from the outside (Store,
// Classifier). It does no network I/O of its own.
package flow

import (
	"context"
	"errors"
)

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
	// SilenceMS is the listening time handed to VoIPBin since the caller last spoke.
	SilenceMS       int  `json:"sil,omitempty"`
	StillThereAsked bool `json:"asked,omitempty"`
	// Actions counts the VoIPBin actions handed out, against its 100-action limit.
	Actions int `json:"acts,omitempty"`
	// Pending marks turns acknowledged ("One moment, please.") but not yet
	// classified: the next fetch classifies them.
	Pending    bool   `json:"pend,omitempty"`
	Department string `json:"dept,omitempty"`
	// Reason says how the department was chosen: priority, named, model, local, keypad, silence, ...
	Reason string `json:"why,omitempty"`
	// Guess is the last classifier answer the router went by, sure or not,
	// and Confidence its probability; ModelMS is the time spent waiting for
	// the model over the whole call. They explain a route in logs and simulations.
	Guess      string  `json:"guess,omitempty"`
	Confidence float64 `json:"conf,omitempty"`
	ModelMS    int64   `json:"mms,omitempty"`
	StartedMS  int64   `json:"t0,omitempty"`
	UpdatedMS  int64   `json:"t,omitempty"`
	// InboxDropped is how many inputs the store had dropped from the call's
	// inbox (see MaxInbox) when Load returned it. It is the store's, not
	// stored with the call: Save uses it to take exactly the inputs Load
	// returned even when older ones were dropped meanwhile.
	InboxDropped int64 `json:"-"`
}

// Over reports whether the call needs no more turns; stores keep it briefly.
func (c *Call) Over() bool { return c.State == StateTransferred || c.State == StateEnded }

// Input is one thing that happened on a call between two fetches, as delivered
// by VoIPBin's events: the caller's words, or the caller hanging up.
type Input struct {
	Text   string `json:"x,omitempty"`
	Hangup bool   `json:"h,omitempty"`
}

// Bounds on what a store keeps per call, so that a flood of events for one
// call cannot grow its state (or the work of every fetch) without bound.
const (
	// MaxInbox is the most unread inputs a call's inbox holds; Append drops
	// the oldest beyond it. A caller says a line every few seconds and every
	// fetch empties the inbox, so only a flood reaches it.
	MaxInbox = 20
	// MaxMarks is the most de-duplication keys a store remembers per call;
	// the oldest are forgotten first. VoIPBin retries an event within seconds,
	// so only the recent ones matter.
	MaxMarks = 100
)

// Store keeps calls between requests, so that any replica can serve any turn.
// Events only ever append to a call's inbox; a fetch loads the call with its
// inbox and saves the new state while taking what it consumed, in one atomic
// compare-and-set. Nothing is lost or read twice, whatever the interleaving.
type Store interface {
	// Load returns the call and the inputs that arrived since its last save,
	// oldest first. A call never saved comes back as Call{ID: id} with Version 0.
	// Errors are the store's own (unreachable, corrupt data).
	Load(ctx context.Context, id string) (Call, []Input, error)
	// Save writes c if the stored version is still c.Version, stores it as
	// c.Version+1 and removes the first taken inputs from the inbox.
	// It returns ErrConflict when another writer saved first.
	Save(ctx context.Context, c Call, taken int) error
	// Append adds in to the call's inbox unless an input with the same key was
	// appended before; it reports whether it added, and how many of the oldest
	// unread inputs it dropped to keep the inbox within MaxInbox. Keys make
	// VoIPBin's retried events harmless; the store remembers the last MaxMarks
	// of them per call, for as long as it keeps the call.
	Append(ctx context.Context, id, key string, in Input) (added bool, dropped int, err error)
	// Link remembers which call a VoIPBin transcribe session belongs to.
	Link(ctx context.Context, transcribeID, callID string) error
	// Resolve returns the call linked to a transcribe session, or ErrNotFound.
	Resolve(ctx context.Context, transcribeID string) (string, error)
	// Ping reports whether the store can be reached.
	Ping(ctx context.Context) error
}

// Store errors.
var (
	ErrConflict = errors.New("call was saved by another request")
	ErrNotFound = errors.New("not found")
)

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
