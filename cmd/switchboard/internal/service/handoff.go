package service

// The handoff: with VoIPBin's REST API configured, a routed caller is not
// connected blind. They wait in a conference of their own while the
// department's destinations are rung one by one through POST /v1.0/calls,
// each for its ring time; whoever answers hears who is calling and why and
// takes the call with a key, which joins them to the caller's conference.
// Whoever does not answer, is busy, fails or declines passes the caller on:
// the conference is deleted, VoIPBin moves the caller on to the fetch after
// their conference_join, and that fetch rings the next destination. The
// state lives with the call in the store, and the ring timers in the store's
// Timers, so any replica takes any event, fetch or timer.
//
// A fetch answers within flow.FetchBudget, as /voipbin/fetch does: the REST
// calls that prepare a try (a conference, a dial) run beside it, and a
// caller whose try is not ready yet hears the words due to them, or a short
// pause, and fetches again.
// CONFORMANCE.md, "Handoffs", says which VoIPBin source each step rests on.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/flow"
)

// Costs of a handoff against VoIPBin's action budget: a try is a talk at
// most, conference_join and the confbridge_join VoIPBin pushes after it, and
// the fetch after them; the last resort is a talk, a connect and its
// confbridge_join; ending is a hangup.
const (
	handoffTryCost = 4

	lastResortCost  = 3
	handoffREST     = 1500 * time.Millisecond // one REST call
	handoffCASTries = 4
	cleanupTries    = 4
	// handoffWait is how long a fetch waits for its try to be prepared
	// before it answers a pause: within flow.FetchBudget, with room for
	// the store's writes after it.
	handoffWait = 350 * time.Millisecond
	// waitPause is the pause, in ms, of a caller whose try is still being
	// prepared; it and the fetch after it cost waitCost actions.
	waitPause = 600
	waitCost  = 2
	// prepareLease is how long a try's preparation (its conference) may
	// take before another fetch takes it over.
	prepareLease = handoffREST + 500*time.Millisecond
	// timerLease is how long a replica holds a timer it acts on.
	timerLease = 10 * time.Second
)

// Link prefixes: a leg names the caller's call and its conference, a
// caller's call its last leg and conference, for as long as links last
// (a conversation may outlive the call's own record).
const (
	legLink    = "leg:"
	callerLink = "handoff:"
	// servicedLink marks a queued caller who reached the queue's agent
	// (voipbin.EventQueuecallServiced).
	servicedLink = "serviced:"
)

// handoffs runs handoffs for the service.
type handoffs struct {
	svc *Service
	api *voipbin.Client
	log *slog.Logger
	// second is how long a second of ring time lasts: a second, shorter
	// in tests and in simulate, which play calls on their own clock.
	second time.Duration
	// timers are the ring timers and the goodbyes after a message that
	// silence ended, acted on by every replica (runTimers).
	timers flow.Timers
	// busy counts the work in flight: preparations, timers, clean-ups.
	busy      inFlight
	stopTimer context.CancelFunc
	timersRun chan struct{}
	m         handoffMetrics
}

type handoffMetrics struct {
	transfers *prometheus.CounterVec
	ring      *prometheus.HistogramVec
	holdTalks *prometheus.CounterVec
}

// newHandoffs starts the handoffs, their timers acted on until close.
func newHandoffs(svc *Service, api *voipbin.Client, timers flow.Timers) *handoffs {
	h := &handoffs{svc: svc, api: api, log: svc.log, second: cmp.Or(svc.conf.RingSecond, time.Second), timers: timers,
		m: handoffMetrics{transfers: svc.metrics.transfers, ring: svc.metrics.transferRing,
			holdTalks: svc.metrics.holdTalks}, timersRun: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	h.stopTimer = cancel
	go func() { defer close(h.timersRun); h.runTimers(ctx) }()
	return h
}

// Wait waits for the work in flight: preparations, timers, clean-ups.
func (h *handoffs) Wait() { h.busy.Wait() }

// close stops acting on timers (another replica takes them) and waits for
// the work in flight.
func (h *handoffs) close() {
	h.stopTimer()
	<-h.timersRun
	h.busy.Wait()
}

// inFlight counts work in flight. Unlike a sync.WaitGroup it may be waited
// on while work is added, as the timers add it at any moment.
type inFlight struct {
	mu   sync.Mutex
	n    int
	idle sync.Cond
}

func (w *inFlight) Add(n int) {
	w.mu.Lock()
	w.n += n
	if w.n == 0 && w.idle.L != nil {
		w.idle.Broadcast()
	}
	w.mu.Unlock()
}

func (w *inFlight) Done() { w.Add(-1) }

// Wait waits until nothing is in flight.
func (w *inFlight) Wait() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.idle.L == nil {
		w.idle.L = &w.mu
	}
	for w.n > 0 {
		w.idle.Wait()
	}
}

// background runs f beside the request that asked for it, counted as work in flight.
func (h *handoffs) background(ctx context.Context, f func(ctx context.Context)) {
	h.busy.Add(1)
	go func() {
		defer h.busy.Done()
		f(context.WithoutCancel(ctx))
	}()
}

// intercept turns the connect of a fetch answer (rendered from acts) into
// the start of a handoff: a fetch of the handoff endpoint, which rings the
// department. Queue departments keep their queue_join.
func (h *handoffs) intercept(acts []flow.Action, out []voipbin.Action, base string) []voipbin.Action {
	if h == nil || len(out) == 0 || out[len(out)-1].Type != voipbin.TypeConnect {
		return out
	}
	var dept string
	for _, a := range acts {
		if a.Kind == flow.ActConnect {
			dept = a.Department
		}
	}
	if len(h.svc.routing().cfg.Routing.HandoffTargets(dept)) == 0 {
		return out
	}
	out[len(out)-1].Type = voipbin.TypeFetch
	out[len(out)-1].Option = voipbin.FetchOption{EventURL: h.callerURL(base, dept), EventMethod: "POST"}
	return out
}

// callerURL is where a caller's flow fetches the handoff's next step. The
// numbers ride in it: VoIPBin substitutes them when the fetch runs.
func (h *handoffs) callerURL(base, dept string) string {
	return voipbin.FetchURL{Base: base, Path: voipbin.HandoffPath, Token: h.svc.conf.FetchToken, Dept: dept,
		From: voipbin.Var(voipbin.VarCaller), To: voipbin.DialledNumber}.String()
}

// queueGrace is what a queued caller's wait may exceed the department's
// longest wait by and still count as a wait that ended: the words said
// before the queue_join, and VoIPBin's own delays.
const queueGrace = 15 * time.Second

// afterQueue puts a fetch after the queue_join of a fetch answer: when the
// queue's wait_timeout passes, VoIPBin takes the caller out of the queue and
// their flow goes on after the queue_join (bin-queue-manager queuecallhandler
// TimeoutWait, Kick; bin-flow-manager actionHandleQueueJoin pushes the
// queue's actions as a stack of their own, which Kick pops). That fetch
// hands the caller over as a handoff does: to the fallback desk, or the
// message offer. queued says when the caller was put in the queue.
func afterQueue(s Config, acts []flow.Action, out []voipbin.Action, base string, queued time.Time) []voipbin.Action {
	if len(out) == 0 || out[len(out)-1].Type != voipbin.TypeQueueJoin {
		return out
	}
	var dept string
	for _, a := range acts {
		if a.Kind == flow.ActConnect {
			dept = a.Department
		}
	}
	u := voipbin.FetchURL{Base: base, Path: voipbin.HandoffPath, Token: s.FetchToken, Dept: dept,
		From: voipbin.Var(voipbin.VarCaller), To: voipbin.DialledNumber, Queued: queued.UnixMilli()}
	return append(out, action(voipbin.TypeFetch, voipbin.FetchOption{EventURL: u.String(), EventMethod: "POST"}))
}

// queueActions is what a wait of waited in dept's queue spent of the call's
// actions: the queue_join, each pass of the wait flow begun, the fetch after.
func queueActions(cfg *flow.Routing, dept string, waited time.Duration) int {
	d, ok := cfg.Department(dept)
	if !ok {
		return 2
	}
	w := d.WaitFlowOf()
	passes := int(waited.Milliseconds()/int64(max(w.LoopMS, 1))) + 1
	return 2 + passes*w.LoopCost()
}

// servedInQueue reports whether VoIPBin said the queued caller reached the
// queue's agent (queuecall_serviced): the fetch after their queue_join then
// ends a conversation, however short, not a wait.
func servedInQueue(ctx context.Context, svc *Service, callID string) bool {
	if callID == "" {
		return false
	}
	_, err := svc.store.Resolve(ctx, servicedLink+callID)
	return err == nil
}

// queueWaitEnded reports whether the fetch after a queue_join, at now, ends
// a wait (the queue's wait_timeout took the caller out, within the
// department's longest wait) rather than a conversation with the queue's
// agent, which lasts past it. It judges by time where queuecall_serviced
// did not come (servedInQueue): delivered at most 3 times, it can be lost.
func queueWaitEnded(cfg *flow.Routing, dept string, queued, now time.Time) bool {
	d, ok := cfg.Department(dept)
	if !ok {
		return true // no department to judge by: the caller goes on
	}
	return now.Sub(queued) <= d.MaxWait()+queueGrace
}

// agentURL is where the leg rung fetches what to do once its person answered.
func (h *handoffs) agentURL(base, callID string) string {
	return voipbin.FetchURL{Base: base, Path: voipbin.HandoffAgentPath, Token: h.svc.conf.FetchToken, Call: callID}.String()
}

// number reads a phone number from a substituted URL: VoIPBin does not
// URL-encode what it substitutes, so the "+" arrives as a space.
func number(s string) string {
	if strings.HasPrefix(s, " ") {
		return "+" + strings.TrimSpace(s)
	}
	return strings.TrimSpace(s)
}

// baseOf is the public base URL of this service, as fetchURL builds it.
func baseOf(s Config, r *http.Request) string {
	return fetchURL(s, r, "").Base
}

// handleHandoff answers the fetch of a caller being handed over. As on
// /voipbin/fetch, past the token nothing is refused (VoIPBin would hang the
// caller up): what cannot be used is logged and the caller still reaches
// someone, plainly connected when nothing else is possible.
func handleHandoff(svc *Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		callID, ok := handoffRequest(svc, w, r)
		if !ok {
			return
		}
		q := voipbin.ParseFetchURL(r.URL.Query())
		dept, from, dialled := q.Dept, number(q.From), number(q.To)
		cfg := &svc.routing().cfg.Routing
		if p := problemsOf(tokenProblem("dept", dept, 64, func(b byte) bool { return b >= 'a' && b <= 'z' })); len(p) > 0 {
			svc.log.WarnContext(r.Context(), "handoff fetch: department unusable; the fallback desk's", "problems", p)
			dept = cfg.Fallback.Destination
		}
		if textProblem("from", from, maxDialled) != "" {
			from = "" // the whisper says the number is withheld
		}
		if textProblem("to", dialled, maxDialled) != "" {
			dialled = ""
		}
		queued := 0 // the actions the caller's wait in a queue spent
		if r.URL.Query().Has("queued") {
			ms := q.Queued // 0: not a number
			if ms == 0 || servedInQueue(r.Context(), svc, callID) || !queueWaitEnded(cfg, dept, time.UnixMilli(ms), time.Now()) {
				// The conversation with the queue's agent is over (or the
				// URL is not ours to read): nobody is left waiting.
				writeJSON(w, http.StatusOK, render(flow.Action{Kind: flow.ActHangup}))
				return
			}
			queued = queueActions(cfg, dept, time.Since(time.UnixMilli(ms)))
		}
		if callID == "" || svc.handoff == nil {
			svc.log.ErrorContext(r.Context(), "handoff fetch that cannot be served (no call id, or no VOIPBIN_ACCESSKEY on this replica); connecting the caller plainly")
			writeJSON(w, http.StatusOK, lastResort(cfg, ""))
			return
		}
		r = withCall(r, callID)
		ctx, cancel := context.WithTimeout(r.Context(), flow.FetchBudget)
		defer cancel()
		writeJSON(w, http.StatusOK, svc.handoff.caller(ctx, callID, dept, from, dialled, baseOf(svc.conf, r), queued))
	}
}

// handleHandoffAgent answers the fetch of the leg rung, once its person
// heard the whisper (d: the key they pressed). What cannot be used ends the
// leg; the caller goes on when the try ends.
func handleHandoffAgent(svc *Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		legID, ok := handoffRequest(svc, w, r)
		if !ok {
			return
		}
		q := voipbin.ParseFetchURL(r.URL.Query())
		callID, digits := q.Call, q.Digits
		if strings.Contains(digits, "${") {
			digits = ""
		}
		if p := problemsOf(idProblem("call", callID), tokenProblem("d", digits, maxDigits, digitByte)); len(p) > 0 || legID == "" || svc.handoff == nil {
			svc.log.ErrorContext(r.Context(), "handoff leg fetch that cannot be served; the leg is hung up", "problems", p)
			writeJSON(w, http.StatusOK, render(flow.Action{Kind: flow.ActHangup}))
			return
		}
		r = withCall(r, callID)
		writeJSON(w, http.StatusOK, svc.handoff.agent(r.Context(), callID, legID, digits))
	}
}

// handoffRequest checks a handoff fetch's token and reads the id of the call
// that fetched ("": none usable).
func handoffRequest(svc *Service, w http.ResponseWriter, r *http.Request) (string, bool) {
	if !validToken(svc.conf.FetchToken, voipbin.ParseFetchURL(r.URL.Query()).Token) {
		writeProblem(w, http.StatusUnauthorized, "bad or missing fetch token (?t=)")
		return "", false
	}
	var req voipbin.FetchRequest
	if err := decodeJSON(w, r, &req); err != nil || idProblem("reference_id", req.ReferenceID) != "" {
		svc.log.WarnContext(r.Context(), "handoff fetch without a usable call id", "err", err)
		return "", true
	}
	return req.ReferenceID, true
}

// update loads a call, lets change edit it and saves it, again from a fresh
// load when another request saved first. change returns false to save nothing.
func (h *handoffs) update(ctx context.Context, callID string, change func(c *flow.Call) bool) (flow.Call, bool, error) {
	for try := 1; ; try++ {
		c, _, err := h.svc.store.Load(ctx, callID)
		if err != nil {
			return c, false, fmt.Errorf("load call %s: %w", callID, err)
		}
		if c.Handoff != nil {
			ho := *c.Handoff // change edits a copy: a lost save leaves the loaded call alone
			c.Handoff = &ho
		}
		if !change(&c) {
			return c, false, nil
		}
		err = h.svc.store.Save(ctx, c, 0)
		if errors.Is(err, flow.ErrConflict) && try < handoffCASTries {
			continue
		}
		if err != nil {
			return c, false, fmt.Errorf("save call %s: %w", callID, err)
		}
		c.Version++
		return c, true, nil
	}
}

// caller answers a caller's handoff fetch: the first, after the words that
// routed them or after their wait in a queue ended (queued), each while
// their try is being prepared, and each after their conference was deleted.
func (h *handoffs) caller(ctx context.Context, callID, dept, from, dialled, base string, queued int) []voipbin.Action {
	cfg := &h.svc.routing().cfg.Routing
	var act func() []voipbin.Action
	c, _, err := h.update(ctx, callID, func(c *flow.Call) bool {
		act = nil
		ho := c.Handoff
		switch {
		case c.Version == 0:
			// No record: it expired during a long conversation, or the
			// call was never ours. Nothing to hand over.
			act = func() []voipbin.Action { return render(flow.Action{Kind: flow.ActHangup}) }
			return false
		case ho == nil || ho.Phase == "": // not started; the model's summary may be in
			summary := ""
			if ho != nil {
				summary = ho.Summary
			}
			c.Handoff = &flow.Handoff{Dept: dept, Caller: from, Actions: c.Actions, Summary: summary}
			if queued > 0 { // the queue was the first try, and nobody in it answered
				c.Handoff.Outcome = flow.OutcomeUnanswered
				c.Handoff.Actions += queued
				h.m.transfers.WithLabelValues(dept, flow.OutcomeUnanswered).Inc()
			}
			if _, ok := cfg.Department(dept); !ok {
				c.Handoff.Dept = cfg.Fallback.Destination
			}
			return true
		case ho.Phase == flow.PhaseAccepted && ho.Joined:
			// The person hung up and VoIPBin's bridge let the caller go.
			ho.Phase = flow.PhaseDone
			conf := ho.Conference
			act = func() []voipbin.Action {
				h.background(ctx, func(ctx context.Context) { h.cleanup(ctx, conf, "") })
				return render(flow.Action{Kind: flow.ActHangup})
			}
			return true
		case ho.Open() && ho.Joined:
			// Back before the try was decided: its conference went (a
			// timeout, an operator). The try counts as not answered.
			was := *ho
			h.conclude(ho, flow.OutcomeUnanswered)
			act = func() []voipbin.Action {
				h.count(was, flow.OutcomeUnanswered)
				h.background(ctx, func(ctx context.Context) { h.cleanup(ctx, was.Conference, was.Leg) })
				return nil
			}
			return true
		}
		return false
	})
	if err != nil {
		h.log.ErrorContext(ctx, "handoff state unavailable; connecting the caller plainly", "err", err)
		return h.lastResort(cfg, c, dept)
	}
	if act != nil {
		if out := act(); out != nil {
			return out
		}
	}
	return h.next(ctx, cfg, c, dialled, base)
}

// summaryWait is how long the first try's dial waits for the model's
// summary still on its way; the caller heard where they are going meanwhile,
// so it is mostly in already.
const summaryWait = 600 * time.Millisecond

// awaitSummary waits, up to summaryWait, for the model's summary of the call.
func (h *handoffs) awaitSummary(ctx context.Context, callID string) string {
	deadline := time.Now().Add(summaryWait)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if c, _, err := h.svc.store.Load(ctx, callID); err == nil && c.Handoff != nil && c.Handoff.Summary != "" {
			return c.Handoff.Summary
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ""
}

// next answers what the caller does now, within the fetch's time: join the
// conference of a try that is ready, or wait for the one being prepared
// (starting it when none is), or, with nobody left or no room left in the
// call's action budget, leave word or be connected plainly to the fallback
// desk.
func (h *handoffs) next(ctx context.Context, cfg *flow.Routing, c flow.Call, dialled, base string) []voipbin.Action {
	waitUntil := time.Now().Add(handoffWait)
	var say []flow.Action // the words due to the caller: another destination is tried
	for {
		ho := c.Handoff
		switch {
		case c.State == flow.StateEnded,
			ho.Phase == flow.PhaseDone && (ho.Outcome == flow.OutcomeAnswered || ho.Outcome == flow.OutcomeCallerLeft):
			return render(flow.Action{Kind: flow.ActHangup}) // the caller left, or the conversation is over
		case (ho.Open() || ho.Phase == flow.PhaseAccepted) && !ho.Joined:
			// Ready (or taken already: the person waits in the conference):
			// the caller joins the try's conference.
			_, won, err := h.update(ctx, c.ID, func(s *flow.Call) bool {
				sh := s.Handoff
				if sh == nil || !(sh.Open() || sh.Phase == flow.PhaseAccepted) || sh.Conference != ho.Conference || sh.Joined {
					return false
				}
				sh.Joined = true
				sh.Actions += handoffTryCost
				return true
			})
			if err != nil {
				h.log.ErrorContext(ctx, "handoff state not saved; connecting the caller plainly", "err", err)
				return h.lastResort(cfg, c, ho.Dept)
			}
			if won {
				if ho.Leg == "" {
					h.dialTry(ctx, c, dialled, base)
				}
				return append(render(say...),
					action(voipbin.TypeConferenceJoin, voipbin.ConferenceJoinOption{ConferenceID: ho.Conference}),
					action(voipbin.TypeFetch, voipbin.FetchOption{EventURL: h.callerURL(base, ho.Dept), EventMethod: "POST"}))
			}
		case ho.Open() || ho.Phase == flow.PhaseAccepted:
			// Another fetch of the caller's put them in the conference
			// just now: this one only waits.
			return h.waiting(ctx, cfg, c, say, base)
		case ho.Phase == flow.PhasePreparing && time.Since(time.UnixMilli(ho.PrepMS)) < prepareLease:
			if time.Now().After(waitUntil) || ctx.Err() != nil {
				return h.waiting(ctx, cfg, c, say, base)
			}
			time.Sleep(20 * time.Millisecond)
		default:
			// Nothing under way (or a preparation whose replica went quiet):
			// the next try, or the end.
			targets := cfg.HandoffTargets(ho.Dept)
			if ho.NoConference || ho.Try >= len(targets) || ho.Actions+handoffTryCost+lastResortCost > cfg.Dialog.MaxActions {
				return h.end(ctx, cfg, c, base)
			}
			prep := time.Now().UnixMilli()
			next, won, err := h.update(ctx, c.ID, func(s *flow.Call) bool {
				sh := s.Handoff
				if sh == nil || sh.Try != ho.Try || sh.Phase != ho.Phase || sh.PrepMS != ho.PrepMS || s.State == flow.StateEnded {
					return false // another request moved the handoff on
				}
				sh.Phase, sh.PrepMS, sh.Joined = flow.PhasePreparing, prep, false
				return true
			})
			if err != nil {
				h.log.ErrorContext(ctx, "handoff state not saved; connecting the caller plainly", "err", err)
				return h.lastResort(cfg, c, ho.Dept)
			}
			if won {
				if ho.Outcome != "" && ho.Outcome != flow.OutcomeCallerLeft && ho.Phase != flow.PhasePreparing {
					say = []flow.Action{{Kind: flow.ActTalk, Text: cfg.HandoffTextsFor(c.Language).Next, Language: c.Language}}
				}
				h.prepare(ctx, next)
			}
		}
		var err error
		if c, _, err = h.svc.store.Load(ctx, c.ID); err != nil || c.Handoff == nil {
			h.log.ErrorContext(ctx, "handoff state unavailable; connecting the caller plainly", "err", err)
			return h.lastResort(cfg, c, ho.Dept)
		}
	}
}

// waiting answers a caller whose try is still being prepared: the words
// due to them, else a short pause, and a fetch again.
func (h *handoffs) waiting(ctx context.Context, cfg *flow.Routing, c flow.Call, say []flow.Action, base string) []voipbin.Action {
	ho := c.Handoff
	if ho.Actions+waitCost+handoffTryCost+lastResortCost > cfg.Dialog.MaxActions {
		return h.lastResort(cfg, c, ho.Dept) // no room left to wait in
	}
	_, _, err := h.update(ctx, c.ID, func(s *flow.Call) bool {
		if s.Handoff == nil {
			return false
		}
		s.Handoff.Actions += waitCost
		return true
	})
	if err != nil {
		h.log.ErrorContext(ctx, "handoff state not saved; connecting the caller plainly", "err", err)
		return h.lastResort(cfg, c, ho.Dept)
	}
	out := render(say...)
	if len(out) == 0 {
		out = []voipbin.Action{action(voipbin.TypeSleep, voipbin.SleepOption{Duration: waitPause})}
	}
	return append(out, action(voipbin.TypeFetch, voipbin.FetchOption{EventURL: h.callerURL(base, ho.Dept), EventMethod: "POST"}))
}

// end answers a caller nobody more can be tried for: the message offer when
// everyone was tried, else the plain connect to the fallback desk.
func (h *handoffs) end(ctx context.Context, cfg *flow.Routing, c flow.Call, base string) []voipbin.Action {
	ho := c.Handoff
	if ho.Try >= len(cfg.HandoffTargets(ho.Dept)) && ho.Outcome != "" && !ho.NoConference {
		if out, ok := h.unanswered(ctx, c.ID, base); ok {
			return out
		}
	}
	// The caller joins no conference of ours again: nobody waits for them to.
	_, _, _ = h.update(ctx, c.ID, func(s *flow.Call) bool {
		if s.Handoff == nil || s.Handoff.Open() || s.Handoff.Phase == flow.PhaseDone && s.Handoff.Conference == "" {
			return false
		}
		s.Handoff.Phase, s.Handoff.Conference = flow.PhaseDone, ""
		return true
	})
	return h.lastResort(cfg, c, ho.Dept)
}

// prepare makes, beside the fetch, the conference that will hold the caller
// for the try c's handoff has just taken on. The try is then ready (ringing,
// its destination dialled once the caller is sent to the conference), or
// done: NoConference when none could be made. The caller's next look at the
// store finds it so. A try taken over since (its lease ran out) or a caller
// gone leaves nothing behind.
func (h *handoffs) prepare(ctx context.Context, c flow.Call) {
	ho := *c.Handoff
	h.background(ctx, func(ctx context.Context) {
		rctx, cancel := context.WithTimeout(ctx, handoffREST)
		conf, err := h.api.CreateConference(rctx, "switchboard "+c.ID)
		cancel()
		if err != nil {
			h.log.WarnContext(ctx, "handoff: no conference to hold the caller in; connecting them plainly", "dept", ho.Dept, "err", err)
			h.m.transfers.WithLabelValues(ho.Dept, flow.OutcomeFailed).Inc()
		}
		_, won, uerr := h.update(ctx, c.ID, func(s *flow.Call) bool {
			sh := s.Handoff
			if sh == nil || sh.Phase != flow.PhasePreparing || sh.PrepMS != ho.PrepMS || sh.Try != ho.Try || s.State == flow.StateEnded {
				return false // taken over, or the caller left
			}
			if err != nil {
				sh.Phase, sh.Outcome, sh.NoConference = flow.PhaseDone, flow.OutcomeFailed, true
			} else {
				sh.Phase, sh.Conference, sh.Leg, sh.Joined = flow.PhaseRinging, conf.ID, "", false
			}
			return true
		})
		if uerr != nil {
			h.log.ErrorContext(ctx, "handoff try not saved; another fetch takes it over", "err", uerr)
		}
		if err == nil && (uerr != nil || !won) {
			h.cleanup(ctx, conf.ID, "")
		}
	})
}

// dialTry rings the destination of the try whose conference the caller was
// just sent to, beside the fetch that sent them: so nobody takes or turns
// down a caller who is not on their way. A destination that cannot be rung
// ends the try as failed, and the caller goes on.
func (h *handoffs) dialTry(ctx context.Context, c flow.Call, dialled, base string) {
	ho := *c.Handoff
	c.Handoff = &ho
	h.background(ctx, func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, summaryWait+2*handoffREST)
		defer cancel()
		cfg := &h.svc.routing().cfg.Routing
		targets := cfg.HandoffTargets(ho.Dept)
		if ho.Try >= len(targets) {
			return
		}
		t := targets[ho.Try]
		if ho.Try == 0 && ho.Summary == "" && h.svc.routing().model != nil {
			ho.Summary = h.awaitSummary(ctx, c.ID)
		}
		// The caller waits in the conference: whatever fails here, it is
		// deleted, and their next fetch goes on from what the store holds.
		release := func(leg string) {
			if h.settle(ctx, c.ID, "", func(*flow.Handoff) string { return flow.OutcomeFailed }, false, true) != nil {
				h.awaitCaller(ctx, c.ID, ho.Conference)
				h.cleanup(ctx, ho.Conference, "")
			}
			h.cleanup(ctx, "", leg)
		}
		if cur, _, err := h.svc.store.Load(ctx, c.ID); err == nil && (cur.State == flow.StateEnded || cur.Handoff == nil || !cur.Handoff.Open() || cur.Handoff.Conference != ho.Conference) {
			return // the caller left, or the try is over: nobody to ring for
		}
		leg, err := h.dial(ctx, cfg, c, t, ho.Conference, dialled, base)
		if err != nil {
			h.log.WarnContext(ctx, "handoff: destination not rung", "dept", t.Dept, "to", t.To.Target, "err", err)
			release("")
			return
		}
		now := time.Now()
		ring := time.Duration(t.RingSeconds) * h.second
		_, won, err := h.update(ctx, c.ID, func(s *flow.Call) bool {
			sh := s.Handoff
			if sh == nil || !sh.Open() || sh.Conference != ho.Conference || sh.Leg != "" || s.State == flow.StateEnded {
				return false // the try is over (the caller left, the conference went)
			}
			sh.Leg, sh.RangMS, sh.DueMS = leg, now.UnixMilli(), now.Add(ring).UnixMilli()
			if sh.Summary == "" {
				sh.Summary = ho.Summary
			}
			return true
		})
		if err != nil {
			h.log.ErrorContext(ctx, "handoff leg not saved; it is hung up and the caller goes on", "err", err)
			release(leg)
			return
		}
		if !won {
			h.cleanup(ctx, "", leg)
			return
		}
		h.link(ctx, c.ID, leg, ho.Conference)
		h.setTimers(ctx, c.ID, leg, now, ring)
		// The leg's events that came before the link were not ours to
		// read: a leg that already ended is decided now.
		if st, err := h.api.GetCall(ctx, leg); err == nil && st.Status == "hangup" {
			h.settle(ctx, c.ID, leg, func(ho *flow.Handoff) string { return flow.LegOutcome(ho.Phase, st.HangupReason) }, false, true)
		}
	})
}

// unanswered offers a caller whom nobody took a message or a callback,
// when messages are configured (flow Router.Unanswered): the caller goes on
// to leave word rather than to a plain connect that may ring forever. It
// reports false when they are not, or the offer could not be stored.
func (h *handoffs) unanswered(ctx context.Context, callID, base string) ([]voipbin.Action, bool) {
	rt := h.svc.routing()
	var acts []flow.Action
	c, won, err := h.update(ctx, callID, func(c *flow.Call) bool {
		ho := c.Handoff
		if ho == nil || ho.Open() {
			return false
		}
		var ok bool
		if acts, ok = rt.router.Unanswered(c, ho.Dept, ho.Actions); !ok {
			return false
		}
		ho.Phase, ho.Conference = flow.PhaseDone, ""
		return true
	})
	if err != nil {
		h.log.ErrorContext(ctx, "message offer not stored; connecting the caller plainly", "err", err)
	}
	if err != nil || !won {
		return nil, false
	}
	h.m.transfers.WithLabelValues(c.Handoff.Dept, "message").Inc()
	return voipbin.Render(acts, voipbin.FetchURL{Base: base, Token: h.svc.conf.FetchToken}), true
}

// render renders flow actions that need no fetch URL (talk, connect, hangup).
func render(acts ...flow.Action) []voipbin.Action { return voipbin.Render(acts, voipbin.FetchURL{}) }

// action is one VoIPBin action with a fresh id.
func action(typ string, opt any) voipbin.Action {
	return voipbin.Action{ID: uuid.NewString(), Type: typ, Option: opt}
}

// lastResort connects the caller plainly to the fallback desk: nobody took
// the call, or the handoff cannot go on. VoIPBin's connect rings until its
// own dial timeout, so this is where a handoff ends, never where it starts.
func (h *handoffs) lastResort(cfg *flow.Routing, c flow.Call, dept string) []voipbin.Action {
	h.m.transfers.WithLabelValues(dept, "last_resort").Inc()
	return lastResort(cfg, c.Language)
}

// lastResort is the plain connect to the fallback desk, in lang ("": the
// routing table's language).
func lastResort(cfg *flow.Routing, lang string) []voipbin.Action {
	desk := cfg.Fallback.Destination
	d, _ := cfg.Department(desk)
	if lang == "" {
		lang = cfg.Language
	}
	return render(flow.Action{Kind: flow.ActTalk, Text: cfg.TextsFor(lang).Reception, Language: lang},
		flow.Action{Kind: flow.ActConnect, Department: desk, To: d.Destination(), CallerID: cfg.CallerIDFor(d)})
}

// dial rings t for c, whose caller waits in conf, and returns the leg.
func (h *handoffs) dial(ctx context.Context, cfg *flow.Routing, c flow.Call, t flow.HandoffTarget, conf, dialled, base string) (string, error) {
	source := t.CallerID
	if source == "" {
		source = dialled // the number the caller dialled: the account's own
	}
	_, opt := voipbin.Transfer(t.To, source)
	agent := h.agentURL(base, c.ID)
	var acts []voipbin.Action
	if t.Whisper {
		talk := voipbin.Talk(cfg.Whisper(t, c.Handoff.Caller, c.Handoff.Summary, c.Turns), t.Language)
		talk.DigitsHandle = voipbin.DigitsHandleNext // a person who knows the drill presses at once
		acts = []voipbin.Action{
			action(voipbin.TypeTalk, talk),
			action(voipbin.TypeDigitsReceive, voipbin.DigitsReceiveOption{Duration: flow.AcceptSeconds * 1000, Length: 1}),
			action(voipbin.TypeFetch, voipbin.FetchOption{EventURL: agent + "&d=" + voipbin.Var(voipbin.VarDigits), EventMethod: "POST"}),
		}
	} else {
		acts = []voipbin.Action{action(voipbin.TypeFetch, voipbin.FetchOption{EventURL: agent + "&d=" + flow.AcceptKey, EventMethod: "POST"})}
	}
	rctx, cancel := context.WithTimeout(ctx, handoffREST)
	defer cancel()
	leg, err := h.api.Dial(rctx, voipbin.OutgoingCall{
		Source:       *opt.(voipbin.ConnectOption).Source,
		Destinations: opt.(voipbin.ConnectOption).Destinations,
		Actions:      acts,
		Variables:    map[string]string{"switchboard.call_id": c.ID, "switchboard.conference_id": conf},
	})
	if err != nil {
		return "", fmt.Errorf("dial %s: %w", t.To.Target, err)
	}
	return leg.ID, nil
}

// link remembers which call and conference a leg is for, and a caller's
// last leg and conference.
func (h *handoffs) link(ctx context.Context, callID, leg, conf string) {
	for _, l := range [][2]string{{legLink + leg, callID + "|" + conf}, {callerLink + callID, leg + "|" + conf}} {
		if err := retried(ctx, func() error { return h.svc.store.Link(ctx, l[0], l[1]) }); err != nil {
			h.log.WarnContext(ctx, "handoff link not stored", "key", l[0], "err", err)
		}
	}
}

// conclude ends the try under way with outcome; the next fetch of the
// caller rings the next destination.
func (h *handoffs) conclude(ho *flow.Handoff, outcome string) {
	ho.Phase, ho.Outcome = flow.PhaseDone, outcome
	if outcome != flow.OutcomeCallerLeft {
		ho.Try++
	}
}

// count records a decided try; ho is the handoff as it was during the try.
func (h *handoffs) count(ho flow.Handoff, outcome string) {
	dept := ho.Dept
	if ts := h.svc.routing().cfg.Routing.HandoffTargets(ho.Dept); ho.Try < len(ts) {
		dept = ts[ho.Try].Dept // the fallback desk's tries are its own
	}
	h.m.transfers.WithLabelValues(dept, outcome).Inc()
	if ho.RangMS > 0 {
		h.m.ring.WithLabelValues(dept).Observe(time.Since(time.UnixMilli(ho.RangMS)).Seconds())
	}
}

// cleanup hangs up a leg (when leg is set) and deletes a conference (when
// conf is set), trying a few times: a conference left behind holds its
// caller and counts against the account's limit until it is deleted.
func (h *handoffs) cleanup(ctx context.Context, conf, leg string) {
	ctx = context.WithoutCancel(ctx)
	do := func(what, id string, f func(context.Context, string) error) {
		if id == "" {
			return
		}
		wait := 100 * time.Millisecond
		for try := 1; ; try++ {
			rctx, cancel := context.WithTimeout(ctx, handoffREST)
			err := f(rctx, id)
			cancel()
			var api *voipbin.APIError
			if err == nil || errors.As(err, &api) && !api.Retryable() {
				return // done, or refused for good (already over, already deleted)
			}
			if try == cleanupTries {
				h.log.ErrorContext(ctx, "handoff clean-up failed", "what", what, "id", id, "err", err)
				return
			}
			time.Sleep(wait)
			wait *= 2
		}
	}
	do("hang up leg", leg, h.api.Hangup)
	do("delete conference", conf, h.api.DeleteConference)
}

// holdEvery is how often, in seconds of ring time, a caller on hold is
// told the handoff goes on; nothing is said in a try's last holdQuiet
// seconds, which end it anyway.
const (
	holdEvery = 8
	holdQuiet = 4
)

// setTimers keeps the timers of leg's ring time, which began at start:
// a word to the caller on hold every holdEvery seconds, and the end of the
// ring time, when a leg still ringing is given up on.
func (h *handoffs) setTimers(ctx context.Context, callID, leg string, start time.Time, ring time.Duration) {
	var ts []flow.Timer
	for at := holdEvery * h.second; at+holdQuiet*h.second <= ring; at += holdEvery * h.second {
		ts = append(ts, flow.Timer{Call: callID, Leg: leg, Kind: flow.TimerHold, AtMS: start.Add(at).UnixMilli()})
	}
	ts = append(ts, flow.Timer{Call: callID, Leg: leg, Kind: flow.TimerRingEnd, AtMS: start.Add(ring).UnixMilli()})
	for _, t := range ts {
		if err := retried(ctx, func() error { return h.timers.Set(ctx, t) }); err != nil {
			h.log.ErrorContext(ctx, "handoff timer not stored; VoIPBin's own 60 s dial timeout ends the leg", "leg", leg, "kind", t.Kind, "err", err)
		}
	}
}

// retried calls f until it succeeds, a few times over a few seconds: what
// keeps a caller's handoff going outlives a short store outage.
func retried(ctx context.Context, f func() error) error {
	wait := 100 * time.Millisecond
	for try := 1; ; try++ {
		err := f()
		if err == nil || try == 6 || ctx.Err() != nil {
			return err
		}
		time.Sleep(wait)
		wait = min(2*wait, time.Second)
	}
}

// runTimers acts on the timers that come due, whichever replica set them,
// until ctx ends.
func (h *handoffs) runTimers(ctx context.Context) {
	down := false // said once per outage: the timers are looked for four times a second
	claim := func(ctx context.Context) (flow.Timer, bool, error) {
		tm, ok, err := h.timers.Claim(ctx, time.Now(), timerLease)
		if err == nil {
			down = false
		}
		return tm, ok, err
	}
	poll(ctx, min(250*time.Millisecond, max(h.second/4, time.Millisecond)), func(ctx context.Context) {
		drainDue(ctx, claim, func(tm flow.Timer) { h.background(ctx, func(ctx context.Context) { h.fire(ctx, tm) }) },
			func(err error) {
				if !down && ctx.Err() == nil {
					h.log.WarnContext(ctx, "handoff timers: store unreachable; trying again", "err", err)
				}
				down = true
			})
	})
}

// fire acts on a timer that came due, then forgets it.
func (h *handoffs) fire(ctx context.Context, t flow.Timer) {
	ctx, cancel := context.WithTimeout(ctx, timerLease)
	defer cancel()
	switch t.Kind {
	case flow.TimerHold:
		h.hold(ctx, t.Call, t.Leg)
	case flow.TimerRingEnd:
		if err := h.ringEnd(ctx, t); err != nil {
			return // kept: claimed again when its lease runs out
		}
	case flow.TimerMessageEnd:
		if err := h.messageEnd(ctx, t); err != nil {
			return
		}
	case flow.TimerHangUp:
		if err := h.hangUpSilent(ctx, t); err != nil {
			return
		}
	}
	if err := h.timers.Done(ctx, t); err != nil {
		h.log.WarnContext(ctx, "handoff timer not forgotten; it comes again and changes nothing", "err", err)
	}
}

// answeredGrace is how long past its ring time a leg whose person answered
// may take to say yes or no (the whisper and AcceptSeconds for the key).
const answeredGrace = 30

// ringEnd ends leg's try at the end of its ring time when it still rings.
// A person who answered decides with their key, but their answer may have
// been lost (a store outage at their fetch, the leg's hangup event with
// it): a leg that is over then ends the try as its hangup says, and one
// still up after answeredGrace seconds more is hung up as a no.
func (h *handoffs) ringEnd(ctx context.Context, t flow.Timer) error {
	c, _, err := h.svc.store.Load(ctx, t.Call)
	if err != nil {
		return err
	}
	ho := c.Handoff
	if !ho.Open() || ho.Leg != t.Leg {
		return nil // decided already
	}
	if ho.Phase == flow.PhaseRinging {
		return h.settle(ctx, t.Call, t.Leg, func(ho *flow.Handoff) string {
			if ho.Phase != flow.PhaseRinging {
				return "" // answered meanwhile: the whisper and its key decide
			}
			return flow.OutcomeUnanswered
		}, true, true)
	}
	rctx, cancel := context.WithTimeout(ctx, handoffREST)
	st, err := h.api.GetCall(rctx, t.Leg)
	cancel()
	switch {
	case err == nil && st.Status == "hangup":
		return h.settle(ctx, t.Call, t.Leg, func(ho *flow.Handoff) string { return flow.LegOutcome(ho.Phase, st.HangupReason) }, false, true)
	case time.Now().UnixMilli() >= ho.DueMS+answeredGrace*h.second.Milliseconds():
		return h.settle(ctx, t.Call, t.Leg, func(*flow.Handoff) string { return flow.OutcomeDeclined }, true, true)
	}
	again := t
	again.AtMS = time.Now().Add(5 * h.second).UnixMilli()
	return h.timers.Set(ctx, again)
}

// hold says the hold text to the caller while leg still rings, with
// VoIPBin's REST talk, which plays over the caller's conference_join
// without moving their flow on. A talk that fails is logged and counted,
// never more: the caller's call and the handoff go on as before.
func (h *handoffs) hold(ctx context.Context, callID, leg string) {
	c, _, err := h.svc.store.Load(ctx, callID)
	if err != nil || c.State == flow.StateEnded || c.Handoff == nil || c.Handoff.Leg != leg || c.Handoff.Phase != flow.PhaseRinging || !c.Handoff.Joined {
		return // not ringing any more, or the caller is not on hold in its conference
	}
	// A talk to a caller not in the conference yet (their fetch answer is
	// on its way) is refused: wait for them, as a try's end does.
	h.awaitCaller(ctx, callID, c.Handoff.Conference)
	text := h.svc.routing().cfg.Routing.HandoffTextsFor(c.Language).Hold
	rctx, cancel := context.WithTimeout(ctx, handoffREST)
	defer cancel()
	if err := h.api.Talk(rctx, callID, voipbin.Speakable(text), c.Language); err != nil {
		h.log.WarnContext(ctx, "handoff: hold message not played; the caller waits on", "leg", leg, "err", err)
		h.m.holdTalks.WithLabelValues("failed").Inc()
		return
	}
	h.m.holdTalks.WithLabelValues("ok").Inc()
}

// settle decides the try of leg with the outcome decide returns for it
// ("": leave it), then lets the caller go on: hangUp hangs the leg up
// first, and the conference is deleted, which moves the caller to their
// next fetch.
func (h *handoffs) settle(ctx context.Context, callID, leg string, decide func(*flow.Handoff) string, hangUp, await bool) error {
	var done flow.Handoff
	var outcome string
	_, won, err := h.update(ctx, callID, func(c *flow.Call) bool {
		ho := c.Handoff
		if !ho.Open() || ho.Leg != leg {
			return false
		}
		if outcome = decide(ho); outcome == "" {
			return false
		}
		done = *ho
		h.conclude(ho, outcome)
		return true
	})
	if err != nil {
		h.log.ErrorContext(ctx, "handoff try not decided", "leg", leg, "err", err)
		return err
	}
	if !won {
		return nil
	}
	h.count(done, outcome)
	if !hangUp {
		leg = ""
	}
	if await && done.Joined { // a caller never sent to it never comes
		h.awaitCaller(ctx, callID, done.Conference)
	}
	h.cleanup(ctx, done.Conference, leg)
	return nil
}

// joinGrace is how long a conference is kept for a caller who has not
// joined it yet: a leg may end while the fetch answer that puts the caller
// in it is on its way, and a conference_join to a deleted conference hangs
// the caller up.
const joinGrace = 2 * time.Second

// awaitCaller waits, up to joinGrace, until someone is in conf, unless the
// caller's handoff has moved on to another conference (their fetch found
// the try over before they were put in this one).
func (h *handoffs) awaitCaller(ctx context.Context, callID, conf string) {
	deadline := time.Now().Add(joinGrace)
	for time.Now().Before(deadline) {
		rctx, cancel := context.WithTimeout(ctx, handoffREST)
		cf, err := h.api.GetConference(rctx, conf)
		cancel()
		if err != nil || len(cf.ConferencecallIDs) > 0 || cf.Status == "terminating" || cf.Status == "terminated" {
			return
		}
		if c, _, err := h.svc.store.Load(ctx, callID); err != nil || c.Handoff == nil || c.Handoff.Conference != conf {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// agent answers the leg's fetch once its person heard the whisper: the
// accept key joins them to the caller, anything else lets the caller go on.
func (h *handoffs) agent(ctx context.Context, callID, leg, digits string) []voipbin.Action {
	cfg := &h.svc.routing().cfg.Routing
	var conf, lang string
	var c flow.Call
	var won bool
	var err error
	// A person who takes the call at once may fetch before their leg is
	// saved with the try that rang them: wait for it, within the fetch's time.
	for deadline := time.Now().Add(handoffWait); ; time.Sleep(20 * time.Millisecond) {
		c, won, err = h.update(ctx, callID, func(c *flow.Call) bool {
			ho := c.Handoff
			if !ho.Open() || ho.Leg != leg || digits != flow.AcceptKey {
				return false
			}
			ho.Phase, ho.Outcome, conf = flow.PhaseAccepted, flow.OutcomeAnswered, ho.Conference
			return true
		})
		if err != nil || won || c.Handoff == nil || !(c.Handoff.Open() && c.Handoff.Leg == "") || time.Now().After(deadline) {
			break
		}
	}
	if ho := c.Handoff; ho != nil {
		if ts := cfg.HandoffTargets(ho.Dept); ho.Try < len(ts) {
			lang = ts[ho.Try].Language
		}
	}
	if lang == "" {
		lang = cfg.Language
	}
	switch {
	case err != nil:
		h.log.ErrorContext(ctx, "handoff acceptance not stored; the caller goes on", "err", err)
	case won:
		h.count(*c.Handoff, flow.OutcomeAnswered)
		return []voipbin.Action{action(voipbin.TypeConferenceJoin, voipbin.ConferenceJoinOption{ConferenceID: conf})}
	case c.Handoff.Open() && c.Handoff.Leg == leg:
		// A wrong key, or none in time: declined. The leg ends by itself;
		// the caller goes on once they are in the conference (settle).
		h.background(ctx, func(ctx context.Context) {
			h.settle(ctx, callID, leg, func(*flow.Handoff) string { return flow.OutcomeDeclined }, false, true)
		})
		return render(flow.Action{Kind: flow.ActHangup})
	}
	return render(flow.Action{Kind: flow.ActTalk, Text: cfg.HandoffTextsFor(lang).Gone, Language: lang}, flow.Action{Kind: flow.ActHangup})
}

// event takes a call event that concerns a handoff: a leg that was answered
// or hung up, or a caller who hung up while handed over. It reports whether
// the event was a leg's, which is nobody's caller event.
func (h *handoffs) event(ctx context.Context, typ string, e voipbin.CallEvent) bool {
	if h == nil || e.ID == "" {
		return false
	}
	link, err := h.svc.store.Resolve(ctx, legLink+e.ID)
	if err == nil {
		callID, conf, _ := strings.Cut(link, "|")
		h.legEvent(ctx, typ, e, callID, conf)
		return true
	}
	if typ == voipbin.EventCallHangup {
		h.callerHungUp(ctx, e.ID)
	}
	return false
}

func (h *handoffs) legEvent(ctx context.Context, typ string, e voipbin.CallEvent, callID, conf string) {
	if typ == voipbin.EventCallProgressing {
		_, _, err := h.update(ctx, callID, func(c *flow.Call) bool {
			ho := c.Handoff
			if ho == nil || ho.Leg != e.ID || ho.Phase != flow.PhaseRinging {
				return false
			}
			ho.Phase = flow.PhaseAnswered
			return true
		})
		if err != nil {
			h.log.WarnContext(ctx, "handoff: answer not stored; the ring timer may still end the leg", "err", err)
		}
		return
	}
	// call_hangup: a try that ends, or a conversation that ended.
	var ended bool
	var gave flow.Handoff // a try the person took and left before the caller came
	c, _, err := h.update(ctx, callID, func(c *flow.Call) bool {
		ho := c.Handoff
		if ho == nil || ho.Leg != e.ID || ho.Phase != flow.PhaseAccepted {
			return false
		}
		if !ho.Joined {
			gave = *ho
			h.conclude(ho, flow.OutcomeDeclined)
			return true
		}
		ho.Phase, ended = flow.PhaseDone, true
		return true
	})
	switch {
	case err != nil:
		h.log.WarnContext(ctx, "handoff: leg hangup not stored", "err", err)
	case gave.Leg != "":
		// The caller was never sent to them: they go on, to the next destination.
		h.count(gave, flow.OutcomeDeclined)
		h.cleanup(ctx, conf, "")
	case ended, c.Handoff == nil:
		// The person hung up after talking (or the call's record is gone):
		// the conference is over.
		h.cleanup(ctx, conf, "")
	default:
		h.settle(ctx, callID, e.ID, func(ho *flow.Handoff) string { return flow.LegOutcome(ho.Phase, e.HangupReason) }, false, true)
	}
}

// callerHungUp ends the handoff of a caller who hung up: the leg still
// ringing is hung up, and the conference deleted.
func (h *handoffs) callerHungUp(ctx context.Context, callID string) {
	// The link outlives the call's record; a try whose leg is still being
	// dialled has none yet, and its record says what there is.
	var leg, conf string
	link, err := h.svc.store.Resolve(ctx, callerLink+callID)
	if err == nil {
		leg, conf, _ = strings.Cut(link, "|")
	}
	var was flow.Handoff
	c, changed, err := h.update(ctx, callID, func(c *flow.Call) bool {
		ho := c.Handoff
		if ho == nil || ho.Phase == flow.PhaseDone || ho.Phase == "" {
			return false
		}
		was = *ho
		if ho.Conference != "" {
			leg, conf = ho.Leg, ho.Conference
		}
		if ho.Open() {
			h.conclude(ho, flow.OutcomeCallerLeft)
		} else {
			ho.Phase = flow.PhaseDone
		}
		return true
	})
	switch {
	case err != nil:
		h.log.WarnContext(ctx, "handoff: caller hangup not stored; cleaning up anyway", "err", err)
	case changed && was.Open():
		h.count(was, flow.OutcomeCallerLeft)
	case changed, c.Handoff == nil:
		leg = "" // a conversation that ended: the leg ends with its conference
	default:
		return // the handoff was over already
	}
	h.cleanup(ctx, conf, leg)
}

// handoffEvent reports whether events of type typ may concern a handoff.
func handoffEvent(typ string) bool {
	return typ == voipbin.EventCallHangup || typ == voipbin.EventCallProgressing
}

// summaryBudget bounds the model's one-line summary of a call being handed
// over: it is asked for when the call is routed, while the caller hears
// where they are going, and a whisper that comes before it uses the
// caller's own words.
const summaryBudget = 2 * time.Second

// Observe implements flow.Observer: a call just routed, with a model
// configured, gets the model's one-line summary of why the caller is
// calling, kept with its handoff for the whisper; so does a call routed
// again on a correction, whose summary then takes in their new line.
func (h *handoffs) Observe(ctx context.Context, r flow.Report) {
	if h == nil {
		return
	}
	rt := h.svc.routing()
	corrected := r.Before.Ready != nil && len(r.After.Turns) > len(r.Before.Turns)
	if rt.model == nil || r.Failed != "" || r.After.State != flow.StateTransferred || r.Before.Over() && !corrected || len(r.After.Turns) == 0 {
		return
	}
	ts := rt.cfg.Routing.HandoffTargets(r.After.Department)
	if len(ts) == 0 {
		return
	}
	callID, turns, lang := r.After.ID, r.After.Turns, ts[0].Language
	h.background(ctx, func(ctx context.Context) {
		sctx, cancel := context.WithTimeout(ctx, summaryBudget)
		defer cancel()
		summary, err := rt.model.Summarize(sctx, lang, turns)
		if summary = flow.Gist([]string{summary}); err != nil || summary == "" {
			h.log.InfoContext(ctx, "no summary for the whisper; it repeats the caller's words", "err", err)
			return
		}
		_, _, err = h.update(sctx, callID, func(c *flow.Call) bool {
			if len(c.Turns) != len(turns) {
				return false // a correction came since: its own summary is on the way
			}
			if c.Handoff == nil {
				c.Handoff = &flow.Handoff{}
			}
			c.Handoff.Summary = summary
			return true
		})
		if err != nil {
			h.log.WarnContext(ctx, "summary for the whisper not stored", "err", err)
		}
	})
}
