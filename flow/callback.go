package flow

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// A caller who reaches nobody is offered a choice (message.go): leave a
// message, or be called back. A callback is booked for the department's next
// opening on the number the caller confirms or types, and Switchboard dials
// it then (cmd/switchboard internal/service dialler.go): the department
// first, told who to call and why, then the caller, told who is calling back
// (MessageTexts.CalleeIntro) before the two are connected.

// States and events of the offer and the callback.
const (
	StateOffer     = "offer"      // offered a message or a callback
	StateCallback  = "callback"   // asked which number to call back
	EventRecord    = "record"     // the caller leaves a message
	EventAskNumber = "ask_number" // the caller wants a callback: which number?
)

// ActOffer collects the caller's choice: one key for Millis, and the number
// they call from (the platform knows it; the fetch brings it).
const ActOffer ActionKind = "offer"

// Callback is a callback a caller asked for.
type Callback struct {
	// ID is the call's id: one callback per call.
	ID string `json:"id"`
	// Number is the number to call back, Caller the one they called from.
	Number string `json:"number"`
	Caller string `json:"caller,omitempty"`
	// Dialled is the number they called: the caller ID the callback shows.
	Dialled    string `json:"dialled,omitempty"`
	Department string `json:"dept"`
	Label      string `json:"label,omitempty"`
	Language   string `json:"lang,omitempty"`
	// AtMS is when they called; DueMS when the callback is first due (the
	// department's next opening).
	AtMS  int64 `json:"at"`
	DueMS int64 `json:"due"`
	// Said is what they told us, redacted: the department hears its gist.
	Said []string `json:"said,omitempty"`
	// State is waiting, dialling, connected, failed or cancelled.
	State    string `json:"state"`
	Attempts int    `json:"tries,omitempty"`
	// Leg is the outgoing call of the attempt in progress.
	Leg string `json:"leg,omitempty"`
	// Outcomes are the attempts' results, oldest first ("2026-12-03T14:00:05Z not answered").
	Outcomes []string `json:"outcomes,omitempty"`
}

// Callback states.
const (
	CallbackWaiting   = "waiting"
	CallbackDialling  = "dialling"
	CallbackConnected = "connected"
	CallbackFailed    = "failed"
	CallbackCancelled = "cancelled"
)

// Callbacks keeps the callbacks callers ask for, shared by every replica.
// Errors are the store's.
type Callbacks interface {
	// Book stores cb, due at due; one already booked for cb.ID is left as it
	// is. It reports whether cb was new.
	Book(ctx context.Context, cb Callback, due time.Time) (bool, error)
	// Claim takes the callback due first, by now, that nobody holds and
	// nobody cancelled, holding it until now+lease.
	Claim(ctx context.Context, now time.Time, lease time.Duration) (Callback, bool, error)
	// Release stores an attempt's progress: due again at next while cb.State
	// is waiting or dialling, never again otherwise (nor once cancelled).
	Release(ctx context.Context, cb Callback, next time.Time, keep time.Duration) error
	// Callbacks lists them, newest first, at most n; Get reads one (false: none).
	Callbacks(ctx context.Context, n int) ([]Callback, error)
	Get(ctx context.Context, id string) (Callback, bool, error)
	// Cancel stops a callback from being dialled again; false when there is none.
	Cancel(ctx context.Context, id string) (bool, error)
}

// asksCallback matches a caller asking to be called back, in the languages
// the built-in texts speak.
var asksCallback = regexp.MustCompile(`(?i)\b(call(ing)? me back|call ?back|ring me back|phone me back|ll[aá]m(en|ame|eme)\b|devolver la llamada)`)

// offer is the fetch after the choice: a callback for the callback key or
// the words "call me back", a message otherwise (silence included: the offer
// said the message is the default).
func (r *Router) offer(ctx context.Context, c *Call, t *turn) decision {
	if t.Caller != "" {
		c.Caller = t.Caller
	}
	if t.Dialled != "" {
		c.Dialled = NormalizeNumber(t.Dialled)
	}
	words := r.callerWords(c, t)
	wants := t.HasDigits && strings.TrimSpace(t.Digits) == r.cfg.Messages.CallbackKey
	for _, w := range words {
		wants = wants || asksCallback.MatchString(w)
	}
	texts := r.cfg.Messages.textsFor(c.Language, r.cfg.Language)
	if wants && r.Callbacks != nil {
		return r.askNumber(c, texts, "")
	}
	m := r.cfg.Messages
	return decision{event: EventRecord, acts: []Action{
		{Kind: ActTalk, Text: r.fill(texts.Record, c), Language: texts.lang},
		{Kind: ActRecord, Millis: m.MaxSeconds * 1000, SilenceMS: m.SilenceSeconds * 1000},
	}}
}

// askNumber asks the caller to confirm the number they call from with one
// key (1, or 2 for another), or, when it is withheld or they want another,
// to type one and press pound; sorry is said first when the last one did not work.
func (r *Router) askNumber(c *Call, texts MessageTexts, sorry string) decision {
	acts := []Action{{Kind: ActForgetKeys}}
	if sorry != "" {
		acts = append(acts, Action{Kind: ActTalk, Text: sorry, Language: texts.lang})
	}
	if c.Caller != "" && sorry == "" {
		return decision{event: EventAskNumber, acts: append(acts,
			Action{Kind: ActTalk, Text: strings.ReplaceAll(texts.ConfirmNumber, "{number}", spell(c.Caller)), Language: texts.lang},
			Action{Kind: ActMenu, Millis: r.cfg.Dialog.MenuMS, Length: 1})}
	}
	return decision{event: EventAskNumber, acts: append(acts,
		Action{Kind: ActTalk, Text: texts.AskNumber, Language: texts.lang}, Action{Kind: ActMenu, Millis: 15000, Length: 16})}
}

// callback is the fetch after the number: confirmed (1, or no key), another
// asked for (2: type it), typed, or wrong (asked again once, then the caller
// is told it did not work).
func (r *Router) callback(_ context.Context, c *Call, t *turn) decision {
	t.taken = len(t.inbox)
	texts := r.cfg.Messages.textsFor(c.Language, r.cfg.Language)
	d := strings.TrimSpace(t.Digits)
	if d == "2" && c.Caller != "" && !c.Typing {
		c.Typing = true
		return decision{event: EventAskNumber, acts: []Action{{Kind: ActForgetKeys},
			{Kind: ActTalk, Text: texts.AskNumber, Language: texts.lang}, {Kind: ActMenu, Millis: 15000, Length: 16}}}
	}
	number := ""
	switch {
	case (d == "1" || d == "") && c.Caller != "":
		number = c.Caller
	case len(d) >= 7:
		number = typedNumber(d, c.Caller)
	}
	if !telNumber.MatchString(number) {
		c.MenuTries++
		if c.MenuTries < 2 {
			return r.askNumber(c, texts, texts.NumberInvalid)
		}
		return decision{event: EventClosed, reason: c.Reason, conf: c.Sure, closed: c.Closed, acts: []Action{
			{Kind: ActTalk, Text: r.fill(texts.CallbackFailed, c), Language: texts.lang},
			{Kind: ActHangup},
		}}
	}
	due := r.cfg.NextOpening(c.Closed, r.clock())
	said := make([]string, len(c.Turns))
	for i, s := range c.Turns {
		said[i] = Redact(s)
	}
	t.callback = &Callback{ID: c.ID, Number: number, Caller: c.Caller, Dialled: c.Dialled, Department: c.Closed,
		Label: r.labelOf(c.Closed, c.Language), Language: c.Language, AtMS: c.StartedMS, DueMS: due.UnixMilli(), Said: said,
		State: CallbackWaiting}
	c.CalledBack = true
	booked := texts.CallbackBooked
	if !due.After(r.clock()) { // open now: nobody answered
		booked = texts.CallbackSoon
	}
	text := strings.ReplaceAll(r.fill(booked, c), "{number}", spell(number))
	return decision{event: EventClosed, reason: c.Reason, conf: c.Sure, closed: c.Closed, acts: []Action{
		{Kind: ActTalk, Text: text, Language: texts.lang},
		{Kind: ActHangup},
	}}
}

// NextOpening is when dept is next open from now: now when it is open. A
// callback is first due then, and a retry that would fall while it is closed waits for it.
func (r *Routing) NextOpening(dept string, now time.Time) time.Time {
	h := r.HoursOf(dept)
	if h == nil || h.OpenAt(now) {
		return now
	}
	if at, ok := h.NextChange(now); ok {
		return at
	}
	return now
}

// typedNumber reads a number typed on the keypad: 00 or the caller's own
// country code first is international; ten digits from a +1 caller are a
// North American number; else the digits are taken as a whole international number.
func typedNumber(d, caller string) string {
	switch {
	case strings.HasPrefix(d, "00"):
		return "+" + d[2:]
	case len(d) == 10 && strings.HasPrefix(caller, "+1"):
		return "+1" + d
	}
	return "+" + d
}

// spell says a number digit by digit: "+14155550123" is "1 4 1 5 5 5 5 0 1 2 3".
func spell(number string) string {
	var b strings.Builder
	for _, r := range strings.TrimPrefix(number, "+") {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// fill puts the department asked for into a message text.
func (r *Router) fill(text string, c *Call) string {
	return strings.ReplaceAll(text, "{department}", r.labelOf(c.Closed, c.Language))
}

// book puts a turn's callback in Callbacks.
func (r *Router) book(ctx context.Context, t *turn) error {
	if t.callback == nil || r.Callbacks == nil {
		return nil
	}
	if _, err := r.Callbacks.Book(ctx, *t.callback, time.UnixMilli(t.callback.DueMS)); err != nil {
		return fmt.Errorf("book callback %s: %w", t.callback.ID, err)
	}
	return nil
}
