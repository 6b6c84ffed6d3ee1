package flow

import (
	"context"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// A caller who reaches nobody (every department along the chain is closed,
// or, later, nobody answered a transfer) can leave a message instead of being
// told to call again. The message is recorded by the platform, and Switchboard
// itself, never the caller's flow, tells the business: the message is put in
// an Outbox with the call, and a sender (cmd/switchboard messages.go) takes
// it from there, transcribes the recording and notifies the department's contacts.

// StateMessage is a call recording the caller's message; EventTakeMessage
// moves a call there from any state a department can be chosen in.
const (
	StateMessage     = "message"
	EventTakeMessage = "take_message"
)

// ActRecord records the caller's message: a beep, then the recording, which
// ends at the pound key, after SilenceMS of silence or after Millis; then a
// fetch that says which recording it was.
const ActRecord ActionKind = "record"

// Messages configures messages: how long they may be, how long they are kept,
// who hears of them, and what the caller hears. Nil: nobody open means
// texts.closed_all and the end of the call, as before.
type Messages struct {
	// MaxSeconds is the longest message (default 120); SilenceSeconds of
	// silence end it (default 5).
	MaxSeconds     int `json:"max_seconds,omitempty"`
	SilenceSeconds int `json:"silence_seconds,omitempty"`
	// TranscribeAfterMS is how long after the message its recording is
	// transcribed (default 15000): VoIPBin says the recording finished before
	// it has stored its files, and a transcription asked for before then stays
	// empty for good.
	TranscribeAfterMS int `json:"transcribe_after_ms,omitempty"`
	// RetryMS spaces the attempts to tell the business while VoIPBin or the
	// business's URL fails (default 30 s, 2 min, 10 min, 30 min, then every hour).
	RetryMS []int `json:"retry_ms,omitempty"`
	// KeepDays is how long a message and its words are kept (default 30).
	KeepDays int `json:"keep_days,omitempty"`
	// SMSFrom is the number SMS notices are sent from, one the account owns
	// (default: the number the caller dialled).
	SMSFrom string `json:"sms_from,omitempty"`
	// Contacts are who hears of a message left for a department, by
	// department name; "*" is everyone's without their own.
	Contacts map[string][]Contact `json:"contacts"`
	// CallbackKey is the key that asks for a callback at the offer (default
	// "2"; any other key, or none, leaves a message).
	CallbackKey string `json:"callback_key,omitempty"`
	// CallbackRetryMS spaces the attempts to call back when nobody at the
	// department takes the call or the caller does not answer (default 15
	// min, 1 h, 3 h); after them the callback has failed.
	CallbackRetryMS []int `json:"callback_retry_ms,omitempty"`
	// Texts are what the caller hears, by language.
	Texts map[string]*MessageTexts `json:"texts,omitempty"`
}

// Contact is one way to tell the business: an SMS to a phone number, an
// email with the recording, or a signed webhook to the business's URL.
type Contact struct {
	SMS     string `json:"sms,omitempty"`
	Email   string `json:"email,omitempty"`
	Webhook string `json:"webhook,omitempty"`
}

// MessageTexts are what a caller who reaches nobody hears; "{department}"
// is replaced by the label of the department they asked for, "{number}" by
// the number to call back, said digit by digit.
type MessageTexts struct {
	// Offer replaces texts.closed_all: nobody is there; a message, or a callback.
	Offer string `json:"offer,omitempty"`
	// Unanswered is the offer to a caller whom nobody took while the
	// department is open (every destination of the handoff rang out, was
	// busy, declined or failed).
	Unanswered string `json:"unanswered,omitempty"`
	// Record is said before the beep.
	Record string `json:"record,omitempty"`
	// Thanks says what happens next and ends the call; ThanksSoon says it
	// while the department is open (nobody answered).
	Thanks     string `json:"thanks,omitempty"`
	ThanksSoon string `json:"thanks_soon,omitempty"`
	// Failed is said when nothing could be recorded.
	Failed string `json:"failed,omitempty"`
	// ConfirmNumber asks to confirm the number the caller calls from;
	// AskNumber asks for one when it is withheld; NumberInvalid is said
	// before asking again.
	ConfirmNumber string `json:"confirm_number,omitempty"`
	AskNumber     string `json:"ask_number,omitempty"`
	NumberInvalid string `json:"number_invalid,omitempty"`
	// CallbackBooked says when and where the caller will be called back;
	// CallbackSoon says it while the department is open; CallbackFailed
	// that no number worked.
	CallbackBooked string `json:"callback_booked,omitempty"`
	CallbackSoon   string `json:"callback_soon,omitempty"`
	CallbackFailed string `json:"callback_failed,omitempty"`
	// Whisper is what the department hears before it calls back: "{number}",
	// "{time}" (when they called) and "{reason}" (what they told us).
	Whisper string `json:"whisper,omitempty"`
	// CalleeIntro is what the customer hears on answering a callback, before
	// the department is put through: "{department}" and "{time}" (when they called).
	CalleeIntro string `json:"callee_intro,omitempty"`
	// What the department's person hears after the whisper: CallbackCalling
	// when they took it (the customer is rung), CallbackLater when they did
	// not, CallbackUnreachable when the customer could not be rung,
	// CallbackGone when another attempt took it or it was cancelled.
	CallbackCalling     string `json:"callback_calling,omitempty"`
	CallbackLater       string `json:"callback_later,omitempty"`
	CallbackUnreachable string `json:"callback_unreachable,omitempty"`
	CallbackGone        string `json:"callback_gone,omitempty"`
	// CalleeFailed is what the customer hears when the department's side is
	// gone by the time they answer.
	CalleeFailed string `json:"callee_failed,omitempty"`

	lang string // the language these texts are in (textsFor)
}

var defaultMessageTexts = MessageTexts{
	Offer:          "We are closed now. To leave a message for {department}, stay on the line. To be called back when we open, press 2.",
	Unanswered:     "Sorry, nobody could take your call just now. To leave a message for {department}, stay on the line. To be called back, press 2.",
	Record:         "Please leave your message after the tone, with your name and what you need, then press the pound key.",
	Thanks:         "Thank you. {department} will get your message and call you back when we open. Goodbye.",
	ThanksSoon:     "Thank you. {department} will get your message and call you back as soon as they can. Goodbye.",
	Failed:         "Sorry, we could not record your message. Please call again during our opening hours. Goodbye.",
	ConfirmNumber:  "We will call you back on {number}. Press 1 if that is right, or 2 to give another number.",
	AskNumber:      "Please type the number we should call, then press the pound key.",
	NumberInvalid:  "Sorry, that number did not work.",
	CallbackBooked: "Thank you. {department} will call you back on {number} when we open. Goodbye.",
	CallbackSoon:   "Thank you. {department} will call you back on {number} as soon as they can. Goodbye.",
	CallbackFailed: "Sorry, that number did not work either. Please call again during our opening hours. Goodbye.",
	Whisper:        "Callback to {number}, who called at {time} about: {reason}. Press 1 to call them now.",
	CalleeIntro:    "Hello, this is {department} calling you back about your call at {time}.",

	CallbackCalling:     "Calling them now.",
	CallbackLater:       "The callback will be tried again later. Goodbye.",
	CallbackUnreachable: "Sorry, they cannot be called now. The callback will be tried again later. Goodbye.",
	CallbackGone:        "This callback was already taken or cancelled. Goodbye.",
	CalleeFailed:        "Sorry, this call cannot be connected now. Goodbye.",
}

// spanishCalleeIntro and spanishCalleeFailed are the built-in texts for the
// customer of a Spanish callback when the configuration has none in Spanish.
const (
	spanishCalleeIntro  = "Hola, le llama {department} para devolverle su llamada de las {time}."
	spanishCalleeFailed = "Lo sentimos, no podemos conectar esta llamada ahora. Adiós."
)

// Message is a message left by a caller, as the business is told of it.
type Message struct {
	// ID is the call's id: one message per call.
	ID string `json:"id"`
	// Caller is the number the caller called from, Dialled the number they called.
	Caller  string `json:"caller,omitempty"`
	Dialled string `json:"dialled,omitempty"`
	// Department is the one the caller asked for, Label its name.
	Department string `json:"dept"`
	Label      string `json:"label,omitempty"`
	Language   string `json:"lang,omitempty"`
	// AtMS is when the call began (Unix ms).
	AtMS int64 `json:"at"`
	// Said is what the caller told us before the message, redacted.
	Said []string `json:"said,omitempty"`
	// Recording is the platform's recording of the message.
	Recording string `json:"rec"`
	// Words are the message's words once transcribed, redacted;
	// Transcribed is set once that was tried and answered.
	Words       string `json:"words,omitempty"`
	Transcribed bool   `json:"tx,omitempty"`
	// Sent lists the notices already delivered ("sms +14155550100"), so an
	// attempt after a failure sends only the others.
	Sent []string `json:"sent,omitempty"`
	// Attempts counts the tries; Error is the last failure.
	Attempts int    `json:"tries,omitempty"`
	Error    string `json:"err,omitempty"`
	// DoneMS is when every notice was delivered (Unix ms); 0 while some are due.
	DoneMS int64 `json:"done,omitempty"`
}

// Outbox keeps messages until the business has been told, shared by every
// replica. Errors are the store's (unreachable, say).
type Outbox interface {
	// Leave stores m, due at due. A message with m's ID already stored is
	// left as it is: a turn played again leaves its message once. It reports
	// whether m was new.
	Leave(ctx context.Context, m Message, due time.Time) (bool, error)
	// Claim takes the message due first, by now, that nobody holds, and
	// holds it until now+lease: two replicas never claim the same message
	// at once. ok is false when none is due.
	Claim(ctx context.Context, now time.Time, lease time.Duration) (m Message, ok bool, err error)
	// Release stores what an attempt did to a claimed message and lets it go:
	// due again at next, or, with m.DoneMS set, never again. Either way it is
	// kept until keep has passed, then forgotten.
	Release(ctx context.Context, m Message, next time.Time, keep time.Duration) error
	// Messages lists the messages kept, newest first, at most n.
	Messages(ctx context.Context, n int) ([]Message, error)
}

func (m *Messages) setDefaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&m.MaxSeconds, 120)
	def(&m.SilenceSeconds, 5)
	def(&m.TranscribeAfterMS, 15000)
	def(&m.KeepDays, 30)
	if len(m.RetryMS) == 0 {
		m.RetryMS = []int{30000, 120000, 600000, 1800000, 3600000}
	}
	if m.CallbackKey == "" {
		m.CallbackKey = "2"
	}
	if len(m.CallbackRetryMS) == 0 {
		m.CallbackRetryMS = []int{900000, 3600000, 10800000}
	}
	if m.Texts == nil {
		m.Texts = map[string]*MessageTexts{}
	}
	for _, t := range m.Texts {
		if t == nil {
			continue
		}
		d := defaultMessageTexts
		for _, f := range []struct {
			v *string
			d string
		}{{&t.Offer, d.Offer}, {&t.Unanswered, d.Unanswered}, {&t.Record, d.Record}, {&t.Thanks, d.Thanks}, {&t.ThanksSoon, d.ThanksSoon}, {&t.Failed, d.Failed},
			{&t.ConfirmNumber, d.ConfirmNumber}, {&t.AskNumber, d.AskNumber}, {&t.NumberInvalid, d.NumberInvalid},
			{&t.CallbackBooked, d.CallbackBooked}, {&t.CallbackSoon, d.CallbackSoon}, {&t.CallbackFailed, d.CallbackFailed}, {&t.Whisper, d.Whisper}, {&t.CalleeIntro, d.CalleeIntro},
			{&t.CallbackCalling, d.CallbackCalling}, {&t.CallbackLater, d.CallbackLater}, {&t.CallbackUnreachable, d.CallbackUnreachable},
			{&t.CallbackGone, d.CallbackGone}, {&t.CalleeFailed, d.CalleeFailed}} {
			if *f.v == "" {
				*f.v = f.d
			}
		}
	}
}

// validateMessages names every problem of routing.messages.
func (r *Routing) validateMessages(bad func(string, ...any)) {
	m := r.Messages
	if m == nil {
		return
	}
	m.setDefaults()
	if m.MaxSeconds < 10 || m.MaxSeconds > 600 {
		bad("routing.messages.max_seconds: %d; must be 10..600", m.MaxSeconds)
	}
	if m.SilenceSeconds < 2 || m.SilenceSeconds > m.MaxSeconds {
		bad("routing.messages.silence_seconds: %d; must be 2..max_seconds", m.SilenceSeconds)
	}
	for _, ms := range m.RetryMS {
		if ms < 1000 {
			bad("routing.messages.retry_ms: %d; at least 1000 between attempts", ms)
		}
	}
	for _, ms := range m.CallbackRetryMS {
		if ms < 60000 {
			bad("routing.messages.callback_retry_ms: %d; at least 60000 between calls to a customer", ms)
		}
	}
	if len(m.CallbackKey) != 1 || !strings.Contains("023456789*", m.CallbackKey) {
		bad("routing.messages.callback_key: %q; one key, not 1 (a message) nor # (it ends the URL)", m.CallbackKey)
	}
	if m.SMSFrom != "" && !telNumber.MatchString(m.SMSFrom) {
		bad("routing.messages.sms_from: %q is not a phone number (+ and 7 to 15 digits)", m.SMSFrom)
	}
	if len(m.Contacts) == 0 {
		bad("routing.messages.contacts: nobody would hear of a message")
	}
	for dept, cs := range m.Contacts {
		if dept != "*" && r.Departments[dept] == nil {
			bad("routing.messages.contacts.%s: no such department", dept)
		}
		for i, c := range cs {
			where := fmt.Sprintf("routing.messages.contacts.%s[%d]", dept, i)
			n := 0
			if c.SMS != "" {
				n++
				if !telNumber.MatchString(c.SMS) {
					bad("%s.sms: %q is not a phone number (+ and 7 to 15 digits)", where, c.SMS)
				}
			}
			if c.Email != "" {
				n++
				if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email {
					bad("%s.email: %q is not an email address", where, c.Email)
				}
			}
			if c.Webhook != "" {
				n++
				if u, err := url.Parse(c.Webhook); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
					bad("%s.webhook: %q is not an http(s) URL", where, c.Webhook)
				}
			}
			if n != 1 {
				bad("%s: want exactly one of sms, email, webhook", where)
			}
		}
	}
	for lang, t := range m.Texts {
		if t == nil {
			bad("routing.messages.texts.%s: empty", lang)
		}
	}
}

// ContactsFor returns who hears of a message left for dept.
func (m *Messages) ContactsFor(dept string) []Contact {
	if cs, ok := m.Contacts[dept]; ok {
		return cs
	}
	return m.Contacts["*"]
}

// Retry is when the attempt after the n-th failed one is due, from now.
func (m *Messages) Retry(n int, now time.Time) time.Time {
	i := min(max(n-1, 0), len(m.RetryMS)-1)
	return now.Add(time.Duration(m.RetryMS[i]) * time.Millisecond)
}

// Keep is how long a message is kept.
func (m *Messages) Keep() time.Duration { return time.Duration(m.KeepDays) * 24 * time.Hour }

// textsFor returns the message texts in lang, else in the default language,
// else the built-in English ones; each says which language it speaks, so a
// caller never hears words in another language's voice.
func (m *Messages) textsFor(lang, def string) MessageTexts {
	for _, l := range []string{lang, def} {
		if t := m.Texts[l]; t != nil {
			out := *t
			out.lang = l
			return out
		}
	}
	out := defaultMessageTexts
	out.lang = "en-US"
	return out
}

// DepartmentTexts are the texts a department's person hears on a callback
// (the whisper and what follows it), in lang when there are texts in it,
// and the language they are in.
func (m *Messages) DepartmentTexts(lang, def string) (t MessageTexts, in string) {
	t = m.textsFor(lang, def)
	return t, t.lang
}

// CalleeFailedFor is what the customer of a callback hears when it cannot
// be connected, in lang as CalleeIntroFor chooses it.
func (m *Messages) CalleeFailedFor(lang, def string) (text, in string) {
	if m.Texts[lang] == nil && strings.HasPrefix(strings.ToLower(lang), "es") {
		return spanishCalleeFailed, lang
	}
	t := m.textsFor(lang, def)
	return t.CalleeFailed, t.lang
}

// CalleeIntroFor is what the customer hears on answering a callback in
// lang, and the language it is in: the configured texts in lang, else a
// built-in Spanish one for a Spanish callback, else the texts of def.
func (m *Messages) CalleeIntroFor(lang, def string) (text, in string) {
	if m.Texts[lang] == nil && strings.HasPrefix(strings.ToLower(lang), "es") {
		return spanishCalleeIntro, lang
	}
	t := m.textsFor(lang, def)
	return t.CalleeIntro, t.lang
}

// takesMessages reports whether a caller on ch who reaches nobody can leave
// a message: the line must record and come back by itself.
func (r *Router) takesMessages(ch Channel) bool {
	return r.cfg.Messages != nil && ch.Fetches && ch.Keypad
}

// messageInstead turns the end of a call for which nobody is open (texts.closed_all)
// into the offer of a message, where the line can take one.
func (r *Router) messageInstead(c *Call, t *turn, d decision) decision {
	if d.event != EventClosed || d.dept != "" || !slices.Contains(live, c.State) || !r.takesMessages(t.ch) {
		return d
	}
	return r.OfferMessage(c, d.closed, d.reason, d.conf)
}

// OfferMessage is where a caller who reaches nobody goes: they hear that
// nobody is there for dept and choose a message (the default) or a callback.
// Anything that leaves a caller with nobody (all closed, a transfer nobody
// answered) ends here.
func (r *Router) OfferMessage(c *Call, dept, reason string, conf float64) decision {
	texts := r.cfg.Messages.textsFor(c.Language, r.cfg.Language)
	return decision{event: EventTakeMessage, dept: "", reason: reason, conf: conf, closed: dept, acts: []Action{
		{Kind: ActForgetKeys}, // a key pressed earlier would answer the offer, or end the message at once
		{Kind: ActTalk, Text: strings.ReplaceAll(texts.Offer, "{department}", r.labelOf(dept, c.Language)), Language: texts.lang},
		{Kind: ActOffer, Millis: 6000},
	}}
}

// unansweredReserve bounds what a caller offered a message after a handoff
// still spends: the offer, the number asked for twice or the message
// recorded, and the goodbye.
var unansweredReserve = Cost([]Action{{Kind: ActForgetKeys}, {Kind: ActTalk}, {Kind: ActOffer}}) +
	2*Cost([]Action{{Kind: ActForgetKeys}, {Kind: ActTalk}, {Kind: ActTalk}, {Kind: ActMenu}}) +
	Cost([]Action{{Kind: ActTalk}, {Kind: ActRecord}}) + Cost([]Action{{Kind: ActTalk}, {Kind: ActHangup}})

// Unanswered moves a routed call that nobody took (every destination its
// handoff rang did not answer, was busy, declined or failed) to the offer
// of a message or a callback for dept, and returns what the caller hears.
// actions are those the call has run so far. It reports false, and leaves
// the call alone, when messages are off or the action budget has no room
// for them: the handoff's last resort, a plain connect to the fallback
// desk, then takes the caller.
func (r *Router) Unanswered(c *Call, dept string, actions int) ([]Action, bool) {
	to := target(c.State, EventTakeMessage)
	if r.cfg.Messages == nil || c.State != StateTransferred || to == "" || actions+unansweredReserve > r.cfg.Dialog.MaxActions {
		return nil, false
	}
	d := r.OfferMessage(c, dept, c.Reason, c.Sure)
	texts := r.cfg.Messages.textsFor(c.Language, r.cfg.Language)
	d.acts[1].Text = strings.ReplaceAll(texts.Unanswered, "{department}", r.labelOf(dept, c.Language))
	c.State, c.Department, c.Closed = to, d.dept, d.closed
	c.Actions = actions + Cost(d.acts)
	c.UpdatedMS = r.clock().UnixMilli()
	return d.acts, true
}

// openNow reports whether dept is open now: a caller offered a message
// then is one nobody answered, and is called back as soon as they can.
func (r *Router) openNow(dept string) bool {
	now := r.clock()
	return !r.cfg.NextOpening(dept, now).After(now)
}

// message is the fetch after the caller's message: the message is left
// for the business (the turn puts it in the Outbox before it saves the call),
// and the caller hears what happens next.
func (r *Router) message(_ context.Context, c *Call, t *turn) decision {
	t.taken = len(t.inbox) // words heard during the message are the message's, not a request
	texts := r.cfg.Messages.textsFor(c.Language, r.cfg.Language)
	label := r.labelOf(c.Closed, c.Language)
	if t.Recording == "" {
		// Nothing was recorded (VoIPBin refused the recording): no promise.
		return decision{event: EventClosed, reason: c.Reason, conf: c.Sure, closed: c.Closed, acts: []Action{
			{Kind: ActTalk, Text: strings.ReplaceAll(texts.Failed, "{department}", label), Language: texts.lang},
			{Kind: ActHangup},
		}}
	}
	m := r.messageOf(c, t.Recording)
	m.Caller, m.Dialled = t.Caller, NormalizeNumber(t.Dialled)
	t.message = &m
	thanks, lang := r.thanks(c)
	return decision{event: EventClosed, reason: c.Reason, conf: c.Sure, closed: c.Closed, acts: []Action{
		{Kind: ActTalk, Text: thanks, Language: lang},
		{Kind: ActHangup},
	}}
}

// thanks is what a caller who left a message hears last, and its language.
func (r *Router) thanks(c *Call) (text, lang string) {
	texts := r.cfg.Messages.textsFor(c.Language, r.cfg.Language)
	thanks := texts.Thanks
	if r.openNow(c.Closed) {
		thanks = texts.ThanksSoon
	}
	return strings.ReplaceAll(thanks, "{department}", r.labelOf(c.Closed, c.Language)), texts.lang
}

// MessageGoodbye is what to say to a caller still leaving a message once
// silence ended its recording: VoIPBin's flow waits on in its
// digits_receive until the longest message, so the service says it over the
// wait and hangs up. ok is false when the call is no longer leaving one
// (it pressed the pound key, hung up, or is not ours).
func (r *Router) MessageGoodbye(ctx context.Context, callID string) (text, lang string, ok bool, err error) {
	if r.cfg.Messages == nil {
		return "", "", false, nil
	}
	c, _, err := r.calls.Load(ctx, callID)
	if err != nil {
		return "", "", false, fmt.Errorf("load call %s: %w", callID, err)
	}
	if c.State != StateMessage {
		return "", "", false, nil
	}
	text, lang = r.thanks(&c)
	return text, lang, true, nil
}

// messageOf is the message c left in recording.
func (r *Router) messageOf(c *Call, recording string) Message {
	said := make([]string, len(c.Turns))
	for i, s := range c.Turns {
		said[i] = Redact(s)
	}
	return Message{ID: c.ID, Department: c.Closed, Label: r.labelOf(c.Closed, c.Language), Language: c.Language,
		AtMS: c.StartedMS, Said: said, Recording: recording}
}

// RecordingEnded leaves the message of a call whose recording ended while
// it was recording a message: a caller who hangs up instead of pressing the
// pound key gets no fetch after it, and their message must reach the
// business all the same. Whoever comes first, this or the fetch, leaves it;
// the platform knows who called (the sender asks it when the fetch did not
// say). A call not recording a message is left alone.
func (r *Router) RecordingEnded(ctx context.Context, callID, recording string) error {
	if r.Outbox == nil || r.cfg.Messages == nil {
		return nil
	}
	c, _, err := r.calls.Load(ctx, callID)
	if err != nil {
		return fmt.Errorf("load call %s: %w", callID, err)
	}
	if c.State != StateMessage {
		return nil
	}
	m := r.messageOf(&c, recording)
	due := r.Now().Add(time.Duration(r.cfg.Messages.TranscribeAfterMS) * time.Millisecond)
	if _, err := r.Outbox.Leave(ctx, m, due); err != nil {
		return fmt.Errorf("leave message %s: %w", callID, err)
	}
	return nil
}

// leave puts a turn's message in the Outbox, due when its recording can be
// transcribed, and its callback in Callbacks.
func (r *Router) leave(ctx context.Context, t *turn) error {
	if err := r.book(ctx, t); err != nil {
		return err
	}
	if t.message == nil || r.Outbox == nil {
		return nil
	}
	due := r.Now().Add(time.Duration(r.cfg.Messages.TranscribeAfterMS) * time.Millisecond)
	if _, err := r.Outbox.Leave(ctx, *t.message, due); err != nil {
		return fmt.Errorf("leave message %s: %w", t.message.ID, err)
	}
	return nil
}

// DescribeMessages says, for `switchboard check`, what a caller who reaches
// nobody is offered and who hears of it, and what VoIPBin will refuse.
func (r *Routing) DescribeMessages() []string {
	m := r.Messages
	if m == nil {
		return []string{"messages: off: a caller who reaches nobody hears texts.closed_all and the call ends"}
	}
	out := []string{fmt.Sprintf("messages: a caller who reaches nobody leaves a message (up to %d s, ended by # or %d s of silence) or presses %s for a callback at the department's next opening; kept %d days",
		m.MaxSeconds, m.SilenceSeconds, m.CallbackKey, m.KeepDays)}
	for _, name := range r.DepartmentNames(true) {
		var who []string
		for _, c := range m.ContactsFor(name) {
			switch {
			case c.SMS != "":
				who = append(who, "SMS "+c.SMS)
			case c.Email != "":
				who = append(who, "email "+c.Email)
			default:
				who = append(who, "webhook "+c.Webhook)
			}
		}
		line := fmt.Sprintf("  %-10s told by %s", name, strings.Join(who, ", "))
		if len(who) == 0 {
			line = fmt.Sprintf("  %-10s WARNING: nobody is told of its messages (no contacts, no \"*\")", name)
		}
		if d, ok := r.Department(name); ok && d.Destination().Kind == ToQueue {
			line += "; WARNING: a queue cannot be called back (POST /v1.0/calls dials no queue): its callbacks fail"
		}
		out = append(out, line)
	}
	return append(out, "  VoIPBin refuses SMS, email and callbacks without a verified identity or balance, SMS from a number the account does not own, and callbacks to countries outside destination_whitelist: provision --check reads the account")
}
