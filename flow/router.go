package flow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// Channel is how the caller reaches us; it decides which actions a turn may use.
type Channel int

const (
	// Voice is a VoIPBin call driven by fetch: greeting, listening pauses, keypad.
	Voice Channel = iota
	// Webhook is the seed's speech webhook: words in, talk and transfer out.
	Webhook
)

// Turn is one request for the next actions of a call.
type Turn struct {
	CallID  string
	Channel Channel
	// Words is the caller's utterance carried by the request itself (Webhook).
	Words string
	// Digits is the keypad entry collected by the menu; HasDigits tells an empty
	// entry from a request that carries none.
	Digits    string
	HasDigits bool
	// Language picks the caller's language on a call's first turn; empty is the default.
	Language string
	// Arrived is when the request reached us; the time budget runs from it.
	// Zero means now.
	Arrived time.Time
}

// MaxTurnChars bounds one utterance, in characters: a caller's line is a few
// dozen words, and a longer one is clipped where it is stored and where it is read.
const MaxTurnChars = 500

// Limits on what one call keeps, so a talkative caller cannot grow state or prompts without bound.
const (
	maxTurns    = 12
	maxAttempts = 3 // load-decide-save tries when another request saved the call first
)

// Router answers a call's turns. For each it loads the call from the store,
// decides, steps the state machine and saves, so it holds nothing between
// requests and any number of replicas can share one store.
type Router struct {
	cfg   *Routing
	store Store
	local Classifier
	model Classifier
	log   *slog.Logger
	obs   Observer
	now   func() time.Time
	// LogTranscripts puts the caller's words in the line logged when a call
	// is transferred (`switchboard harvest` reads them); off, only their count.
	LogTranscripts bool
	// modelMS is the model's recent latency (a moving average). It is a
	// property of the model, not of any call, so it may live in the process.
	modelMS atomic.Int64
}

// Availability is implemented by classifiers that know when they cannot
// answer, such as a model behind an open circuit breaker.
type Availability interface {
	Available() bool
}

// Observer is told what each answered turn did, for metrics; the service
// owns it, so the domain knows nothing of how it is exported. Observe is
// called on the request's goroutine and must be quick and safe for
// concurrent use.
type Observer interface {
	Observe(ctx context.Context, r Report)
}

// Report is one turn: the call before and after it. Moves are read from the
// difference (a call whose Clarifications grew was asked again, one that
// became transferred was routed).
type Report struct {
	Before, After Call
	Took          time.Duration
	// Failed is set when the turn failed ("error", "panic") and the caller was
	// sent to the fallback desk; After then describes that transfer.
	Failed string
}

// SetObserver makes o see every turn from now on; call it before serving.
func (r *Router) SetObserver(o Observer) { r.obs = o }

// NewRouter builds a Router. local is the built-in classifier, always asked
// first; model may be nil when no model is configured.
func NewRouter(cfg *Config, store Store, local, model Classifier, log *slog.Logger) *Router {
	return &Router{cfg: &cfg.Routing, store: store, local: local, model: model, log: log, now: time.Now}
}

// Next answers a turn. It never fails: whatever goes wrong behind it (store,
// classifier, a bug), the caller still gets actions that reach a human.
func (r *Router) Next(ctx context.Context, t Turn) (acts []Action) {
	start := r.now()
	ctx, cancel := context.WithDeadline(ctx, r.Deadline(t))
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			r.log.ErrorContext(ctx, "turn panicked; sending caller to reception", "call", t.CallID, "panic", p)
			acts = r.reception(t.Language)
			r.failed(ctx, t, start, "panic")
		}
	}()
	acts, before, c, err := r.turn(ctx, t)
	if err != nil {
		r.log.ErrorContext(ctx, "turn failed; sending caller to reception", "call", t.CallID, "err", err)
		r.failed(ctx, t, start, "error")
		return r.reception(t.Language)
	}
	took := r.now().Sub(start)
	r.log.LogAttrs(ctx, slog.LevelInfo, "turn", slog.String("call", c.ID), slog.String("state", c.State),
		slog.String("dept", c.Department), slog.String("why", c.Reason), slog.Int("turns", len(c.Turns)),
		slog.Int64("ms", took.Milliseconds()))
	if c.Over() && !before.Over() {
		r.summarise(ctx, c)
	}
	if r.obs != nil {
		r.obs.Observe(ctx, Report{Before: before, After: c, Took: took})
	}
	return acts
}

// summarise writes a call's last line: how it went, in one place. With
// LogTranscripts its turns are the caller's words (`switchboard harvest`
// reads them); without, only their count.
func (r *Router) summarise(ctx context.Context, c Call) {
	var turns any = len(c.Turns)
	if r.LogTranscripts {
		turns = c.Turns
	}
	r.log.InfoContext(ctx, "call summary", "call", c.ID, "state", c.State, "route", c.Department, "why", c.Reason,
		"turns", turns, "confidence", c.Confidence, "model_ms", c.ModelMS, "actions", c.Actions)
}

// failed reports a turn that sent the caller to reception because something broke.
func (r *Router) failed(ctx context.Context, t Turn, start time.Time, why string) {
	c := Call{ID: t.CallID, State: StateTransferred, Department: r.cfg.Fallback.Destination, Reason: why}
	r.summarise(ctx, c)
	if r.obs != nil {
		r.obs.Observe(ctx, Report{Before: Call{ID: t.CallID}, After: c, Took: r.now().Sub(start), Failed: why})
	}
}

// Deadline is when the answer to t is due: the time budget, counted from when
// the request arrived (VoIPBin's clock started then, not when we began).
func (r *Router) Deadline(t Turn) time.Time {
	arrived := t.Arrived
	if arrived.IsZero() {
		arrived = r.now()
	}
	return arrived.Add(time.Duration(r.cfg.LLM.BudgetMS) * time.Millisecond)
}

// reception is the answer of last resort: tell the caller, connect the fallback desk.
func (r *Router) reception(lang string) []Action {
	return r.connect(r.cfg.Fallback.Destination, lang)
}

// turn answers t and returns the call as it was loaded and as it was saved.
func (r *Router) turn(ctx context.Context, t Turn) ([]Action, Call, Call, error) {
	if t.CallID == "" { // the seed's single-turn webhook: nothing to remember
		c := Call{State: StateListening}
		acts, _, err := r.step(ctx, &c, nil, t)
		return acts, Call{}, c, err
	}
	for attempt := 1; ; attempt++ {
		c, inbox, err := r.store.Load(ctx, t.CallID)
		if err != nil {
			return nil, c, c, fmt.Errorf("load call %s: %w", t.CallID, err)
		}
		before := c
		acts, taken, err := r.step(ctx, &c, inbox, t)
		if err != nil {
			return nil, before, c, err
		}
		err = r.store.Save(ctx, c, taken)
		if errors.Is(err, ErrConflict) && attempt < maxAttempts {
			continue
		}
		if err != nil {
			return nil, before, c, fmt.Errorf("save call %s: %w", t.CallID, err)
		}
		return acts, before, c, nil
	}
}

// step decides the call's next move from what arrived, fires one machine event
// and returns the actions and how many inbox inputs it consumed.
func (r *Router) step(ctx context.Context, c *Call, inbox []Input, t Turn) ([]Action, int, error) {
	now := r.now().UnixMilli()
	if c.StartedMS == 0 {
		c.StartedMS = now
	}
	c.UpdatedMS = now
	if c.Language == "" {
		c.Language = r.cfg.Language
		if _, ok := r.cfg.Texts[t.Language]; ok {
			c.Language = t.Language
		}
	}
	if c.State == "" {
		c.State = StateGreeting
		if t.Channel == Webhook {
			c.State = StateListening
		}
	}
	var words []string
	hungUp := false
	for _, in := range inbox {
		if in.Hangup {
			hungUp = true
		} else if w := Clip(in.Text); w != "" {
			words = append(words, w)
		}
	}
	if w := Clip(t.Words); w != "" {
		words = append(words, w)
	}

	var acts []Action
	var err error
	switch {
	case hungUp && c.State != StateEnded:
		err = fire(ctx, c, EventHangup)
		acts = []Action{{Kind: ActHangup}}
	case c.State == StateTransferred || c.State == StateEnded:
		acts = r.after(c, t)
	case c.State == StateGreeting:
		// Words that arrived before the greeting wait in the inbox for the next turn.
		if err = fire(ctx, c, EventAnswer); err != nil {
			return nil, 0, err
		}
		texts := r.cfg.TextsFor(c.Language)
		acts = []Action{
			{Kind: ActTranscribe, Language: c.Language},
			{Kind: ActTalk, Text: texts.Greeting, Language: c.Language},
			{Kind: ActListen, Millis: r.cfg.Dialog.ListenMS},
		}
		inbox = nil
	case c.State == StateMenu:
		acts, err = r.menuChoice(ctx, c, words, t)
	case len(words) == 0 && c.Pending:
		acts, err = r.heard(ctx, c, nil, t)
	case len(words) == 0:
		acts, err = r.silence(ctx, c, t)
	default:
		acts, err = r.heard(ctx, c, words, t)
	}
	if err != nil {
		return nil, 0, err
	}
	if t.Channel == Voice {
		acts, err = r.account(ctx, c, acts)
	}
	return acts, len(inbox), err
}

// heard handles new caller words (or turns left pending): the priority lane,
// then the classifiers, then a clarifying question when nobody is sure.
func (r *Router) heard(ctx context.Context, c *Call, words []string, t Turn) ([]Action, error) {
	if len(words) > 0 {
		c.Turns = append(c.Turns, words...)
		if len(c.Turns) > maxTurns {
			c.Turns = c.Turns[len(c.Turns)-maxTurns:]
		}
		c.SilenceMS, c.StillThereAsked = 0, false
		if r.cfg.IsPriority(strings.Join(words, " ")) {
			c.Pending = false
			return r.route(ctx, c, Emergency, "priority")
		}
	}
	// A slow model would leave the caller in silence (the seed's third pitfall):
	// say "One moment" now and classify on the fetch that follows at once.
	if t.Channel == Voice && !c.Pending && r.willAskModel(c.Turns) &&
		r.modelMS.Load() > int64(r.cfg.Dialog.AcknowledgeAfterMS) {
		c.Pending = true
		return r.listenAfter(ctx, c, EventWait, r.cfg.TextsFor(c.Language).Acknowledge, 0)
	}
	c.Pending = false
	dept, reason := r.classify(ctx, c)
	if dept != "" {
		return r.route(ctx, c, dept, reason)
	}
	return r.unsure(ctx, c, t)
}

// classify asks the local classifier, then the model for requests long enough
// to be worth it. It returns the chosen department and who chose it, or "" when
// nobody is confident. Too few words never reach the model (the seed's fourth
// pitfall): they route only when the local classifier hears a department named.
// The answer it went by, sure or not, is noted on the call.
func (r *Router) classify(ctx context.Context, c *Call) (string, string) {
	turns := c.Turns
	local, err := r.local.Classify(ctx, turns)
	if err != nil {
		r.log.WarnContext(ctx, "local classifier failed", "err", err)
		local = Verdict{}
	}
	c.Guess, c.Confidence = local.Department, local.Confidence
	if !r.willAskModel(turns) {
		return r.confident(local), "local"
	}
	start := r.now()
	model, err := r.model.Classify(ctx, turns)
	took := r.now().Sub(start)
	r.observeModel(took)
	c.ModelMS += took.Milliseconds()
	if err != nil {
		r.log.WarnContext(ctx, "model unavailable; using the local classifier", "err", err)
		return r.confident(local), "local"
	}
	c.Guess, c.Confidence = model.Department, model.Confidence
	return r.confident(model), "model"
}

// willAskModel reports whether classify would ask the model about turns.
func (r *Router) willAskModel(turns []string) bool {
	if r.model == nil || countWords(turns) < r.cfg.Dialog.MinWords {
		return false
	}
	a, ok := r.model.(Availability)
	return !ok || a.Available()
}

// observeModel folds one model call's latency into the moving average.
func (r *Router) observeModel(d time.Duration) {
	ms := max(d.Milliseconds(), 1)
	if old := r.modelMS.Load(); old > 0 {
		ms = (7*old + 3*ms) / 10
	}
	r.modelMS.Store(ms)
}

// confident returns v's department when it clears the confidence threshold and
// the margin to the runner-up, else "".
func (r *Router) confident(v Verdict) string {
	if v.Department == "" || v.Confidence < r.cfg.LLM.MinConfidence || v.Confidence-v.RunnerUp < r.cfg.LLM.MinMargin {
		return ""
	}
	if _, ok := r.cfg.Department(v.Department); !ok || v.Department == Fallback {
		return ""
	}
	return v.Department
}

// unsure asks again while clarifications remain, then offers the keypad on a
// phone call, or gives up to the fallback desk where there is no keypad.
func (r *Router) unsure(ctx context.Context, c *Call, t Turn) ([]Action, error) {
	texts := r.cfg.TextsFor(c.Language)
	max := r.cfg.Dialog.MaxClarifications
	if t.CallID == "" {
		max = 0
	}
	if c.Clarifications < max {
		text := texts.Clarify[min(c.Clarifications, len(texts.Clarify)-1)]
		c.Clarifications++
		return r.listenAfter(ctx, c, EventClarify, text, r.cfg.Dialog.ListenMS)
	}
	if t.Channel == Webhook {
		return r.route(ctx, c, r.cfg.Fallback.Destination, "unsure")
	}
	if err := fire(ctx, c, EventMenu); err != nil {
		return nil, err
	}
	return []Action{
		{Kind: ActForgetKeys},
		{Kind: ActTalk, Text: r.menuText(texts), Language: c.Language},
		{Kind: ActMenu, Millis: r.cfg.Dialog.MenuMS},
	}, nil
}

// silence keeps listening, asks once whether the caller is still there, and
// then gives up to the fallback desk. Silence is the listening time we handed
// VoIPBin, not our clock, so a simulated call behaves like a real one.
func (r *Router) silence(ctx context.Context, c *Call, t Turn) ([]Action, error) {
	if t.Channel == Webhook || c.SilenceMS >= r.cfg.Dialog.SilenceMS && c.StillThereAsked {
		return r.route(ctx, c, r.cfg.Fallback.Destination, "silence")
	}
	if c.SilenceMS >= r.cfg.Dialog.SilenceMS {
		c.StillThereAsked, c.SilenceMS = true, 0
		return r.listenAfter(ctx, c, EventWait, r.cfg.TextsFor(c.Language).StillThere, r.cfg.Dialog.ListenMS)
	}
	return r.listenAfter(ctx, c, EventWait, "", r.cfg.Dialog.ListenMS)
}

// menuChoice routes by the key pressed; words that name a department also do.
// Anything else goes to the fallback desk: the caller has been asked enough.
func (r *Router) menuChoice(ctx context.Context, c *Call, words []string, t Turn) ([]Action, error) {
	if dept, ok := r.cfg.ByDigit(strings.TrimSpace(t.Digits)); t.HasDigits && ok {
		return r.route(ctx, c, dept, "keypad")
	}
	if len(words) > 0 {
		c.Turns = append(c.Turns, words...)
		if r.cfg.IsPriority(strings.Join(words, " ")) {
			return r.route(ctx, c, Emergency, "priority")
		}
		if v, err := r.local.Classify(ctx, words); err == nil && r.confident(v) != "" {
			return r.route(ctx, c, v.Department, "local")
		}
	}
	return r.route(ctx, c, r.cfg.Fallback.Destination, "menu")
}

// after answers a turn on a call that is already over.
func (r *Router) after(c *Call, t Turn) []Action {
	if t.Channel == Webhook && c.Department != "" {
		return r.connect(c.Department, c.Language)
	}
	return []Action{{Kind: ActHangup}}
}

func (r *Router) route(ctx context.Context, c *Call, dept, reason string) ([]Action, error) {
	if err := fire(ctx, c, EventRoute); err != nil {
		return nil, err
	}
	c.Department, c.Reason = dept, reason
	return r.connect(dept, c.Language), nil
}

func (r *Router) connect(dept, lang string) []Action {
	if _, ok := r.cfg.Texts[lang]; !ok {
		lang = r.cfg.Language
	}
	texts := r.cfg.Texts[lang]
	d, ok := r.cfg.Department(dept)
	if !ok {
		dept = r.cfg.Fallback.Destination
		d, _ = r.cfg.Department(dept)
	}
	text := strings.ReplaceAll(texts.Routing, "{department}", d.LabelIn(lang))
	switch dept {
	case Emergency:
		text = texts.Urgent
	case r.cfg.Fallback.Destination:
		text = texts.Reception
	}
	return []Action{
		{Kind: ActTalk, Text: text, Language: lang},
		{Kind: ActConnect, Department: dept, To: d.Destination(), CallerID: r.cfg.CallerIDFor(d)},
	}
}

// listenAfter fires event, says text if any and listens for ms (0: fetch at once).
func (r *Router) listenAfter(ctx context.Context, c *Call, event, text string, ms int) ([]Action, error) {
	if err := fire(ctx, c, event); err != nil {
		return nil, err
	}
	var acts []Action
	if text != "" {
		acts = append(acts, Action{Kind: ActTalk, Text: text, Language: c.Language})
	}
	return append(acts, Action{Kind: ActListen, Millis: ms}), nil
}

// account counts the VoIPBin actions a call has used, VoIPBin's own included,
// and the listening time handed out. Near VoIPBin's 100-action limit the
// caller goes to a human rather than being cut off.
func (r *Router) account(ctx context.Context, c *Call, acts []Action) ([]Action, error) {
	if c.Actions == 0 {
		c.Actions = 2 // the number's flow: answer, and the fetch that brought us here
	}
	spend := cost(acts)
	if !c.Over() && c.Actions+spend+cost(r.reception(c.Language)) > r.cfg.Dialog.MaxActions {
		var err error
		if acts, err = r.route(ctx, c, r.cfg.Fallback.Destination, "action-limit"); err != nil {
			return nil, err
		}
		spend = cost(acts)
	}
	c.Actions += spend
	for _, a := range acts {
		if a.Kind == ActListen {
			c.SilenceMS += a.Millis
		}
	}
	return acts, nil
}

func (r *Router) menuText(texts *Texts) string {
	if texts.Menu != "" {
		return texts.Menu
	}
	var parts []string
	var last string
	for digit := range 10 {
		name, ok := r.cfg.ByDigit(strconv.Itoa(digit))
		if !ok {
			continue
		}
		d := r.cfg.Departments[name]
		part := fmt.Sprintf("%s for %s", d.Digit, d.LabelIn(r.cfg.Language))
		if name == r.cfg.Fallback.Destination {
			last = part
			continue
		}
		parts = append(parts, part)
	}
	text := "Please press " + strings.Join(parts, ", ")
	if last != "" {
		text += ", or " + last
	}
	return text + "."
}

// Clip trims an utterance, drops bytes that are not UTF-8 and keeps at most
// MaxTurnChars characters.
func Clip(s string) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, ""))
	if utf8.RuneCountInString(s) <= MaxTurnChars {
		return s
	}
	n := 0
	for i := range s {
		if n == MaxTurnChars {
			return strings.TrimSpace(s[:i])
		}
		n++
	}
	return s
}

// countWords counts the words in all turns.
func countWords(turns []string) int {
	n := 0
	for _, t := range turns {
		n += len(strings.FieldsFunc(t, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' }))
	}
	return n
}
