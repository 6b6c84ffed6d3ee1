package service

// The service: its parts, built once from a Config (New), the routing
// config in use (reloaded whole, reload.go), its routes (routes.go) and
// handlers (voipbin.go, webhook.go, handoff.go, dialler.go, messages.go).

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
type Service struct {
	conf  Config
	store backend
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
	// clock is what calls start at by, for opening hours (Config.At); nil: now.
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

// backend is a store as the service uses it.
type backend = flow.Store

// routing is one routing config with what is built from it.
type routing struct {
	cfg    *flow.Config
	router *flow.Router
	model  *prompts.Classifier // nil without a model
}

// routing returns the routing in use now.
func (svc *Service) routing() *routing { return svc.current.Load() }

// New builds the service from s: its store (memory, or Redis at s.RedisURL),
// the routing config s.ConfigFile names, the model when s.OpenAIKey is set and
// VoIPBin's REST API when s.AccessKey is. Close releases it.
func New(ctx context.Context, s Config, log *slog.Logger) (*Service, error) {
	cfg, sum, err := readConfig(s.ConfigFile)
	if err != nil {
		return nil, err
	}
	svc := &Service{conf: s, log: log, close: func() error { return nil }, configSum: sum,
		eventPatience: eventPatience}
	if s.At != "" {
		at, err := ParseAt(s.At, cfg)
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
	kept := besideCalls(st)
	svc.outbox, svc.callbacks, svc.callers = kept.outbox, kept.callbacks, kept.callers
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
		svc.handoff = newHandoffs(svc, api, kept.timers)
		closeAll := svc.close
		svc.close = func() error { svc.handoff.close(); return closeAll() }
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

// AddObserver makes o see every turn too, from now on and after a reload;
// call it before serving.
func (svc *Service) AddObserver(o flow.Observer) {
	svc.observers = append(svc.observers, o)
	svc.routing().router.Observer = svc.observers
}

// newRouting builds the router, and the model classifier if one is
// configured, for cfg.
func (svc *Service) newRouting(cfg *flow.Config) (*routing, error) {
	s := svc.conf
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
	rt.router.Observer = svc.observers
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

// Handler is the service's HTTP handler: VoIPBin's fetches and events, the
// call-handler webhook, health and readiness (and /metrics where public).
func (svc *Service) Handler() http.Handler { return newServer(svc) }

// MetricsHandler serves /metrics and nothing else, for a listener of its own.
func (svc *Service) MetricsHandler() http.Handler { return metricsHandler(svc) }

// Start runs the service's background work until ctx ends: the config file
// checked every reloadEvery (0: never), the messages sent, the callbacks
// dialled.
func (svc *Service) Start(ctx context.Context, reloadEvery time.Duration) {
	go svc.watchConfig(ctx, reloadEvery)
	go svc.sender.run(ctx)
	go svc.dialler.run(ctx)
}

// Reload reads the config file again and serves it if it is valid; a
// refusal is logged and returned, and the config in use serves on.
func (svc *Service) Reload(ctx context.Context) error { return svc.reload(ctx, true) }

// Settle waits, within ctx, for the work requests left behind: the
// transcriptions being stopped and the decisions fetches started.
func (svc *Service) Settle(ctx context.Context) {
	svc.leaving.wait(ctx)
	svc.routing().router.Settle()
}

// WaitHandoffs waits for the handoffs' background work (rings, cleanups).
func (svc *Service) WaitHandoffs() {
	if svc.handoff != nil {
		svc.handoff.Wait()
	}
}

// Close releases the store and stops the transcriptions' background work.
func (svc *Service) Close() error { return svc.close() }

// Routing is the routing config in use now.
func (svc *Service) Routing() *flow.Config { return svc.routing().cfg }

// Memory is the service's in-memory store, or nil when it has another.
func (svc *Service) Memory() *store.Memory {
	st := svc.store
	if ms, ok := st.(measuredStore); ok {
		st = ms.backend
	}
	m, _ := st.(*store.Memory)
	return m
}
