package main

// The service: its parts, built once from the settings (build), the routing
// config in use (reloaded whole, reload.go), its routes (routes.go) and
// handlers (voipbin.go, webhook.go, handoff.go, callbacks.go, messages.go).

import (
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/prompts"
	"github.com/switchboard/switchboard/store"
)

// service is the running service's parts, built once in build and shared by
// every request.
type service struct {
	settings settings
	store    backend
	// events takes VoIPBin's events; it counts caller lines dropped from full
	// call inboxes (flow.MaxInbox): a flood, or fetches that stopped coming.
	events  *flow.Events
	log     *slog.Logger
	metrics *metrics
	close   func() error
	// modelHTTP reaches the model: one transport for the process, so that the
	// classifier a reload builds reuses the connections of the one before.
	modelHTTP *http.Client
	// current is the routing in use; a reload swaps it whole, so a turn sees
	// one config from start to end and the next turn sees the new one.
	current atomic.Pointer[routing]
	// reloadMu serialises reloads; configSum is the hash of the config file
	// last read, so an unchanged file is not reloaded.
	reloadMu  sync.Mutex
	configSum [sha256.Size]byte
	// configGone is set while the config file cannot be read: said once,
	// not on every check, until it can be read again.
	configGone bool
	// storeDown remembers the last readiness answer, so an outage is logged
	// when it starts and ends, not on every probe.
	storeDown atomic.Bool
	// eventPatience bounds how long an event keeps trying to reach the store.
	eventPatience time.Duration
	// clock is what calls start at by, for opening hours (settings.At); nil: now.
	clock func() time.Time
	// leaving unlinks and stops the transcriptions of calls that left us.
	leaving *leaving
	// handoff hands routed callers over through conferences; nil without
	// VoIPBin's REST API, when a transfer is a plain connect.
	handoff *handoffs
	// outbox keeps the messages callers leave; sender tells the business
	// (messages.go); callbacks keeps the callbacks they ask for, dialler
	// dials them (callbacks.go).
	outbox    flow.Outbox
	sender    *sender
	callbacks flow.Callbacks
	dialler   *dialler
	callers   flow.Callers
	// observers see every turn: the metrics, leaving and handoffs, and
	// whatever addObserver adds.
	observers observers
}

// backend is a store as the service uses it: the flow's two views of it, and
// a reachability check for /readyz. (storetest.Store is the same set, for
// the stores' conformance suite: test code the binary does not link.)
type backend interface {
	flow.Calls
	flow.Inbox
	// Ping reports whether the store can be reached.
	Ping(ctx context.Context) error
}

// routing is one routing config with what is built from it.
type routing struct {
	cfg    *flow.Config
	router *flow.Router
	model  *prompts.Classifier // nil without a model
}

// routing returns the routing in use now.
func (svc *service) routing() *routing { return svc.current.Load() }

func build(ctx context.Context, s settings, log *slog.Logger) (*service, error) {
	cfg, sum, err := readConfig(s.ConfigFile)
	if err != nil {
		return nil, err
	}
	svc := &service{settings: s, log: log, close: func() error { return nil }, configSum: sum,
		eventPatience: eventPatience}
	if s.At != "" {
		at, err := parseAt(s.At, cfg)
		if err != nil {
			return nil, err
		}
		svc.clock = clockFrom(at)
		log.Info("calls start at a moment set by --at, not now: opening hours are read then", "at", at.Format(time.RFC3339))
	}
	svc.metrics = newMetrics(func() string {
		if m := svc.routing().model; m != nil {
			return m.BreakerState()
		}
		return ""
	})
	var st backend
	if s.RedisURL == "" {
		st = store.NewMemory(store.DefaultExpiry)
	} else {
		store.SetRedisLogger(log)
		r, err := store.OpenRedis(ctx, s.RedisURL, store.DefaultExpiry)
		if err != nil {
			return nil, err
		}
		st, svc.close = r, r.Close
		// Said now rather than first at /readyz; the service starts anyway and
		// sends callers to the fallback desk until Redis answers.
		pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := r.Ping(pingCtx); err != nil {
			svc.storeDown.Store(true)
			log.Warn(fmt.Sprintf("REDIS_URL %s cannot be reached (%v): callers go to the fallback desk until it answers; check that Redis runs there", store.RedactURL(s.RedisURL), err))
		}
	}
	svc.store = measuredStore{backend: st, m: svc.metrics}
	svc.outbox, svc.callbacks, svc.callers = newOutbox(st), newCallbacks(st), newCallers(st)
	svc.events = flow.NewEvents(svc.store, log)
	var api *voipbin.Client
	if s.AccessKey != "" {
		api = &voipbin.Client{API: s.APIURL, AccessKey: s.AccessKey, HTTP: &http.Client{Timeout: stopTimeout}}
	}
	svc.leaving = newLeaving(svc.events, api, log, svc.metrics, func(ctx context.Context, id, why string) (flow.Call, error) {
		return svc.routing().router.Leave(ctx, id, why)
	})
	closeStore := svc.close
	svc.close = func() error { svc.leaving.close(); return closeStore() }
	if api != nil {
		svc.handoff = newHandoffs(svc, api)
	}
	svc.sender = newSender(svc, api, svc.outbox)
	svc.dialler = newDialler(svc, api)
	svc.observers = observers{svc.metrics, svc.leaving, svc.handoff}
	svc.modelHTTP = &http.Client{Transport: prompts.NewTransport(cmp.Or(s.ModelConns, prompts.DefaultMaxConcurrent))}
	rt, err := svc.newRouting(cfg)
	if err != nil {
		return nil, err
	}
	svc.current.Store(rt)
	return svc, nil
}

// addObserver makes o see every turn too, from now on and after a reload;
// call it before serving.
func (svc *service) addObserver(o flow.Observer) {
	svc.observers = append(svc.observers, o)
	svc.routing().router.SetObserver(svc.observers)
}

// newRouting builds the router, and the model classifier if one is
// configured, for cfg.
func (svc *service) newRouting(cfg *flow.Config) (*routing, error) {
	s := svc.settings
	rt := &routing{cfg: cfg}
	var model flow.Classifier // stays a nil interface without a model
	if s.OpenAIKey != "" {
		m, err := prompts.NewClassifier(cfg, prompts.Options{
			APIKey: s.OpenAIKey, BaseURL: s.OpenAIURL, Model: s.Model, MaxConcurrent: s.ModelConns,
			HTTPClient: svc.modelHTTP, Log: svc.log, Observe: svc.metrics.observeModel,
		})
		if err != nil {
			return nil, err
		}
		rt.model, model = m, m
	}
	rt.router = flow.NewRouter(cfg, svc.store, flow.NewLocal(cfg), model, svc.log)
	rt.router.SetObserver(svc.observers)
	rt.router.LogTranscripts = s.LogTranscripts
	rt.router.Clock = svc.clock
	rt.router.Outbox, rt.router.Callbacks = svc.outbox, svc.callbacks
	rt.router.Callers, rt.router.HashNumber = svc.callers, numberHasher(s)
	return rt, nil
}

// observers tells several observers about each turn.
type observers []flow.Observer

func (o observers) Observe(ctx context.Context, r flow.Report) {
	for _, ob := range o {
		ob.Observe(ctx, r)
	}
}
