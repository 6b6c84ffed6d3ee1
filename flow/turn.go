package flow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/looplab/fsm"
)

// Turn is one request for the next actions of a call.
type Turn struct {
	// CallID names the call. Empty means the request is the whole call (the
	// seed's single-turn webhook): nothing is loaded or remembered.
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
	// Dialled is the number the caller dialled; it picks the call's mode on its first turn.
	Dialled string
	// Arrived is when the request reached us; the time budget runs from it.
	// Zero means now.
	Arrived time.Time
	// OnWords is a turn played when the caller's words arrive (an event),
	// not asked for by the platform: a call waiting for words decides on
	// them now and keeps the decision for the next fetch to hand out at
	// once (Call.Ready); in any other state it does nothing.
	OnWords bool
	// Recording is the recording a message was left in, and Caller the
	// caller's number, on the fetch after a message (message.go).
	Recording, Caller string
}

// MaxTurnChars bounds one utterance, in characters: a caller's line is a few
// dozen words, and a longer one is clipped where it is stored and where it is read.
const MaxTurnChars = 500

// Limits on what one call keeps, so a talkative caller cannot grow state or prompts without bound.
const (
	maxTurns    = 12
	maxAttempts = 3 // load-decide-save tries when another request saved the call first
	// maxWordAttempts is the same for a turn on the caller's words: every
	// fetch that pauses while it decides saves the call, and its verdict is
	// kept across tries, so a try costs two round trips and no model call.
	maxWordAttempts = 6
	maxMoves        = 4 // events one turn may fire; the longest is classify then clarify
)

// Router answers a call's turns. For each it loads the call, lets the state's
// handler decide, fires the event through the machine (again, while the call
// is in a state that decides at once), and saves; so it holds nothing between
// requests and any number of replicas can share one store.
type Router struct {
	cfg   *Routing
	calls Calls
	local Classifier
	model Classifier
	log   *slog.Logger
	// The fields below are optional; set them before the router serves a turn.

	// Observer sees every turn, when set.
	Observer Observer
	// Now is this replica's wall clock: turns and the model are timed with
	// it, and a turn's deadline set. Nothing it says is compared with a time
	// another replica wrote: the call's own times are the store's (see
	// Call.NowMS), so replicas whose clocks disagree still agree on a call.
	Now func() time.Time
	// Clock tells the time of day a call starts at, which its opening hours
	// are read at (Call.StartedMS); nil is time.Now. Time budgets are
	// measured apart from it, so a clock set to another day (simulate --at)
	// leaves them alone.
	Clock func() time.Time
	// LogTranscripts puts the caller's words in the line logged when a call
	// is transferred (`switchboard harvest` reads them); off, only their count.
	LogTranscripts bool
	// Outbox keeps the messages callers leave, Callbacks the callbacks they
	// ask for; nil: they are not kept.
	Outbox    Outbox
	Callbacks Callbacks
	// Callers remembers callers by HashNumber of their number; nil: nobody is remembered.
	Callers    Callers
	HashNumber func(number string) string
	handlers   map[string]handler
	// background counts the decisions fetches started (see awaiting).
	background sync.WaitGroup
	// lastTransfer is what a last transfer to the fallback desk costs of the
	// platform's action budget, and what waiting in a queue costs when a
	// department is one.
	lastTransfer int
}

// handler is one state's policy: from the call and what this turn brought it
// decides the event to fire. It may update the call's own counters (turns
// heard, clarifications asked); it never moves the call's state itself.
type handler func(ctx context.Context, c *Call, t *turn) decision

// decision is what a state's handler chose: the event to fire and what the
// caller hears and does on the way. An empty event moves nothing.
type decision struct {
	event string
	acts  []Action
	// dept and reason say where EventRoute, EventHandBack or EventClosed
	// sends the call, and why; conf is how sure the chooser was; closed
	// names the department chosen while it was closed.
	dept, reason, closed string
	conf                 float64
}

// NewRouter builds a Router. local is the built-in classifier, always asked
// first; model may be nil when no model is configured.
func NewRouter(cfg *Config, calls Calls, local, model Classifier, log *slog.Logger) *Router {
	r := &Router{cfg: &cfg.Routing, calls: calls, local: local, model: model, log: log, Now: time.Now}
	r.handlers = map[string]handler{
		StateGreeting:    r.greeting,
		StateListening:   r.listening,
		StateClarifying:  r.listening, // the same wait for words, one clarification further on
		StateChecking:    r.checking,
		StateHolding:     r.holding,
		StateClassifying: r.classifying,
		StateMenu:        r.menu,
		StateLanguage:    r.language,
		StateEntry:       r.entry,
		StateKeypad:      r.keypad,
		StateTransferred: r.finished,
		StateHandedBack:  r.finished,
		StateEnded:       r.finished,
		StateMessage:     r.message,
		StateOffer:       r.offer,
		StateCallback:    r.callback,
	}
	// A queue's wait runs inside the same budget: the conversation leaves
	// room for it.
	r.lastTransfer = Cost(r.reception(r.cfg.Language)) + r.cfg.QueueReserve()
	return r
}

// Reply is a turn's answer.
type Reply struct {
	Actions []Action
	// Moves are the machine's moves the turn made, for logs and tests; none
	// when the turn failed over to reception.
	Moves Moves
	// Failed says why the turn failed over to reception ("error", "panic"),
	// or is empty: such a transfer must not lean on the store again.
	Failed string
}

// Move is one move of a call through the machine.
type Move struct{ From, Event, To string }

// Moves are a turn's moves, in order.
type Moves []Move

// String renders moves as "listening -classify-> classifying, classifying -route-> transferred".
func (ms Moves) String() string {
	var b strings.Builder
	for i, m := range ms {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.From)
		b.WriteString(" -")
		b.WriteString(m.Event)
		b.WriteString("-> ")
		b.WriteString(m.To)
	}
	return b.String()
}

// LogValue logs moves as their String, and only when a line is written.
func (ms Moves) LogValue() slog.Value { return slog.StringValue(ms.String()) }

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
	// OnWords is set for a turn played when the caller's words arrived; a
	// fetch that hands its decision out (Before.Ready) then reports no moves.
	OnWords bool
}

// Left reports whether the turn handed the call's end to the platform: the
// fetch that answered its transfer, hand-back or hangup, or a hangup. A
// decision on the caller's words that waits in Ready has not: until a fetch
// hands it out, more of their words may still change it.
func (r Report) Left() bool {
	a := r.After
	return r.Failed == "" && a.Over() && a.Ready == nil && (!r.Before.Over() || r.Before.Ready != nil)
}

// Next answers a turn. It never fails: whatever goes wrong behind it (store,
// classifier, a bug), the caller still gets actions that reach a human.
func (r *Router) Next(ctx context.Context, t Turn) (reply Reply) {
	start := r.Now()
	ctx, cancel := context.WithDeadline(ctx, r.Deadline(t))
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			if t.OnWords {
				r.log.ErrorContext(ctx, "decision on the caller's words panicked; the next fetch decides", "call", t.CallID, "panic", p)
				reply = Reply{}
				return
			}
			r.log.ErrorContext(ctx, "turn panicked; sending caller to reception", "call", t.CallID, "panic", p)
			reply = Reply{Actions: r.reception(t.Language), Failed: "panic"}
			r.failed(ctx, t, start, "panic")
		}
	}()
	before, c, tn, err := r.play(ctx, t)
	if err != nil && t.OnWords {
		// Nobody waits on this turn's actions: the words stay unread, and
		// the fetch takes the decision over once it is overdue.
		r.log.WarnContext(ctx, "decision on the caller's words failed; the next fetch decides", "call", t.CallID, "err", err)
		return Reply{}
	}
	if err != nil {
		r.log.ErrorContext(ctx, "turn failed; sending caller to reception", "call", t.CallID, "err", err)
		r.failed(ctx, t, start, "error")
		return Reply{Actions: r.reception(t.Language), Failed: "error"}
	}
	if tn.idle {
		return Reply{} // nothing to do: the call was not waiting for words
	}
	if tn.restart {
		r.decideLater(ctx, t)
	}
	took := r.Now().Sub(start)
	// The turn that ends a call writes its summary only: one line, not two,
	// for every call the seed's webhook answers in a single request. A
	// correction that decided the call again writes it again: the last wins.
	switch {
	case c.Over() && (!before.Over() || tn.corrected):
		r.summarise(ctx, c, tn.moves, took)
		r.remember(ctx, c)
	case tn.handedOut:
		// The turn that decided wrote the line; this one only delivers.
	default:
		r.log.LogAttrs(ctx, slog.LevelInfo, "turn", slog.String("call", c.ID), slog.String("channel", tn.ch.Name),
			slog.Any("moves", tn.moves), slog.String("state", c.State), slog.String("dept", c.Department),
			slog.String("why", c.Reason), slog.Int("turns", len(c.Turns)), slog.Int64("ms", took.Milliseconds()))
	}
	if r.Observer != nil {
		r.Observer.Observe(ctx, Report{Before: before, After: c, Took: took, OnWords: t.OnWords})
	}
	if tn.ended && c.Audit != nil {
		r.logAudit(ctx, c)
	}
	return Reply{Actions: tn.acts, Moves: tn.moves}
}

// decideLater starts in the background the decision on the caller's words
// that a fetch found missing (see awaiting): it runs as the turn an event
// brings with the words, with its own budget, and the next fetch hands it out.
func (r *Router) decideLater(ctx context.Context, t Turn) {
	r.background.Go(func() {
		r.Next(context.WithoutCancel(ctx), Turn{CallID: t.CallID, Channel: t.Channel, OnWords: true})
	})
}

// Settle waits for the decisions fetches started in the background.
func (r *Router) Settle() { r.background.Wait() }

// FetchBudget is the longest a fetch's answer may take, whatever the model
// or the store does. VoIPBin's call-manager waits 3 s for flow-manager's next
// action (bin-common-handler requesthandler requestTimeoutDefault, via
// callhandler ActionNext's FlowV1ActiveflowGetNextAction); when that passes,
// the call stays on hold and nothing resumes it. flow-manager spends that
// window fetching our answer and then running its transcribe_start (an
// RPC allowed 30 s while the audio stream is set up), connect (a conference,
// a flow and the outgoing calls, an RPC each) and queue_join
// (activeflowhandler ExecuteNextAction, executeAction). So a fetch never
// waits on the model: decisions are made when the words arrive.
const FetchBudget = 500 * time.Millisecond

// summarise writes a call's last line: how it went, in one place, with the
// last turn's moves and time. With LogTranscripts its turns are the caller's
// words (`switchboard harvest` reads them); without, only their count.
func (r *Router) summarise(ctx context.Context, c Call, moves Moves, took time.Duration) {
	if !r.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	turns := slog.Int("turns", len(c.Turns))
	if r.LogTranscripts { // card and account numbers never reach a log, however they were said
		said := make([]string, len(c.Turns))
		for i, t := range c.Turns {
			said[i] = Redact(t)
		}
		turns = slog.Any("turns", said)
	}
	var closed, repeat slog.Attr // a zero Attr is not written
	if c.Closed != "" {
		closed = slog.String("closed", c.Closed)
	}
	if c.Repeat { // the caller called within 24 h: harvest offers the call for review
		repeat = slog.Bool("repeat", true)
	}
	r.log.LogAttrs(ctx, slog.LevelInfo, "call summary", slog.String("call", c.ID), slog.String("state", c.State),
		slog.String("route", c.Department), closed, repeat, slog.String("why", c.Reason), turns,
		slog.Float64("confidence", c.Confidence), slog.Int64("model_ms", c.ModelMS), slog.Int("actions", c.Actions),
		slog.Any("moves", moves), slog.Int64("ms", took.Milliseconds()))
}

// Leave makes sure the stored call says it has left us (Call.Left). A call
// whose turn failed (why: "error", "panic") had its caller sent to the
// fallback desk without a save: it is stored as transferred there now,
// whatever it was deciding, and its unread words are taken (they decide
// nothing any more). A call that has already left is not written, nor is
// any call when why is empty. Either way the call comes back as stored, with
// every transcription it knows of, for them to be unlinked and stopped. The
// service calls it, again and again while the store is down, for every
// failed turn; it reports nothing to the Observer (the failed turn was
// reported once, when it failed).
func (r *Router) Leave(ctx context.Context, id, why string) (Call, error) {
	for attempt := 1; ; attempt++ {
		c, inbox, err := r.calls.Load(ctx, id)
		if err != nil {
			return c, fmt.Errorf("load call %s: %w", id, err)
		}
		noteTranscribes(&c, inbox)
		if c.Left() || why == "" { // "": only asked for the call as stored
			return c, nil
		}
		c.State, c.Department, c.Reason, c.Sure = StateTransferred, r.cfg.Fallback.Destination, why, 1
		c.Ready, c.ReadyMoves, c.ReadyFrom = nil, nil, nil
		c.UpdatedMS = r.clock().UnixMilli()
		err = r.calls.Save(ctx, c, len(inbox))
		if errors.Is(err, ErrConflict) && attempt < maxWordAttempts {
			continue
		}
		if err != nil {
			return c, fmt.Errorf("save call %s: %w", id, err)
		}
		return c, nil
	}
}

// failed reports a turn that sent the caller to reception because something
// broke. Its call has left us, though the store does not say so yet: the
// Observer (the service) stores that with Leave.
func (r *Router) failed(ctx context.Context, t Turn, start time.Time, why string) {
	c := Call{ID: t.CallID, State: StateTransferred, Department: r.cfg.Fallback.Destination, Reason: why}
	r.summarise(ctx, c, nil, r.Now().Sub(start))
	if r.Observer != nil {
		r.Observer.Observe(ctx, Report{Before: Call{ID: t.CallID}, After: c, Took: r.Now().Sub(start), Failed: why})
	}
}

// Deadline is when the answer to t is due: the time budget, counted from when
// the request arrived (VoIPBin's clock started then, not when we began). It
// is read on the process's own clock, as contexts read it, whatever Now says.
func (r *Router) Deadline(t Turn) time.Time {
	arrived := t.Arrived
	if arrived.IsZero() {
		arrived = time.Now()
	}
	if t.Channel.Fetches && !t.OnWords {
		return arrived.Add(min(FetchBudget, time.Duration(r.cfg.LLM.BudgetMS)*time.Millisecond))
	}
	return arrived.Add(time.Duration(r.cfg.LLM.BudgetMS) * time.Millisecond)
}

// play loads the call, steps it and saves it, starting again from a fresh
// load when another request saved the call first. It returns the call as it
// was loaded and as it was saved.
func (r *Router) play(ctx context.Context, t Turn) (Call, Call, *turn, error) {
	ch := t.Channel
	if t.CallID == "" {
		ch.Remembers = false
	}
	if !ch.Remembers {
		var c Call
		tn := newTurn(t, ch, nil)
		return Call{}, c, tn, r.step(ctx, &c, tn)
	}
	attempts := maxAttempts
	var memo *verdictMemo // only a turn on words meets many conflicts
	if t.OnWords {
		attempts, memo = maxWordAttempts, &verdictMemo{}
	}
	for attempt := 1; ; attempt++ {
		c, inbox, err := r.calls.Load(ctx, t.CallID)
		if err != nil {
			return c, c, nil, fmt.Errorf("load call %s: %w", t.CallID, err)
		}
		before := c
		tn := newTurn(t, ch, inbox)
		tn.memo = memo
		if err := r.step(ctx, &c, tn); err != nil {
			return before, c, nil, err
		}
		if err := r.leave(ctx, tn); err != nil {
			return before, c, nil, err
		}
		if tn.idle {
			return before, c, tn, nil
		}
		if !t.OnWords && slices.Contains(waiting, c.State) && !slices.Contains(waiting, before.State) {
			c.WordsFromMS = c.NowMS // see Call.WordsFromMS
		}
		err = r.calls.Save(ctx, c, tn.taken)
		if errors.Is(err, ErrConflict) && attempt < attempts {
			continue
		}
		if err != nil {
			return before, c, nil, fmt.Errorf("save call %s: %w", t.CallID, err)
		}
		return before, c, tn, nil
	}
}

// step moves the call through the machine for one turn: the handler of the
// call's state decides an event, the machine fires it, and so on until the
// turn's actions hand the call to someone (the caller, a department) or the
// call needs no move at all.
func (r *Router) step(ctx context.Context, c *Call, t *turn) error {
	if c.Ready != nil && !t.hungUp() && t.newWords(c) {
		// More of the caller's words before the decision was handed out (a
		// correction): it is taken again on all of them.
		c.takeBack()
		t.corrected = true
	}
	// Whatever the state reads of the inbox, the call learns of every
	// transcription listening to it: they are stopped when it leaves us.
	noteTranscribes(c, t.inbox)
	if t.OnWords {
		if c.State == "" || !slices.Contains(waiting, c.State) || c.Ready != nil {
			t.idle = true // the fetch decides: the call is not waiting for words
			return nil
		}
	} else if c.Ready != nil {
		if !t.hungUp() && r.stillTalking(c) {
			// A correction on its way: its words decide the transfer.
			t.acts = []Action{{Kind: ActListen, Millis: r.cfg.Dialog.QuickMS}}
			r.account(c, t)
			c.UpdatedMS = r.clock().UnixMilli()
			return nil
		}
		if !t.hungUp() {
			return r.handOut(c, t)
		}
		c.Ready, c.ReadyMoves, c.ReadyFrom = nil, nil, nil // the caller is gone: the hangup below wins
	}
	was := c.before()
	now := r.clock().UnixMilli()
	if c.StartedMS == 0 {
		c.StartedMS = now
	}
	c.UpdatedMS = now
	if c.State == "" {
		c.State = t.ch.start()
		if t.ch.ActionBudget {
			c.Actions = t.ch.FlowActions
		}
		if t.ch.Fetches { // a line with a number's flow, which carries the dialled number
			c.Mode, _ = r.cfg.Mode(t.Dialled)
		}
		r.recall(ctx, c, t)
	}
	mode := r.modeOf(c)
	if c.Language == "" {
		c.Language = r.cfg.Language
		if len(mode.Languages) > 0 {
			c.Language = mode.Languages[0]
		}
		if lang := NormalizeLanguage(t.Language); r.cfg.Texts[lang] != nil { // ?lang=es-es is es-ES
			c.Language, c.LanguageSet = lang, true
		}
		if mode.Audit {
			c.Audit = &Audit{}
		}
	}
	m := machines.Get().(*fsm.FSM)
	defer machines.Put(m)
	m.SetState(c.State)
	// A move does no I/O; a spent time budget must not stop it, or a caller
	// whose classification used the whole budget would lose the route.
	moveCtx := context.WithoutCancel(ctx)
	for range maxMoves {
		d, err := r.decide(ctx, c, t)
		if err != nil {
			return err
		}
		if d.event == "" {
			if t.OnWords && len(t.moves) == 0 {
				t.idle = true // no new words: another turn took them
				return nil
			}
			t.acts = append(t.acts, d.acts...)
			r.account(c, t)
			r.keep(c, t, was)
			return nil
		}
		d = r.afford(c, t, r.messageInstead(c, t, d))
		from := c.State
		if err := fire(moveCtx, m, c, d.event); err != nil {
			return err
		}
		if d.event == EventRoute || d.event == EventHandBack || d.event == EventClosed || d.event == EventTakeMessage {
			c.Department, c.Reason, c.Sure, c.Closed = d.dept, d.reason, d.conf, d.closed
			if dest, ok := r.cfg.Department(d.dept); ok && c.Audit != nil {
				c.Audit.Destination = dest.Destination().Target
			}
		}
		t.ended = t.ended || over(c.State) && !over(from)
		t.acts = append(t.acts, d.acts...)
		t.moves = append(t.moves, Move{From: from, Event: d.event, To: c.State})
		if handsOver(d.acts) {
			if !t.OnWords && c.Announced != "" { // a fetch took the correction back and decided
				t.acts, c.Announced = r.reannounce(c, t.acts), ""
			}
			r.account(c, t)
			r.keep(c, t, was)
			return nil
		}
	}
	return fmt.Errorf("call %s: no decision after %d moves (%s)", c.ID, maxMoves, t.moves)
}

// noteTranscribes has c learn of the transcriptions that the inputs say started.
func noteTranscribes(c *Call, inbox []Input) {
	for _, in := range inbox {
		if in.Text == "" && in.Session != "" {
			c.noteTranscribe(in.Session)
		}
	}
}

// keep stores what a turn on the caller's words decided with the call, for
// the next fetch: the platform asks for the call's next actions only then.
func (r *Router) keep(c *Call, t *turn, was Before) {
	if !t.OnWords {
		return
	}
	c.Ready, c.ReadyMoves, c.ReadyFrom = t.acts, slices.Clone(t.moves), &was
	t.acts = nil
}

// handOut answers a fetch with the decision made on the caller's words; it
// was counted against the action budget when it was made. A transfer is
// handed out in two fetches (see announce): this one answers what the
// caller hears about it, and the next one the transfer itself.
func (r *Router) handOut(c *Call, t *turn) error {
	acts := r.reannounce(c, c.Ready)
	c.Announced = ""
	now, later := r.announce(c, acts)
	c.Actions += Cost(now) + Cost(later) - Cost(c.Ready)
	t.acts, t.handedOut = now, true
	t.moves = append(t.moves, c.ReadyMoves...)
	if later != nil {
		// Taken back, the call has spent the announcement all the same.
		c.ReadyFrom.Actions += Cost(now)
		c.Ready, c.ReadyMoves, c.Announced = later, nil, c.Department
	} else {
		c.Ready, c.ReadyMoves, c.ReadyFrom = nil, nil, nil
	}
	c.WordsFromMS = c.NowMS
	c.UpdatedMS = r.clock().UnixMilli()
	return nil
}

// announce splits a transfer decided on the caller's words into what the
// caller hears now, the announcement and a fetch, and the transfer the
// fetch after it hands out (later; nil: acts go out whole). The caller
// often corrects themselves exactly while they hear "Routing you to
// Billing": their line then still reaches a call that has not left us, and
// the transfer is decided again on all their lines. On-call goes at once:
// the priority lane reads every line first, so nothing a caller adds can
// send a priority call elsewhere, and an urgent caller waits for nothing.
// So does a transfer with no room left for the extra fetch.
func (r *Router) announce(c *Call, acts []Action) (now, later []Action) {
	n := len(acts)
	if n < 2 || acts[n-1].Kind != ActConnect || acts[n-2].Kind != ActTalk || c.Department == Emergency ||
		c.Actions+1 > r.cfg.Dialog.MaxActions {
		return acts, nil
	}
	return append(slices.Clone(acts[:n-1]), Action{Kind: ActListen}), acts[n-1:]
}

// stillTalking reports whether a transfer the caller was told about waits
// for a line they are saying (Call.Speaking): its fetch pauses for it
// rather than handing the transfer out, for up to dialog.silence_ms after
// the announcement and while the action budget has room.
func (r *Router) stillTalking(c *Call) bool {
	return c.Announced != "" && c.Speaking() && c.NowMS-c.WordsFromMS < int64(r.cfg.Dialog.SilenceMS) &&
		c.Actions+Cost([]Action{{Kind: ActListen, Millis: 1}}) <= r.cfg.Dialog.MaxActions
}

// reannounce fits a transfer decided again on a correction to what the
// caller already heard (Call.Announced): to the same department it connects
// without saying it twice; to another one it says the change of plan
// (texts.instead, "Sorry, let me get you to {department} instead.") where
// the caller's language has that text. A closed department's text, which
// says where the caller goes instead, is kept as it is.
func (r *Router) reannounce(c *Call, acts []Action) []Action {
	n := len(acts)
	if c.Announced == "" || n == 0 || acts[n-1].Kind != ActConnect {
		return acts
	}
	if c.Department == c.Announced {
		return slices.DeleteFunc(slices.Clone(acts), func(a Action) bool { return a.Kind == ActTalk })
	}
	out := slices.Clone(acts)
	for i, a := range out {
		if texts := r.cfg.Texts[a.Language]; a.Kind == ActTalk && c.Closed == "" && texts != nil && texts.Instead != "" {
			out[i].Text = strings.ReplaceAll(texts.Instead, "{department}", r.labelOf(c.Department, a.Language))
			break
		}
	}
	return out
}

// decide asks the handler of the call's state. A caller who hung up ends the
// call whatever state it is in.
func (r *Router) decide(ctx context.Context, c *Call, t *turn) (decision, error) {
	if c.State != StateEnded && t.hungUp() {
		return decision{event: EventHangup, acts: []Action{{Kind: ActHangup}}}, nil
	}
	h, ok := r.handlers[c.State]
	if !ok {
		return decision{}, fmt.Errorf("call %s: unknown state %q", c.ID, c.State)
	}
	return h(ctx, c, t), nil
}

// turn is one turn in progress: what arrived for the call, and what has been
// decided so far.
type turn struct {
	Turn
	ch    Channel
	inbox []Input
	// taken is how many inbox inputs the turn consumed: all of them once read.
	taken int
	acts  []Action
	moves Moves // see Reply.Moves
	// movesBuf holds a turn's few moves without growing a slice.
	movesBuf [maxMoves]Move
	// ended is set when the turn ends our part of the call.
	ended bool
	// idle is set when the turn changed nothing and need not be saved;
	// handedOut when it answered with a decision made on the caller's words.
	idle, handedOut bool
	// heardAt is when the newest words the turn took arrived (Unix ms).
	heardAt int64
	// memo keeps a classifier's verdict across a turn's tries.
	memo *verdictMemo
	// restart is set when a fetch found the caller's words without a
	// decision on the way: one starts once the fetch is saved.
	restart bool
	// corrected is set when the turn took back a decision for the caller's
	// newer words (latest, once heard): they say what the caller wants now.
	corrected bool
	latest    []string
	// message is the message the turn left, for the Outbox; callback the
	// callback it booked.
	message  *Message
	callback *Callback
}

func newTurn(t Turn, ch Channel, inbox []Input) *turn {
	tn := &turn{Turn: t, ch: ch, inbox: inbox}
	tn.moves = tn.movesBuf[:0]
	return tn
}

// newWords reports whether the caller's words are among the inputs the turn
// has not read: words of the call's language (another language's
// transcription of the same line does not count once it is settled).
func (t *turn) newWords(c *Call) bool {
	for _, in := range t.inbox[t.taken:] {
		if lang := c.Sessions[in.Session]; in.Text != "" && (lang == "" || lang == c.Language || !c.LanguageSet) {
			return true
		}
	}
	return false
}

// hungUp reports whether the caller hung up; the hangup consumes the inbox.
func (t *turn) hungUp() bool {
	for _, in := range t.inbox {
		if in.Hangup {
			t.taken = len(t.inbox)
			return true
		}
	}
	return false
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
