package flow

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// memOutbox is the smallest Outbox: the store package's own cannot be imported here.
type memOutbox struct {
	mu   sync.Mutex
	msgs map[string]Message
}

func (o *memOutbox) Leave(_ context.Context, m Message, _ time.Time) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.msgs[m.ID]; ok {
		return false, nil
	}
	o.msgs[m.ID] = m
	return true, nil
}
func (o *memOutbox) Claim(context.Context, time.Time, time.Duration) (Message, bool, error) {
	return Message{}, false, nil
}
func (o *memOutbox) Release(context.Context, Message, time.Time, time.Duration) error { return nil }
func (o *memOutbox) Messages(context.Context, int) ([]Message, error)                 { return nil, nil }

// memCallbacks is the smallest Callbacks.
type memCallbacks struct{ cbs map[string]Callback }

func (m *memCallbacks) Book(_ context.Context, cb Callback, _ time.Time) (bool, error) {
	if _, ok := m.cbs[cb.ID]; ok {
		return false, nil
	}
	m.cbs[cb.ID] = cb
	return true, nil
}
func (m *memCallbacks) Claim(context.Context, time.Time, time.Duration) (Callback, bool, error) {
	return Callback{}, false, nil
}
func (m *memCallbacks) Release(context.Context, Callback, time.Time, time.Duration) error { return nil }
func (m *memCallbacks) Callbacks(context.Context, int) ([]Callback, error)                { return nil, nil }
func (m *memCallbacks) Cancel(context.Context, string) (bool, error)                      { return false, nil }
func (m *memCallbacks) Get(context.Context, string) (Callback, bool, error) {
	return Callback{}, false, nil
}

func messagesRouter(t *testing.T, clock *time.Time) (*Router, *memCalls, *memOutbox) {
	t.Helper()
	cfg := loadModes(t, "../routing-messages.json")
	st := &memCalls{calls: map[string]Call{}}
	r := NewRouter(cfg, st, NewLocal(cfg), nil, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	r.Clock = func() time.Time { return *clock }
	out := &memOutbox{msgs: map[string]Message{}}
	r.Outbox, r.Callbacks = out, &memCallbacks{cbs: map[string]Callback{}}
	return r, st, out
}

// TestMessageAfterHours: nobody open, and messages configured: the caller
// hears that nobody is there and leaves a message after a beep; the fetch
// after it leaves the message (once, whatever fetches again) and tells the
// caller what happens next.
func TestMessageAfterHours(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Date(2026, 12, 2, 23, 30, 0, 0, ny)
	r, st, out := messagesRouter(t, &now)
	ctx := context.Background()
	turn := Turn{CallID: "night", Channel: Voice}
	r.Next(ctx, turn) // the greeting
	turn.Words = "my card 4111 1111 1111 1234 shows a double charge this month"
	reply := r.Next(ctx, turn)
	if got := kindsOf(reply.Actions); got != "forget_keys talk offer" {
		t.Fatalf("nobody open: %s (%+v), want the offer of a message or a callback", got, reply.Actions)
	}
	if !strings.Contains(reply.Actions[1].Text, "leave a message for Billing & Accounts") {
		t.Errorf("offer %q, want it to name the department asked for", reply.Actions[1].Text)
	}
	reply = r.Next(ctx, Turn{CallID: "night", Channel: Voice, HasDigits: true}) // no key: a message
	if got := kindsOf(reply.Actions); got != "talk record" {
		t.Fatalf("no key at the offer: %s, want the message", got)
	}
	if a := reply.Actions[1]; a.Millis != 120000 || a.SilenceMS != 5000 {
		t.Errorf("record %+v, want 120 s at most, ended by 5 s of silence", a)
	}
	if c := st.calls["night"]; c.State != StateMessage || c.Closed != "billing" {
		t.Fatalf("call %s closed %q, want message, billing", c.State, c.Closed)
	}
	for range 2 { // VoIPBin may fetch again: one message
		reply = r.Next(ctx, Turn{CallID: "night", Channel: Voice, Recording: "rec-1", Caller: "+14155550123", Dialled: "+14155550000"})
	}
	if got := kindsOf(reply.Actions); got != "hangup" {
		t.Errorf("a second fetch: %s, want hangup", got)
	}
	want := Message{ID: "night", Caller: "+14155550123", Dialled: "+14155550000", Department: "billing", Label: "Billing & Accounts",
		Language: "en-US", AtMS: now.UnixMilli(), Said: []string{"my card XXXX XXXX XXXX 1234 shows a double charge this month"}, Recording: "rec-1"}
	if diff := cmp.Diff(map[string]Message{"night": want}, out.msgs); diff != "" {
		t.Errorf("messages left (-want +got):\n%s", diff)
	}
}

// TestMessageThanksAndFailed: every path ends with the caller told what
// happens next: thanks after a recording, the truth when none was made.
func TestMessageThanksAndFailed(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Date(2026, 12, 2, 23, 30, 0, 0, ny)
	for _, tt := range []struct{ name, rec, want string }{
		{"recorded", "rec-1", "Thank you. Billing & Accounts will get your message"},
		{"nothing recorded", "", "Sorry, we could not record your message."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, st, out := messagesRouter(t, &now)
			ctx := context.Background()
			r.Next(ctx, Turn{CallID: "c", Channel: Voice})
			r.Next(ctx, Turn{CallID: "c", Channel: Voice, Words: "I have a question about my invoice and a refund"})
			r.Next(ctx, Turn{CallID: "c", Channel: Voice, HasDigits: true, Digits: "1"})
			reply := r.Next(ctx, Turn{CallID: "c", Channel: Voice, Recording: tt.rec})
			if got := kindsOf(reply.Actions); got != "talk hangup" || !strings.HasPrefix(reply.Actions[0].Text, tt.want) {
				t.Errorf("after the message: %+v, want %q and a hangup", reply.Actions, tt.want)
			}
			if c := st.calls["c"]; c.State != StateEnded {
				t.Errorf("call %s, want ended", c.State)
			}
			if got, want := len(out.msgs), map[bool]int{true: 1}[tt.rec != ""]; got != want {
				t.Errorf("%d messages left, want %d", got, want)
			}
		})
	}
}

// TestMessageNotOnWebhook: the seed's webhook cannot record: closed_all as before.
func TestMessageNotOnWebhook(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Date(2026, 12, 2, 23, 30, 0, 0, ny)
	r, _, _ := messagesRouter(t, &now)
	reply := r.Next(context.Background(), Turn{CallID: "w", Channel: Webhook, Words: "my invoice shows a double charge this month"})
	if got := kindsOf(reply.Actions); got != "talk hangup" || !strings.HasPrefix(reply.Actions[0].Text, "We are closed now.") {
		t.Errorf("webhook after hours: %+v, want closed_all", reply.Actions)
	}
}

// TestRedactSpoken: card and account numbers are hidden however the caller
// said them, digits or words; short numbers and ordinary words stay.
func TestRedactSpoken(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"my card is 4111 1111 1111 1234", "my card is XXXX XXXX XXXX 1234"},
		{"my card is four one one one one one one one one one one one one two three four thanks", "my card is [number] thanks"},
		{"account number four one double one triple two, please", "account number [number], please"},
		{"it's oh seven seven nine zero zero one two three.", "it's [number]."},
		{"mi cuenta es cuatro uno uno uno cinco seis siete", "mi cuenta es [number]"},
		{"four one one one 1111 2222", "[number]"},
		{"press two for one or two things", "press two for one or two things"},
		{"I called one two three times", "I called one two three times"},
		{"one two three. Four five six", "one two three. Four five six"},
	} {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMessagesValidation(t *testing.T) {
	for _, tt := range []struct{ messages, want string }{
		{`{"contacts": {}}`, "nobody would hear"},
		{`{"contacts": {"nosuch": [{"sms": "+14155550100"}]}}`, "contacts.nosuch: no such department"},
		{`{"contacts": {"*": [{"sms": "555"}]}}`, "is not a phone number"},
		{`{"contacts": {"*": [{"email": "nobody"}]}}`, "is not an email address"},
		{`{"contacts": {"*": [{"webhook": "ftp://x"}]}}`, "is not an http(s) URL"},
		{`{"contacts": {"*": [{"sms": "+14155550100", "email": "a@b.example"}]}}`, "exactly one of"},
		{`{"max_seconds": 5000, "contacts": {"*": [{"email": "a@b.example"}]}}`, "max_seconds"},
		{`{"retry_ms": [10], "contacts": {"*": [{"email": "a@b.example"}]}}`, "retry_ms"},
	} {
		cfg := strings.Replace(withHours("", ""), `"routing": {`, `"routing": {"messages": `+tt.messages+`,`, 1)
		_, err := ParseConfig(strings.NewReader(cfg))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("messages %s: error %v, want %q", tt.messages, err, tt.want)
		}
	}
}

// TestCallbackBooked: at the offer, the callback key or the words "call me
// back" ask for a callback; the caller confirms the number they call from or
// types another (a wrong one is asked again once); the callback is booked for
// the department's next opening and the caller hears when and on which number.
func TestCallbackBooked(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Date(2026, 12, 2, 23, 30, 0, 0, ny) // a Wednesday night: billing opens Thursday 09:00
	opens := time.Date(2026, 12, 3, 9, 0, 0, 0, ny).UnixMilli()
	for _, tt := range []struct {
		name    string
		offer   Turn // the fetch after the offer
		entries []string
		number  string
		said    string
	}{
		{"key, confirmed", Turn{HasDigits: true, Digits: "2", Caller: "+14155550123"}, []string{"1"}, "+14155550123",
			"on 1 4 1 5 5 5 5 0 1 2 3 when we open"},
		{"words, no key: the number they call from", Turn{HasDigits: true, Words: "could you call me back tomorrow", Caller: "+14155550123"}, []string{""},
			"+14155550123", "on 1 4 1 5 5 5 5 0 1 2 3"},
		{"another number typed", Turn{HasDigits: true, Digits: "2", Caller: "+14155550123"}, []string{"2", "6505550199"}, "+16505550199",
			"on 1 6 5 0 5 5 5 0 1 9 9"},
		{"withheld number, a wrong one, then a right one", Turn{HasDigits: true, Digits: "2"}, []string{"12", "0044207946000"},
			"+44207946000", "on 4 4 2 0 7 9 4 6 0 0 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, st, _ := messagesRouter(t, &now)
			cbs := r.Callbacks.(*memCallbacks)
			ctx := context.Background()
			r.Next(ctx, Turn{CallID: "cb", Channel: Voice})
			r.Next(ctx, Turn{CallID: "cb", Channel: Voice, Words: "I need a refund for a double charge on my invoice"})
			tt.offer.CallID, tt.offer.Channel, tt.offer.Dialled = "cb", Voice, "+14155550000"
			reply := r.Next(ctx, tt.offer)
			if got := kindsOf(reply.Actions); got != "forget_keys talk menu" {
				t.Fatalf("after asking for a callback: %s %+v, want the number asked", got, reply.Actions)
			}
			for _, d := range tt.entries {
				reply = r.Next(ctx, Turn{CallID: "cb", Channel: Voice, HasDigits: true, Digits: d})
			}
			if got := kindsOf(reply.Actions); got != "talk hangup" || !strings.Contains(reply.Actions[0].Text, tt.said) {
				t.Fatalf("booked: %+v, want %q and a hangup", reply.Actions, tt.said)
			}
			cb := cbs.cbs["cb"]
			if cb.Number != tt.number || cb.Department != "billing" || cb.DueMS != opens || cb.State != CallbackWaiting ||
				cb.Dialled != "+14155550000" || len(cb.Said) != 1 {
				t.Errorf("callback %+v, want %s for billing, due at its opening", cb, tt.number)
			}
			if c := st.calls["cb"]; c.State != StateEnded {
				t.Errorf("call %s, want ended", c.State)
			}
		})
	}
}

// TestCallbackNoNumber: no number works twice: the caller is told so, nothing is booked.
func TestCallbackNoNumber(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Date(2026, 12, 2, 23, 30, 0, 0, ny)
	r, _, _ := messagesRouter(t, &now)
	ctx := context.Background()
	r.Next(ctx, Turn{CallID: "cb", Channel: Voice})
	r.Next(ctx, Turn{CallID: "cb", Channel: Voice, Words: "I need a refund for a double charge on my invoice"})
	r.Next(ctx, Turn{CallID: "cb", Channel: Voice, HasDigits: true, Digits: "2"})
	r.Next(ctx, Turn{CallID: "cb", Channel: Voice, HasDigits: true, Digits: ""})
	reply := r.Next(ctx, Turn{CallID: "cb", Channel: Voice, HasDigits: true, Digits: "99"})
	if got := kindsOf(reply.Actions); got != "talk hangup" || !strings.HasPrefix(reply.Actions[0].Text, "Sorry, that number did not work either.") {
		t.Errorf("%+v, want the caller told no number worked", reply.Actions)
	}
	if n := len(r.Callbacks.(*memCallbacks).cbs); n != 0 {
		t.Errorf("%d callbacks booked, want none", n)
	}
}

// TestMessageTextsKeepTheirVoice: a caller whose language has no message
// texts hears the default language's, in that language's voice, never
// English words in a Spanish voice.
func TestMessageTextsKeepTheirVoice(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Date(2026, 12, 2, 23, 30, 0, 0, ny)
	r, _, _ := messagesRouter(t, &now)
	ctx := context.Background()
	r.Next(ctx, Turn{CallID: "es", Channel: Voice, Language: "es-ES"})
	reply := r.Next(ctx, Turn{CallID: "es", Channel: Voice, Words: "tengo un cargo doble en mi factura de este mes"})
	for _, a := range reply.Actions {
		if a.Kind == ActTalk && strings.HasPrefix(a.Text, "We are closed now.") && a.Language != "en-US" {
			t.Errorf("English offer said in %s", a.Language)
		}
	}
	if got := kindsOf(reply.Actions); got != "forget_keys talk offer" {
		t.Fatalf("%s, want the offer", got)
	}
}

// TestUnansweredOffersAMessage: a routed call nobody took goes to the offer,
// told nobody could take it; not without messages, nor without room in the
// action budget for the whole offer (the plain connect then takes the caller).
func TestUnansweredOffersAMessage(t *testing.T) {
	clock := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	r, _, _ := messagesRouter(t, &clock)
	routed := func() *Call {
		return &Call{ID: "c", State: StateTransferred, Department: "billing", Language: "en-US"}
	}
	c := routed()
	acts, ok := r.Unanswered(c, "billing", 30)
	if !ok || c.State != StateOffer || c.Closed != "billing" || c.Department != "" || c.Actions != 30+Cost(acts) {
		t.Fatalf("got %v, call %+v", ok, c)
	}
	if !strings.Contains(acts[1].Text, "nobody could take your call just now") || acts[len(acts)-1].Kind != ActOffer {
		t.Errorf("acts %+v", acts)
	}
	if c := routed(); func() bool {
		_, ok := r.Unanswered(c, "billing", r.cfg.Dialog.MaxActions-unansweredReserve+1)
		return ok
	}() || c.State != StateTransferred {
		t.Errorf("offered with no room for the offer: call %+v", c)
	}
	if c := (&Call{State: StateListening}); func() bool { _, ok := r.Unanswered(c, "billing", 10); return ok }() {
		t.Error("a call still in conversation was moved to the offer")
	}
	r.cfg.Messages = nil
	if c := routed(); func() bool { _, ok := r.Unanswered(c, "billing", 10); return ok }() || c.State != StateTransferred {
		t.Errorf("offered without messages: call %+v", c)
	}
}

// TestCallbackTextsConfigured: what a department's person and the customer
// hear around a callback comes from routing.messages.texts in the callback's
// language (the rest defaulted), else the default language's, else built in;
// a Spanish customer with no Spanish texts hears built-in Spanish.
func TestCallbackTextsConfigured(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader(`{"routing": {"language": "en-US", "departments": {
	  "billing": {"number": "+14155550102", "keywords": ["invoice"]}, "fallback": {"number": "+14155550199"},
	  "emergency": {"number": "+14155550911"}},
	  "messages": {"contacts": {"*": [{"sms": "+14155550172"}]}, "texts": {"en-US": {"callback_calling": "Ringing the customer."},
	                         "fr-FR": {"callback_calling": "J'appelle le client.", "callee_failed": "Désolé, au revoir."}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	m := cfg.Routing.Messages
	for _, tt := range []struct{ lang, calling, later, in string }{
		{"en-US", "Ringing the customer.", "The callback will be tried again later. Goodbye.", "en-US"},
		{"fr-FR", "J'appelle le client.", "The callback will be tried again later. Goodbye.", "fr-FR"},
		{"de-DE", "Ringing the customer.", "The callback will be tried again later. Goodbye.", "en-US"},
	} {
		dt, in := m.DepartmentTexts(tt.lang, "en-US")
		if dt.CallbackCalling != tt.calling || dt.CallbackLater != tt.later || in != tt.in {
			t.Errorf("%s: %q, %q in %s; want %q, %q in %s", tt.lang, dt.CallbackCalling, dt.CallbackLater, in, tt.calling, tt.later, tt.in)
		}
	}
	for _, tt := range []struct{ lang, text, in string }{
		{"fr-FR", "Désolé, au revoir.", "fr-FR"},
		{"es-MX", "Lo sentimos, no podemos conectar esta llamada ahora. Adiós.", "es-MX"},
		{"en-GB", "Sorry, this call cannot be connected now. Goodbye.", "en-US"},
	} {
		if text, in := m.CalleeFailedFor(tt.lang, "en-US"); text != tt.text || in != tt.in {
			t.Errorf("callee failed in %s: %q in %s; want %q in %s", tt.lang, text, in, tt.text, tt.in)
		}
	}
}
