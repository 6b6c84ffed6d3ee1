package service

// The handoff: with VoIPBin's REST API configured, a routed caller is not
// connected blind. They wait in a conference of their own while the
// department's destinations are rung one by one through POST /v1.0/calls,
// each for its ring time; whoever answers hears who is calling and why and
// takes the call with a key, which joins them to the caller's conference.
// Whoever does not answer, is busy, fails or declines passes the caller on:
// the conference is deleted, VoIPBin moves the caller on to the fetch after
// their conference_join, and that fetch rings the next destination. The
// state lives with the call in the store, so any replica takes any event or
// fetch; only the ring timer lives in the process that rang, and VoIPBin's
// own 60 s dial timeout ends a leg whose timer died with its process.
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
	handoffREST     = 1500 * time.Millisecond // one REST call inside a fetch
	handoffCASTries = 4
	// handoffFetchBudget bounds the tries one fetch makes when destinations
	// refuse at once: VoIPBin waits about 3 s for the answer.
	handoffFetchBudget = 1800 * time.Millisecond
	cleanupTries       = 4
)

// Link prefixes: a leg names the caller's call and its conference, a
// caller's call its last leg and conference, for as long as links last
// (a conversation may outlive the call's own record).
const (
	legLink    = "leg:"
	callerLink = "handoff:"
)

// handoffs runs handoffs for the service.
type handoffs struct {
	svc *Service
	api *voipbin.Client
	log *slog.Logger
	// second is how long a second of ring time lasts: a second, shorter
	// in tests and in simulate, which play calls on their own clock.
	second time.Duration
	wg     sync.WaitGroup // ring timers and clean-ups in flight
	m      handoffMetrics
}

type handoffMetrics struct {
	transfers *prometheus.CounterVec
	ring      *prometheus.HistogramVec
	holdTalks *prometheus.CounterVec
}

func newHandoffs(svc *Service, api *voipbin.Client) *handoffs {
	return &handoffs{svc: svc, api: api, log: svc.log, second: cmp.Or(svc.conf.RingSecond, time.Second),
		m: handoffMetrics{transfers: svc.metrics.transfers, ring: svc.metrics.transferRing,
			holdTalks: svc.metrics.holdTalks}}
}

// Wait waits for the ring timers and clean-ups in flight.
func (h *handoffs) Wait() { h.wg.Wait() }

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

// queueWaitEnded reports whether the fetch after a queue_join, at now, ends
// a wait (the queue's wait_timeout took the caller out, within the
// department's longest wait) rather than a conversation with the queue's
// agent, which lasts past it. VoIPBin's flow goes on after the queue_join
// either way, and says nothing of which it was.
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
			if ms == 0 || !queueWaitEnded(cfg, dept, time.UnixMilli(ms), time.Now()) {
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
		ctx, cancel := context.WithTimeout(r.Context(), handoffFetchBudget)
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
// routed them or after their wait in a queue ended (queued), and each after
// their conference was deleted.
func (h *handoffs) caller(ctx context.Context, callID, dept, from, dialled, base string, queued int) []voipbin.Action {
	cfg := &h.svc.routing().cfg.Routing
	var act func() []voipbin.Action
	var fresh bool
	c, _, err := h.update(ctx, callID, func(c *flow.Call) bool {
		act, fresh = nil, false
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
			fresh = true
			if _, ok := cfg.Department(dept); !ok {
				c.Handoff.Dept = cfg.Fallback.Destination
			}
			return true
		case ho.Phase == flow.PhaseAccepted:
			// The person hung up and VoIPBin's bridge let the caller go.
			ho.Phase = flow.PhaseDone
			conf := ho.Conference
			act = func() []voipbin.Action {
				h.cleanup(ctx, conf, "")
				return render(flow.Action{Kind: flow.ActHangup})
			}
			return true
		case ho.Open():
			// Back before the try was decided: its conference went (a
			// timeout, an operator). The try counts as not answered.
			was := *ho
			h.conclude(ho, flow.OutcomeUnanswered)
			act = func() []voipbin.Action {
				h.count(was, flow.OutcomeUnanswered)
				leg, conf := was.Leg, was.Conference
				h.cleanup(ctx, conf, leg)
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
	if fresh && c.Handoff.Summary == "" && h.svc.routing().model != nil {
		c.Handoff.Summary = h.awaitSummary(ctx, callID)
	}
	return h.next(ctx, cfg, c, dialled, base)
}

// summaryWait is how long the first handoff fetch waits for the model's
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

// next rings the next destination that takes the call, and answers what the
// caller does meanwhile; with nobody left, or no room left in the call's
// action budget, the caller is connected plainly to the fallback desk.
func (h *handoffs) next(ctx context.Context, cfg *flow.Routing, c flow.Call, dialled, base string) []voipbin.Action {
	ho := c.Handoff
	if ho.Phase == flow.PhaseDone && (ho.Outcome == flow.OutcomeAnswered || ho.Outcome == flow.OutcomeCallerLeft) {
		return render(flow.Action{Kind: flow.ActHangup}) // the conversation is over, or the caller left
	}
	targets := cfg.HandoffTargets(ho.Dept)
	var say []flow.Action
	if ho.Outcome != "" && ho.Outcome != flow.OutcomeCallerLeft {
		say = []flow.Action{{Kind: flow.ActTalk, Text: cfg.HandoffTextsFor(c.Language).Next, Language: c.Language}}
	}
	for ho.Try < len(targets) && ho.Actions+handoffTryCost+lastResortCost <= cfg.Dialog.MaxActions {
		if ctx.Err() != nil {
			break // the fetch's time is spent: the fallback desk, plainly
		}
		t := targets[ho.Try]
		conf, leg, err := h.ring(ctx, cfg, c, t, dialled, base)
		if err != nil {
			h.log.WarnContext(ctx, "handoff: destination not rung", "dept", t.Dept, "to", t.To.Target, "err", err)
			if conf == "" {
				h.m.transfers.WithLabelValues(t.Dept, flow.OutcomeFailed).Inc()
				break // no conference to hold the caller in: nothing more to try
			}
			ho.Try++
			ho.Outcome = flow.OutcomeFailed
			h.m.transfers.WithLabelValues(t.Dept, flow.OutcomeFailed).Inc()
			continue
		}
		now := time.Now()
		ring := time.Duration(t.RingSeconds) * h.second
		_, won, err := h.update(ctx, c.ID, func(s *flow.Call) bool {
			if s.Handoff == nil || s.Handoff.Try != ho.Try || s.Handoff.Open() || s.State == flow.StateEnded {
				return false // another request moved the handoff on, or the caller left
			}
			next := *ho
			next.Phase, next.Conference, next.Leg = flow.PhaseRinging, conf, leg
			next.RangMS, next.DueMS = now.UnixMilli(), now.Add(ring).UnixMilli()
			next.Actions += handoffTryCost
			s.Handoff = &next
			return true
		})
		if err != nil || !won {
			h.cleanup(context.WithoutCancel(ctx), conf, leg)
			if err != nil {
				h.log.ErrorContext(ctx, "handoff state not saved; connecting the caller plainly", "err", err)
				return h.lastResort(cfg, c, ho.Dept)
			}
			return render(flow.Action{Kind: flow.ActHangup}) // the caller is gone
		}
		h.link(ctx, c.ID, leg, conf)
		h.timer(c.ID, leg, ring)
		// The leg's events that came before the link were not ours to
		// read: a leg that already ended is decided now, before the
		// caller is put in its conference.
		if st, err := h.api.GetCall(ctx, leg); err == nil && st.Status == "hangup" {
			h.settle(ctx, c.ID, leg, func(ho *flow.Handoff) string { return flow.LegOutcome(ho.Phase, st.HangupReason) }, false, false)
		}
		// (A try already accepted goes on: the person is waiting in the conference.)
		if cur, _, err := h.svc.store.Load(ctx, c.ID); err == nil && cur.Handoff != nil && cur.Handoff.Leg == leg && cur.Handoff.Phase == flow.PhaseDone {
			c, ho = cur, cur.Handoff
			if ho.Outcome == flow.OutcomeCallerLeft || ho.Outcome == flow.OutcomeAnswered {
				return render(flow.Action{Kind: flow.ActHangup})
			}
			say = []flow.Action{{Kind: flow.ActTalk, Text: cfg.HandoffTextsFor(c.Language).Next, Language: c.Language}}
			continue
		}
		return append(render(say...),
			action(voipbin.TypeConferenceJoin, voipbin.ConferenceJoinOption{ConferenceID: conf}),
			action(voipbin.TypeFetch, voipbin.FetchOption{EventURL: h.callerURL(base, ho.Dept), EventMethod: "POST"}))
	}
	if ho.Try >= len(targets) && ho.Outcome != "" {
		if out, ok := h.unanswered(ctx, c.ID, base); ok {
			return out
		}
	}
	// The caller joins no conference of ours again: nobody waits for them to.
	_, _, _ = h.update(ctx, c.ID, func(s *flow.Call) bool {
		if s.Handoff == nil || s.Handoff.Open() || s.Handoff.Conference == "" {
			return false
		}
		s.Handoff.Phase, s.Handoff.Conference = flow.PhaseDone, ""
		return true
	})
	return h.lastResort(cfg, c, ho.Dept)
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

// ring creates the conference that will hold the caller and rings t. It
// returns the conference ("" when none could be created) and the leg.
func (h *handoffs) ring(ctx context.Context, cfg *flow.Routing, c flow.Call, t flow.HandoffTarget, dialled, base string) (string, string, error) {
	rctx, cancel := context.WithTimeout(ctx, handoffREST)
	defer cancel()
	conf, err := h.api.CreateConference(rctx, "switchboard "+c.ID)
	if err != nil {
		return "", "", fmt.Errorf("create conference: %w", err)
	}
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
	rctx2, cancel2 := context.WithTimeout(ctx, handoffREST)
	defer cancel2()
	leg, err := h.api.Dial(rctx2, voipbin.OutgoingCall{
		Source:       *opt.(voipbin.ConnectOption).Source,
		Destinations: opt.(voipbin.ConnectOption).Destinations,
		Actions:      acts,
		Variables:    map[string]string{"switchboard.call_id": c.ID, "switchboard.conference_id": conf.ID},
	})
	if err != nil {
		h.cleanup(context.WithoutCancel(ctx), conf.ID, "")
		return conf.ID, "", fmt.Errorf("dial %s: %w", t.To.Target, err)
	}
	return conf.ID, leg.ID, nil
}

// link remembers which call and conference a leg is for, and a caller's
// last leg and conference.
func (h *handoffs) link(ctx context.Context, callID, leg, conf string) {
	for _, l := range [][2]string{{legLink + leg, callID + "|" + conf}, {callerLink + callID, leg + "|" + conf}} {
		if err := h.svc.store.Link(ctx, l[0], l[1]); err != nil {
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

// timer tells the caller on hold, every holdEvery seconds, that the
// handoff goes on, then gives up on a leg that still rings after its ring
// time. One goroutine does both, so the last word is said before the try
// ends and the caller leaves the conference.
func (h *handoffs) timer(callID, leg string, ring time.Duration) {
	h.wg.Add(1)
	start := time.Now()
	go func() {
		defer h.wg.Done()
		for at := holdEvery * h.second; at+holdQuiet*h.second <= ring; at += holdEvery * h.second {
			time.Sleep(time.Until(start.Add(at)))
			if !h.hold(callID, leg) {
				break
			}
		}
		time.Sleep(time.Until(start.Add(ring)))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.settle(ctx, callID, leg, func(ho *flow.Handoff) string {
			if ho.Phase != flow.PhaseRinging {
				return "" // answered: the whisper and its key decide
			}
			return flow.OutcomeUnanswered
		}, true, true)
	}()
}

// hold says the hold text to the caller while leg still rings, with
// VoIPBin's REST talk, which plays over the caller's conference_join
// without moving their flow on. It reports false once leg no longer rings.
// A talk that fails is logged and counted, never more: the caller's call
// and the handoff go on as before.
func (h *handoffs) hold(callID, leg string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), handoffREST)
	defer cancel()
	c, _, err := h.svc.store.Load(ctx, callID)
	if err != nil || c.State == flow.StateEnded || c.Handoff == nil || c.Handoff.Leg != leg || c.Handoff.Phase != flow.PhaseRinging {
		return false
	}
	// A talk to a caller not in the conference yet (their fetch answer is
	// on its way) is refused: wait for them, as a try's end does.
	h.awaitCaller(ctx, callID, c.Handoff.Conference)
	text := h.svc.routing().cfg.Routing.HandoffTextsFor(c.Language).Hold
	if err := h.api.Talk(ctx, callID, voipbin.Speakable(text), c.Language); err != nil {
		h.log.WarnContext(ctx, "handoff: hold message not played; the caller waits on", "leg", leg, "err", err)
		h.m.holdTalks.WithLabelValues("failed").Inc()
		return true
	}
	h.m.holdTalks.WithLabelValues("ok").Inc()
	return true
}

// settle decides the try of leg with the outcome decide returns for it
// ("": leave it), then lets the caller go on: hangUp hangs the leg up
// first, and the conference is deleted, which moves the caller to their
// next fetch.
func (h *handoffs) settle(ctx context.Context, callID, leg string, decide func(*flow.Handoff) string, hangUp, await bool) {
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
		return
	}
	if !won {
		return
	}
	h.count(done, outcome)
	if !hangUp {
		leg = ""
	}
	if await {
		h.awaitCaller(ctx, callID, done.Conference)
	}
	h.cleanup(ctx, done.Conference, leg)
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
	c, won, err := h.update(ctx, callID, func(c *flow.Call) bool {
		ho := c.Handoff
		if !ho.Open() || ho.Leg != leg || digits != flow.AcceptKey {
			return false
		}
		ho.Phase, ho.Outcome, conf = flow.PhaseAccepted, flow.OutcomeAnswered, ho.Conference
		return true
	})
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
		// A wrong key, or none in time: declined. The leg ends by itself.
		h.settle(ctx, callID, leg, func(*flow.Handoff) string { return flow.OutcomeDeclined }, false, true)
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
	c, _, err := h.update(ctx, callID, func(c *flow.Call) bool {
		ho := c.Handoff
		if ho == nil || ho.Leg != e.ID || ho.Phase != flow.PhaseAccepted {
			return false
		}
		ho.Phase, ended = flow.PhaseDone, true
		return true
	})
	switch {
	case err != nil:
		h.log.WarnContext(ctx, "handoff: leg hangup not stored", "err", err)
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
	link, err := h.svc.store.Resolve(ctx, callerLink+callID)
	if err != nil {
		return // never handed over
	}
	leg, conf, _ := strings.Cut(link, "|")
	var was flow.Handoff
	c, changed, err := h.update(ctx, callID, func(c *flow.Call) bool {
		ho := c.Handoff
		if ho == nil || ho.Phase == flow.PhaseDone {
			return false
		}
		was = *ho
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
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), summaryBudget)
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
	}()
}
