package main

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

// Bounds on stopping transcriptions: a stop is tried a few times over a few
// seconds, and only so many run at once; one beyond is dropped and counted.
const (
	stopAttempts   = 4
	stopFirstWait  = 500 * time.Millisecond
	stopTimeout    = 5 * time.Second // each attempt
	stopsInFlight  = 64
	unlinkDeadline = 500 * time.Millisecond
)

// leaving sees every turn and acts on those that end our part of a call.
type leaving struct {
	events *flow.Events
	api    *voipbin.Client // nil: no access key, nothing is stopped
	log    *slog.Logger
	stops  *prometheus.CounterVec
	slots  chan struct{}
	wg     sync.WaitGroup
	// firstWait is the wait before the second attempt; it doubles after.
	firstWait time.Duration
}

func newLeaving(events *flow.Events, api *voipbin.Client, log *slog.Logger, stops *prometheus.CounterVec) *leaving {
	return &leaving{events: events, api: api, log: log, stops: stops, slots: make(chan struct{}, stopsInFlight), firstWait: stopFirstWait}
}

// Observe implements flow.Observer: a call that just left us (transferred,
// handed back, hung up) has its transcriptions unlinked, and, but for a
// caller who hung up (VoIPBin stops those itself), stopped.
func (l *leaving) Observe(ctx context.Context, r flow.Report) {
	a := r.After
	if !r.Left() || len(a.Transcribes) == 0 {
		return
	}
	// The fetch may have spent its budget: unlinking gets its own, short one.
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlinkDeadline)
	defer cancel()
	if err := l.events.Left(uctx, a); err != nil {
		l.log.WarnContext(ctx, "could not unlink a call's transcriptions; words heard after it left may reach its inbox", "call", a.ID, "err", err)
	}
	if l.api == nil || a.State == flow.StateEnded {
		return
	}
	for _, id := range a.Transcribes {
		select {
		case l.slots <- struct{}{}:
		default:
			l.stops.WithLabelValues("dropped").Inc()
			l.log.WarnContext(ctx, "too many transcription stops in flight; not stopping this one", "call", a.ID, "transcribe", id)
			continue
		}
		l.wg.Add(1)
		go func() {
			defer func() { <-l.slots; l.wg.Done() }()
			l.stop(context.WithoutCancel(ctx), a.ID, id)
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
			return
		}
		if errors.As(err, &apiErr) && !apiErr.Retryable() || attempt == stopAttempts {
			break
		}
		time.Sleep(wait)
		wait *= 2
	}
	l.stops.WithLabelValues("failed").Inc()
	l.log.WarnContext(ctx, "could not stop a transcription; VoIPBin keeps transcribing the call until it ends", "call", callID, "transcribe", id, "err", err)
}

// wait waits for the stops in flight, or for ctx.
func (l *leaving) wait(ctx context.Context) {
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
