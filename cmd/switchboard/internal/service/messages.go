package service

// Messages callers left when nobody was there: the fetch that brings the
// recording, and the sender that tells the business. The sender runs in every
// replica; the outbox's claim gives each message to one of them at a time,
// and each notice delivered is kept with the message, so a retry after a
// failure sends only what is still missing.

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
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store"
)

// messageParams reads a fetch's message parameters into t: rec, the
// recording a message was left on, and from, the caller's number. As
// everything past the fetch's token, one that cannot be used is left out
// (VoIPBin would hang the caller up on a refusal) and named in the problems
// returned, for the log.
func messageParams(q voipbin.FetchURL, t *flow.Turn) []string {
	var p []string
	if rec := q.Rec; rec != "" && !strings.Contains(rec, "${") {
		if bad := idProblem("rec", rec); bad != "" {
			p = append(p, bad)
		} else {
			t.Recording = rec
		}
	}
	if from := flow.NormalizeNumber(q.From); from != "" && !strings.Contains(from, "${") {
		if bad := textProblem("from", from, maxDialled); bad != "" {
			p = append(p, bad)
		} else {
			t.Caller = from
		}
	}
	return p
}

// recordingFinished leaves the message of a caller who hung up during it
// (flow.Router.RecordingEnded). A recording of anything but a call is none of ours.
func recordingFinished(ctx context.Context, svc *Service, d voipbin.EventData, known func(string) error) (string, error) {
	if d.ReferenceType != "call" || idProblem("data.id", d.ID) != "" || idProblem("data.reference_id", d.ReferenceID) != "" {
		return "", nil
	}
	if err := known(d.ReferenceID); err != nil {
		return "", err
	}
	if err := svc.routing().router.RecordingEnded(ctx, d.ReferenceID, d.ID); err != nil {
		return d.ReferenceID, err
	}
	svc.handoff.afterRecording(ctx, d.ReferenceID, d.ID)
	return d.ReferenceID, nil
}

// The goodbye after a message that silence ended runs on the handoffs'
// timers and REST client (handoff.go), which exist with VOIPBIN_ACCESSKEY.

// messageGrace is how long, in seconds, after a message's recording ended
// the caller's own fetch may come (they pressed the pound key, which ends
// the recording too) before the service says goodbye over the wait.
const messageGrace = 2

// afterRecording looks, messageGrace seconds after a call's recording
// ended, whether the caller is still in the wait VoIPBin's flow keeps them
// in until the longest message: silence ended it, and nothing else will
// until then. Without the REST API (h nil) they wait it out.
func (h *handoffs) afterRecording(ctx context.Context, callID, recording string) {
	if h == nil {
		return
	}
	t := flow.Timer{Call: callID, Leg: recording, Kind: flow.TimerMessageEnd, AtMS: time.Now().Add(messageGrace * h.second).UnixMilli()}
	if err := retried(ctx, func() error { return h.timers.Set(ctx, t) }); err != nil {
		h.log.WarnContext(ctx, "message: goodbye not scheduled; the caller waits out the longest message", "err", err)
	}
}

// messageEnd says goodbye, with REST talk over the flow's wait, to a
// caller still leaving a message, and hangs up once it is said.
func (h *handoffs) messageEnd(ctx context.Context, t flow.Timer) error {
	text, lang, ok, err := h.svc.routing().router.MessageGoodbye(ctx, t.Call)
	if err != nil || !ok {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, handoffREST)
	defer cancel()
	if err := h.api.Talk(rctx, t.Call, voipbin.Speakable(text), lang); err != nil {
		// Never hung up unheard: they wait out the longest message instead.
		h.log.WarnContext(ctx, "message: goodbye not said; the caller waits out the longest message", "err", err)
		return nil
	}
	bye := t
	bye.Kind = flow.TimerHangUp
	bye.AtMS = time.Now().Add(time.Duration(voipbin.SpeakingMS(text)+1000) * h.second / 1000).UnixMilli()
	return h.timers.Set(ctx, bye)
}

// hangUpSilent hangs up a caller who heard the goodbye after their message
// and is still in the flow's wait.
func (h *handoffs) hangUpSilent(ctx context.Context, t flow.Timer) error {
	c, _, err := h.svc.store.Load(ctx, t.Call)
	if err != nil {
		return err
	}
	if c.State != flow.StateMessage {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, handoffREST)
	defer cancel()
	if err := h.api.Hangup(rctx, t.Call); err != nil {
		var api *voipbin.APIError
		if errors.As(err, &api) && !api.Retryable() {
			return nil // over already
		}
		return err
	}
	return nil
}

// beside is what is kept beside the calls: the messages callers leave, the
// callbacks they ask for, the callers remembered and the timers of
// handoffs and messages; in Redis when the calls are, shared by every
// replica, else in this process.
type beside struct {
	outbox    flow.Outbox
	callbacks flow.Callbacks
	callers   flow.Callers
	timers    flow.Timers
}

func besideCalls(st backend) beside {
	if r, ok := st.(*store.Redis); ok {
		return beside{r.Outbox(""), r.Callbacks(""), r.Callers(), r.Timers("")}
	}
	return beside{store.NewMemoryOutbox(), store.NewMemoryCallbacks(), store.NewMemoryCallers(), store.NewMemoryTimers()}
}

// numberHasher hashes a phone number where it is a key: HMAC-SHA256 keyed by
// SWITCHBOARD_HASH_KEY (else the messages secret, else the fetch token), so
// that a dump of the store does not give the numbers back by trying them all.
func numberHasher(s Config) func(string) string {
	key := []byte(cmp.Or(s.HashKey, s.MessagesSecret, s.FetchToken, "switchboard"))
	return func(number string) string {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(flow.NormalizeNumber(number)))
		return hex.EncodeToString(mac.Sum(nil))[:32]
	}
}

// SignatureHeader carries the HMAC-SHA256 of a message webhook's body, keyed
// by SWITCHBOARD_MESSAGES_SECRET, as "sha256=<hex>".
const SignatureHeader = "X-Switchboard-Signature"

// sender tells the business of the messages in the outbox.
type sender struct {
	outbox flow.Outbox
	api    *voipbin.Client // nil: no VoIPBin access key: no transcription, SMS or email
	hooks  *http.Client
	secret string
	config func() *flow.Config
	log    *slog.Logger
	now    func() time.Time
	// every is how often the outbox is looked at; lease how long a claim holds.
	every, lease time.Duration
	// count counts a notice's attempt by kind and result.
	count func(kind, result string)
}

func newSender(svc *Service, api *voipbin.Client, outbox flow.Outbox) *sender {
	return &sender{outbox: outbox, api: api, hooks: &http.Client{Timeout: 10 * time.Second},
		secret: svc.conf.MessagesSecret, config: func() *flow.Config { return svc.routing().cfg },
		log: svc.log, now: time.Now, every: time.Second, lease: 2 * time.Minute,
		count: func(kind, result string) { svc.metrics.notices.WithLabelValues(kind, result).Inc() }}
}

// run sends what is due until ctx ends.
func (s *sender) run(ctx context.Context) {
	poll(ctx, s.every, func(ctx context.Context) { s.drain(ctx) })
}

// drain delivers every message due now and returns how many it tried.
func (s *sender) drain(ctx context.Context) int {
	return drainDue(ctx, func(ctx context.Context) (flow.Message, bool, error) { return s.outbox.Claim(ctx, s.now(), s.lease) },
		func(m flow.Message) { s.attempt(ctx, m) },
		func(err error) { s.log.WarnContext(ctx, "messages: outbox unreachable; trying again", "err", err) })
}

// attempt delivers what is missing of m's notices and releases it: done, or
// due again after the configured pause.
func (s *sender) attempt(ctx context.Context, m flow.Message) {
	cfg := s.config().Routing.Messages
	if cfg == nil { // messages were turned off by a reload: keep the message, retry hourly
		cfg = &flow.Messages{KeepDays: 30, RetryMS: []int{3600000}}
	}
	m.Attempts++
	err := s.deliver(ctx, &m, cfg)
	next := s.now()
	if err != nil {
		m.Error = err.Error()
		next = cfg.Retry(m.Attempts, s.now())
		s.log.WarnContext(ctx, "message not delivered yet; trying again", "message", m.ID, "department", m.Department,
			"attempt", m.Attempts, "next", next.UTC().Format(time.RFC3339), "err", err)
	} else {
		m.Error, m.DoneMS = "", s.now().UnixMilli()
		s.log.InfoContext(ctx, "message delivered", "message", m.ID, "department", m.Department, "notices", len(m.Sent), "attempts", m.Attempts)
	}
	if err := s.outbox.Release(ctx, m, next, cfg.Keep()); err != nil {
		s.log.WarnContext(ctx, "message progress not saved; its lease will run out and it is tried again", "message", m.ID, "err", err)
	}
}

// deliver transcribes m once, then sends each notice not yet sent, saving
// progress after each so that a replica that dies mid-way repeats nothing
// already delivered. It returns the failures.
func (s *sender) deliver(ctx context.Context, m *flow.Message, cfg *flow.Messages) error {
	if (m.Caller == "" || m.Dialled == "") && s.api != nil {
		// Left when the recording ended (the caller hung up): VoIPBin knows the numbers.
		call, err := s.api.Parties(ctx, m.ID)
		if err != nil {
			return fmt.Errorf("read call %s: %w", m.ID, err)
		}
		m.Caller, m.Dialled = cmp.Or(m.Caller, call.Source.Target), cmp.Or(m.Dialled, call.Destination.Target)
	}
	if !m.Transcribed && s.api != nil {
		words, err := s.transcribe(ctx, m)
		s.count("transcribe", result(err))
		if err != nil {
			return fmt.Errorf("transcribe recording %s: %w", m.Recording, err)
		}
		m.Words, m.Transcribed = flow.Redact(words), true
		s.hold(ctx, *m)
	}
	var errs []error
	for _, c := range cfg.ContactsFor(m.Department) {
		key, send := s.notice(c, m, cfg)
		if slices.Contains(m.Sent, key) {
			continue
		}
		err := send(ctx)
		s.count(strings.Fields(key)[0], result(err))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
			continue
		}
		m.Sent = append(m.Sent, key)
		s.hold(ctx, *m)
	}
	return errors.Join(errs...)
}

func result(err error) string {
	if err != nil {
		return "failed"
	}
	return "ok"
}

// hold saves an attempt's progress and keeps holding the message.
func (s *sender) hold(ctx context.Context, m flow.Message) {
	if err := s.outbox.Release(ctx, m, s.now().Add(s.lease), 24*time.Hour); err != nil {
		s.log.WarnContext(ctx, "message progress not saved", "message", m.ID, "err", err)
	}
}

// transcribe returns what the caller said in the recording: VoIPBin
// transcribes it within the request, and "in" is the caller's side.
func (s *sender) transcribe(ctx context.Context, m *flow.Message) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	id, err := s.api.TranscribeRecording(ctx, m.Recording, m.Language)
	if err != nil {
		return "", err
	}
	lines, err := s.api.Transcripts(ctx, id)
	if err != nil {
		return "", err
	}
	var words []string
	for _, l := range lines {
		if l.Direction == "in" || l.Direction == "" {
			words = append(words, strings.TrimSpace(l.Message))
		}
	}
	return strings.Join(words, " "), nil
}

// notice is one contact's notice: its key in Message.Sent, and how to send it.
func (s *sender) notice(c flow.Contact, m *flow.Message, cfg *flow.Messages) (string, func(context.Context) error) {
	ctxd := func(ctx context.Context) (context.Context, context.CancelFunc) {
		return context.WithTimeout(ctx, 15*time.Second)
	}
	switch {
	case c.SMS != "":
		return "sms " + c.SMS, func(ctx context.Context) error {
			if s.api == nil {
				return errNoAPI
			}
			ctx, cancel := ctxd(ctx)
			defer cancel()
			from := cfg.SMSFrom
			if from == "" {
				from = m.Dialled
			}
			return s.api.SendSMS(ctx, from, []string{c.SMS}, s.smsText(m))
		}
	case c.Email != "":
		return "email " + c.Email, func(ctx context.Context) error {
			if s.api == nil {
				return errNoAPI
			}
			ctx, cancel := ctxd(ctx)
			defer cancel()
			subject, content := s.emailText(m)
			return s.api.SendEmail(ctx, []string{c.Email}, subject, content,
				[]voipbin.EmailAttachment{{ReferenceType: "recording", ReferenceID: m.Recording}})
		}
	default:
		return "webhook " + c.Webhook, func(ctx context.Context) error {
			ctx, cancel := ctxd(ctx)
			defer cancel()
			return s.webhook(ctx, c.Webhook, m)
		}
	}
}

var errNoAPI = errors.New("VOIPBIN_ACCESSKEY is not set: Switchboard cannot send SMS or email")

// when is the time of the call in the business's zone.
func (s *sender) when(m *flow.Message) string {
	loc := time.UTC
	if h := s.config().Routing.Hours; h != nil && h.Timezone != "" {
		if l, err := time.LoadLocation(h.Timezone); err == nil {
			loc = l
		}
	}
	return time.UnixMilli(m.AtMS).In(loc).Format("Mon 2 Jan 15:04 MST")
}

func words(m *flow.Message) string {
	switch {
	case m.Words != "":
		return m.Words
	case m.Transcribed:
		return "(no words could be made out: listen to the recording)"
	}
	return "(not transcribed)"
}

// smsText is the SMS: short, everything the business needs to call back.
func (s *sender) smsText(m *flow.Message) string {
	t := fmt.Sprintf("Message for %s from %s, %s: %q", m.Label, caller(m), s.when(m), words(m))
	if len(m.Said) > 0 {
		t += fmt.Sprintf(" Before, they told us: %q", strings.Join(m.Said, " / "))
	}
	if r := []rune(t); len(r) > 600 {
		t = string(r[:599]) + "…"
	}
	return t
}

func (s *sender) emailText(m *flow.Message) (subject, content string) {
	subject = fmt.Sprintf("Message for %s from %s", m.Label, caller(m))
	var b strings.Builder
	fmt.Fprintf(&b, "Caller: %s\nCalled: %s\nWhen: %s\nFor: %s\n\nTheir message:\n%s\n", caller(m), m.Dialled, s.when(m), m.Label, words(m))
	if len(m.Said) > 0 {
		fmt.Fprintf(&b, "\nWhat they told us before:\n%s\n", strings.Join(m.Said, "\n"))
	}
	b.WriteString("\nThe recording is attached.\n")
	return subject, b.String()
}

func caller(m *flow.Message) string {
	if m.Caller == "" {
		return "an unknown number"
	}
	return m.Caller
}

// messageHook is the body of a message's webhook.
type messageHook struct {
	ID         string   `json:"id"`
	Caller     string   `json:"caller"`
	Dialled    string   `json:"dialled"`
	Department string   `json:"department"`
	Label      string   `json:"label"`
	Language   string   `json:"language"`
	At         string   `json:"at"`
	Said       []string `json:"said"`
	Words      string   `json:"words"`
	Recording  string   `json:"recording_id"`
}

// webhook posts m to the business's URL, signed; a 2xx is delivered.
func (s *sender) webhook(ctx context.Context, u string, m *flow.Message) error {
	if s.secret == "" {
		return errors.New("SWITCHBOARD_MESSAGES_SECRET is not set: webhooks are only sent signed")
	}
	body, err := json.Marshal(messageHook{ID: m.ID, Caller: m.Caller, Dialled: m.Dialled, Department: m.Department,
		Label: m.Label, Language: m.Language, At: time.UnixMilli(m.AtMS).UTC().Format(time.RFC3339), Said: m.Said,
		Words: m.Words, Recording: m.Recording})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, SignMessage(s.secret, body))
	req.Header.Set("Idempotency-Key", m.ID) // a receiver that saw it already can tell
	resp, err := s.hooks.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s", u, resp.Status)
	}
	return nil
}

// SignMessage is a message webhook's signature of body.
func SignMessage(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
