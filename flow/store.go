package flow

import (
	"context"
	"errors"
)

// The store is split by its users. The turn loop needs Calls; caller events
// need an Inbox. Two writers touch a call at once, and they never fight: events
// only ever append to the call's inbox, and a turn loads the call with its
// inbox and saves the new state while taking what it consumed, in one atomic
// compare-and-set. Nothing is lost or read twice, whatever the interleaving.

// Calls keeps calls between turns, so that any replica can serve any turn.
type Calls interface {
	// Load returns the call and the inputs that arrived since its last save,
	// oldest first. A call never saved comes back as Call{ID: id} with Version 0.
	// Errors are the store's own (unreachable, corrupt data).
	Load(ctx context.Context, id string) (Call, []Input, error)
	// Save writes c if the stored version is still c.Version, stores it as
	// c.Version+1 and removes the first taken inputs from the inbox.
	// It returns ErrConflict when another writer saved first, else the
	// store's own errors.
	Save(ctx context.Context, c Call, taken int) error
}

// Store is a whole store as a service runs on it: the turn loop's Calls,
// the events' Inbox, and whether it can be reached (a readiness probe).
// The store package's Memory and Redis are Stores; storetest checks one.
type Store interface {
	Calls
	Inbox
	// Ping reports whether the store can be reached.
	Ping(ctx context.Context) error
}

// Inbox takes what callers do between turns, for the next turn to read.
type Inbox interface {
	// Append adds in to the call's inbox unless an input with the same key was
	// appended to that call before; it reports whether it added, and how many
	// of the oldest unread inputs it dropped to keep the inbox within
	// MaxInbox. Keys make retried events harmless; the store remembers, for
	// as long as it keeps the call, every key of its mark window and at
	// least the last MaxMarks (at most MaxMarksHard). A call that has left us
	// (Call.Left) takes nothing and lives no longer for it: ErrLeft. Nothing
	// is written unless the input is: a store that refuses the inbox write
	// must not remember the key, or the retry would be dropped as a duplicate.
	// Errors are the store's own.
	Append(ctx context.Context, id, key string, in Input) (added bool, dropped int, err error)
	// Link remembers which call a transcription session belongs to; a later
	// link of the same session wins. An empty callID says the session's call
	// is no longer ours, and it stays so: a later link of that session is
	// refused with ErrLeft. A link lives as long as a live call
	// (Expiry.Call), an unlink as long as an ended one. Errors are the store's own.
	Link(ctx context.Context, session, callID string) error
	// Resolve returns the call linked to a transcription session ("" for one
	// no longer ours), ErrNotFound when there is none, or the store's own
	// error.
	Resolve(ctx context.Context, session string) (string, error)
	// Speaking records the caller's latest voice activity that transcription
	// session heard on a call, which Load returns in Call.Voices; a later
	// record of the same session replaces an earlier one. A zero v.AtMS is
	// stamped with the store's clock. It expires with the call; a call that
	// has left us takes none (ErrLeft). Errors are the store's own.
	Speaking(ctx context.Context, id, session string, v VoiceActivity) error
}

// Bounds on what a store keeps per call, so that a flood of events for one
// call cannot grow its state (or the work of every fetch) without bound.
const (
	// MaxInbox is the most unread inputs a call's inbox holds; Append drops
	// the oldest beyond it. A caller says a line every few seconds and every
	// turn empties the inbox, so only a flood reaches it.
	MaxInbox = 20
	// MaxMarks is how many de-duplication keys a store remembers per call
	// whatever their age; older ones are kept while younger than the store's
	// mark window (store.Expiry.Marks), up to MaxMarksHard. VoIPBin retries
	// an event within seconds (three attempts a second apart), so a burst of
	// events cannot push a retried one out of memory, and a flood still
	// cannot grow it without bound.
	MaxMarks     = 100
	MaxMarksHard = 1000
)

// Store errors.
var (
	ErrConflict = errors.New("call was saved by another request")
	ErrNotFound = errors.New("not found")
	// ErrLeft is a write for a call that has left us (Call.Left), or for a
	// transcription unlinked when it did: refused, so that what is heard
	// after the caller reached a human is kept nowhere and decides nothing.
	ErrLeft = errors.New("the call has left us")
)
