package service

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/flow"
)

// A call's transcriptions run on after it leaves us: VoIPBin implements no
// transcribe_stop action, so it would transcribe (and bill, and send us) the
// caller's whole talk with the agent. When a call leaves us, leaving unlinks
// its transcriptions at once (what they hear is no longer kept) and, with an
// access key, stops them through VoIPBin's REST API in the background.
//
// A call leaves us by the fetch that answers its transfer (or hangup). Most
// such fetches saved the call first, and the store says it has left
// (flow.Call.Left): it takes no more words. A fetch that failed over to the
// fallback desk (the store down or frozen, a bug) saved nothing: leaving then
// stores the call's leaving itself (flow.Router.Leave), at once and again
// while the store does not answer, for up to leaveRetryFor; meanwhile this
// process takes every event for that call as for a call that has left
// (flow.Events.Leaving). Another replica learns of it when the store does,
// within leaveMaxWait of the store answering again.
//
// Why this runs as a turn observer and not inside flow's save: the rule
// that protects the caller is flow's and the store's already: the save that
// ends the call marks it left (flow.Call.Left), and from then on the store
// refuses its inbox (flow.ErrLeft), so nothing it hears is kept or decides
// anything. What is done here is the follow-up that needs the service's
// parts: the unlink (flow.Events.Left, so that events stop resolving to the
// call; bounded by unlinkDeadline on the request), the retries when the
// store is down, and the stop through VoIPBin's REST API. The failover path,
// whose turn saved nothing, can only be seen here (flow.Report.Failed).

// Bounds on stopping transcriptions: a stop is tried a few times over a few
// seconds, and only so many run at once; one beyond is dropped and counted.
const (
	stopAttempts   = 4
	stopFirstWait  = 500 * time.Millisecond
	stopTimeout    = 5 * time.Second // each attempt
	stopsInFlight  = 64
	unlinkDeadline = 500 * time.Millisecond
)

// Bounds on storing that a call left us while the store does not answer:
// each try has leaveTimeout, the waits between tries double from
// leaveFirstWait to leaveMaxWait, and a call is given up after leaveRetryFor
// (a live call's keys expire after 30 minutes without a write anyway). At
// most maxLeaving calls wait at once; one beyond is logged and dropped.
const (
	leaveTimeout   = time.Second
	leaveFirstWait = 50 * time.Millisecond
	leaveMaxWait   = 500 * time.Millisecond
	leaveRetryFor  = 30 * time.Minute
	maxLeaving     = 10000
)

// leaving sees every turn and acts on those that end our part of a call.
type leaving struct {
	events *flow.Events
	api    *voipbin.Client // nil: no access key, nothing is stopped
	log    *slog.Logger
	stops  *prometheus.CounterVec
	// apiErrors counts the REST API's failures by kind (voipbin.ErrorKind).
	apiErrors *prometheus.CounterVec
	slots     chan struct{}
	wg        sync.WaitGroup
	// firstWait is the wait before a stop's second attempt; it doubles after.
	firstWait time.Duration
	// leave stores that a call left us (flow.Router.Leave of the routing in use).
	leave func(ctx context.Context, id, why string) (flow.Call, error)
	// pending are the calls that left us that the store has not been told
	// of yet; done stops their retries when the service closes.
	mu      sync.Mutex
	pending map[string]struct{}
	done    chan struct{}
	closing sync.Once
	// said holds the kinds of API failure logged at ERROR since the last
	// stop that went through: a revoked key is said loudly once, not on
	// every call.
	said sync.Map
}

func newLeaving(events *flow.Events, api *voipbin.Client, log *slog.Logger, m *metrics,
	leave func(ctx context.Context, id, why string) (flow.Call, error)) *leaving {
	l := &leaving{events: events, api: api, log: log, stops: m.transcribeStops, apiErrors: m.voipbinErrors,
		slots: make(chan struct{}, stopsInFlight), firstWait: stopFirstWait, leave: leave,
		pending: map[string]struct{}{}, done: make(chan struct{})}
	events.Leaving = l.isPending
	return l
}

// Observe implements flow.Observer: a call that just left us (transferred,
// handed back, hung up) has its transcriptions unlinked, and, but for a
// caller who hung up (VoIPBin stops those itself), stopped. A turn that
// failed over to the fallback desk left the store unaware: it is told.
func (l *leaving) Observe(ctx context.Context, r flow.Report) {
	a := r.After
	if r.Failed != "" {
		if a.ID != "" {
			l.settle(ctx, a.ID, r.Failed)
		}
		return
	}
	if !r.Left() || len(a.Transcribes) == 0 {
		return
	}
	// The fetch may have spent its budget: unlinking gets its own, short one.
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlinkDeadline)
	defer cancel()
	if err := l.events.Left(uctx, a); err != nil {
		l.log.WarnContext(ctx, "could not unlink a call's transcriptions yet; trying again", "call", a.ID, "err", err)
		l.settle(ctx, a.ID, "")
	}
	l.stopAll(ctx, a)
}

// isPending reports whether call id left us and the store is not told yet.
func (l *leaving) isPending(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.pending[id]
	return ok
}

// settle stores, in the background, that call id left us (why: the failure
// that sent it to the fallback desk; "": it was saved as left, only its
// unlinking failed), unlinks its transcriptions and, after a failover,
// stops them. Until that is done the call is pending here.
func (l *leaving) settle(ctx context.Context, id, why string) {
	l.mu.Lock()
	_, already := l.pending[id]
	full := len(l.pending) >= maxLeaving
	if !already && !full {
		l.pending[id] = struct{}{}
	}
	l.mu.Unlock()
	if already {
		return
	}
	if full {
		l.log.ErrorContext(ctx, "too many calls wait for the store to learn they left us; this one's late words may be kept", "call", id)
		return
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer func() {
			l.mu.Lock()
			delete(l.pending, id)
			l.mu.Unlock()
		}()
		base := context.WithoutCancel(ctx)
		wait, giveUp := leaveFirstWait, time.Now().Add(leaveRetryFor)
		for {
			c, err := l.trySettle(base, id, why)
			if err == nil {
				if why != "" {
					l.stopAll(base, c)
				}
				return
			}
			if time.Now().After(giveUp) {
				l.log.ErrorContext(base, "gave up telling the store a call left us", "call", id, "err", err)
				return
			}
			select {
			case <-l.done:
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, leaveMaxWait)
		}
	}()
}

func (l *leaving) trySettle(ctx context.Context, id, why string) (flow.Call, error) {
	ctx, cancel := context.WithTimeout(ctx, leaveTimeout)
	defer cancel()
	c, err := l.leave(ctx, id, why)
	if err != nil {
		return c, err
	}
	return c, l.events.Left(ctx, c)
}

// stopAll stops, in the background, the transcriptions of a call that left
// us, unless the caller hung up (VoIPBin stops those itself) or there is no
// access key.
func (l *leaving) stopAll(ctx context.Context, c flow.Call) {
	if l.api == nil || c.State == flow.StateEnded {
		return
	}
	for _, id := range c.Transcribes {
		select {
		case l.slots <- struct{}{}:
		default:
			l.stops.WithLabelValues("dropped").Inc()
			l.log.WarnContext(ctx, "too many transcription stops in flight; not stopping this one", "call", c.ID, "transcribe", id)
			continue
		}
		l.wg.Add(1)
		go func() {
			defer func() { <-l.slots; l.wg.Done() }()
			l.stop(context.WithoutCancel(ctx), c.ID, id)
		}()
	}
}

// stop stops one transcription, trying again after a connection error or a
// 5xx, with a doubling wait; a 4xx is not tried again.
func (l *leaving) stop(ctx context.Context, callID, id string) {
	wait := l.firstWait
	var err error
	for attempt := 1; attempt <= stopAttempts; attempt++ {
		actx, cancel := context.WithTimeout(ctx, stopTimeout)
		err = l.api.StopTranscribe(actx, id)
		cancel()
		var apiErr *voipbin.APIError
		if err == nil {
			l.stops.WithLabelValues("ok").Inc()
			l.said.Clear() // working again: the next failure is news, and said loudly
			return
		}
		if errors.As(err, &apiErr) && !apiErr.Retryable() || attempt == stopAttempts {
			break
		}
		time.Sleep(wait)
		wait *= 2
	}
	l.stops.WithLabelValues("failed").Inc()
	kind := voipbin.ErrorKind(err)
	l.apiErrors.WithLabelValues(kind).Inc()
	msg := "could not stop a transcription; VoIPBin keeps transcribing the call until it ends"
	if kind == "unauthorized" {
		msg = "VoIPBin refused VOIPBIN_ACCESSKEY (revoked, expired or without permission): transcriptions of transferred calls are not stopped, and VoIPBin transcribes and bills the callers' talk with the agents; replace the key (switchboard provision --check tests it)"
	}
	level := slog.LevelWarn
	if _, said := l.said.LoadOrStore(kind, true); !said {
		level = slog.LevelError // the first of its kind is said loudly; the metric counts every one
	}
	l.log.Log(ctx, level, msg, "kind", kind, "call", callID, "transcribe", id, "err", err)
}

// wait waits for the stops and the leavings in flight, or for ctx.
func (l *leaving) wait(ctx context.Context) {
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// close stops the retries of leavings the store has not been told of.
func (l *leaving) close() { l.closing.Do(func() { close(l.done) }) }
