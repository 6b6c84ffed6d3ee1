package flow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
)

// Events takes what happens on a call between two turns into its inbox, for
// the next turn to read: the caller's words, the caller hanging up. It owns
// the rules for them: only the caller's own voice counts, words are clipped,
// a retried event is taken once, and words reach their call through the
// transcription session that heard them. Keypad entries need no inbox: they
// arrive with the turn that collected them (Turn.Digits).
type Events struct {
	inbox Inbox
	log   *slog.Logger
	// Leaving, when set, reports whether this process knows that a call has
	// left us though the store may not say so yet (a failover while the
	// store was down): its words are then kept nowhere, as for a call the
	// store knows has left (ErrLeft).
	Leaving func(callID string) bool
	// dropped counts caller lines dropped from full inboxes (see MaxInbox)
	// since the process started.
	dropped atomic.Int64
}

// NewEvents returns Events that append to inbox.
func NewEvents(inbox Inbox, log *slog.Logger) *Events {
	return &Events{inbox: inbox, log: log}
}

// Dropped is how many caller lines full inboxes have dropped so far.
func (e *Events) Dropped() int64 { return e.dropped.Load() }

// ErrUnknownSession is words from a transcription session no call is linked
// to yet. Events may arrive out of order; the platform retries later.
var ErrUnknownSession = errors.New("words from an unknown transcription session")

// Speaker is whose voice a transcription heard.
type Speaker int

// The voices on a call.
const (
	Caller Speaker = iota // the person who called
	Us                    // our own talk actions, transcribed back
)

// Heard is words a transcription session heard.
type Heard struct {
	// ID identifies the event: the same ID is the same words, delivered again.
	ID      string
	Session string // the transcription session that heard them
	Speaker Speaker
	Text    string
}

// Transcribing links a transcription session to the call it listens to, so
// that the words it hears find their call, and tells the call of the session
// and its language, lang, so that it is stopped when the call leaves us (a
// call that detects its caller's language runs one transcription per
// language and listens on in the caller's). A call that has left us takes no
// new session, and a session unlinked when its call left is never linked
// again: a retried or late transcribe_created is taken, and nothing is kept.
func (e *Events) Transcribing(ctx context.Context, session, callID, lang string) error {
	if e.leaving(callID) {
		return nil
	}
	// Without a language there is nothing to tell: the call treats the
	// session's words as its own language, and its words find a call that
	// left us refused all the same (ErrLeft). VoIPBin always gives the
	// language transcribe_start asked for.
	if lang != "" {
		_, _, err := e.inbox.Append(ctx, callID, "transcribing:"+session, Input{Session: session, Lang: lang})
		if errors.Is(err, ErrLeft) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("tell call %s of transcription %s: %w", callID, session, err)
		}
	}
	if err := e.inbox.Link(ctx, session, callID); err != nil && !errors.Is(err, ErrLeft) {
		return fmt.Errorf("link transcription %s to call %s: %w", session, callID, err)
	}
	return nil
}

// leaving reports whether the process knows callID has left us (Leaving).
func (e *Events) leaving(callID string) bool { return e.Leaving != nil && e.Leaving(callID) }

// Heard takes the caller's words into their call's inbox. Our own voice,
// empty words and words for a call that has left us (Left, ErrLeft) are
// ignored: they return no call. It returns the call the words belong to and
// how many older unread lines the call's full inbox dropped for them (see
// MaxInbox); its error is ErrUnknownSession when no call is linked to the
// session, or the store's: any failure to keep the words is an error, so
// that the platform sends them again.
func (e *Events) Heard(ctx context.Context, h Heard) (callID string, dropped int, err error) {
	text := Clip(h.Text)
	if h.Speaker != Caller || text == "" {
		return "", 0, nil
	}
	callID, err = e.inbox.Resolve(ctx, h.Session)
	if errors.Is(err, ErrNotFound) {
		return "", 0, fmt.Errorf("transcription %s: %w", h.Session, ErrUnknownSession)
	}
	if err != nil {
		return "", 0, fmt.Errorf("resolve transcription %s: %w", h.Session, err)
	}
	if callID == "" || e.leaving(callID) {
		return "", 0, nil // the call left us (Left): its words are not ours to keep
	}
	in := Input{Text: text, Session: h.Session} // the store stamps At: one clock for every replica
	_, dropped, err = e.inbox.Append(ctx, callID, "heard:"+h.ID, in)
	if errors.Is(err, ErrLeft) {
		return "", 0, nil
	}
	if dropped > 0 {
		total := e.dropped.Add(int64(dropped))
		e.log.WarnContext(ctx, "call inbox full: oldest unread lines dropped", "call", callID, "dropped", dropped, "total", total)
	}
	if err != nil {
		return callID, dropped, fmt.Errorf("append words to call %s: %w", callID, err)
	}
	return callID, dropped, nil
}

// Left unlinks the transcriptions of a call that has left us (transferred,
// handed back, hung up): words they hear from now on, the caller's talk
// with an agent, are taken by Heard and kept nowhere.
func (e *Events) Left(ctx context.Context, c Call) error {
	var errs []error
	for _, session := range c.Transcribes {
		if err := e.inbox.Link(ctx, session, ""); err != nil {
			errs = append(errs, fmt.Errorf("unlink transcription %s of call %s: %w", session, c.ID, err))
		}
	}
	return errors.Join(errs...)
}

// Speech records the caller's voice activity that a transcription session
// reports while they speak (each interim result; ended: they stopped), so
// that the call listens in short pauses while an answer is near. Each
// session's is kept apart, for each reports its own and their events arrive
// in no fixed order. Our own voice is ignored. It returns the call, or
// ErrUnknownSession as Heard does.
func (e *Events) Speech(ctx context.Context, session string, speaker Speaker, ended bool) (string, error) {
	if speaker != Caller {
		return "", nil
	}
	callID, err := e.inbox.Resolve(ctx, session)
	if errors.Is(err, ErrNotFound) {
		return "", fmt.Errorf("transcription %s: %w", session, ErrUnknownSession)
	}
	if err != nil {
		return "", fmt.Errorf("resolve transcription %s: %w", session, err)
	}
	if callID == "" || e.leaving(callID) {
		return "", nil
	}
	err = e.inbox.Speaking(ctx, callID, session, VoiceActivity{Ended: ended})
	if errors.Is(err, ErrLeft) {
		return "", nil
	}
	if err != nil {
		return callID, fmt.Errorf("record speech on call %s: %w", callID, err)
	}
	return callID, nil
}

// HungUp records that the caller hung up; the next turn ends the call.
// eventID identifies the event, as in Heard.
func (e *Events) HungUp(ctx context.Context, eventID, callID string) error {
	if _, _, err := e.inbox.Append(ctx, callID, "hangup:"+eventID, Input{Hangup: true}); err != nil && !errors.Is(err, ErrLeft) {
		return fmt.Errorf("append hangup to call %s: %w", callID, err)
	}
	return nil
}
