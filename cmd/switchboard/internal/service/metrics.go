package service

// Prometheus metrics. The registry is the service's own (never the global
// default), built with it, so tests and in-process simulations each count
// their own. The domain reports through flow.Observer and knows nothing of
// Prometheus; this file turns its reports into series.

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/prompts"
)

type metrics struct {
	reg *prometheus.Registry
	// names is every series name registered here, for the dashboard's test.
	names []string

	httpDuration  *prometheus.HistogramVec
	callsStarted  prometheus.Counter
	callsRouted   *prometheus.CounterVec
	callsHungUp   prometheus.Counter
	afterHours    *prometheus.CounterVec
	repeats       *prometheus.CounterVec
	leftWord      *prometheus.CounterVec
	notices       *prometheus.CounterVec
	callbacks     *prometheus.CounterVec
	clarify       prometheus.Counter
	menus         prometheus.Counter
	fallbacks     *prometheus.CounterVec
	callActions   prometheus.Histogram
	modelDuration *prometheus.HistogramVec
	modelErrors   *prometheus.CounterVec
	modelTokens   prometheus.Counter
	storeDuration *prometheus.HistogramVec
	storeErrors   *prometheus.CounterVec
	inboxDrops    *prometheus.CounterVec
	// transcribeStops counts the transcriptions of calls that left us,
	// stopped through VoIPBin's REST API, by result.
	transcribeStops *prometheus.CounterVec
	// voipbinErrors counts VoIPBin REST API calls that failed, by kind.
	voipbinErrors *prometheus.CounterVec
	reloads       *prometheus.CounterVec
	reloadTime    prometheus.Gauge
	// transfers and transferRing count handoffs' tries (handoff.go).
	transfers    *prometheus.CounterVec
	transferRing *prometheus.HistogramVec
	holdTalks    *prometheus.CounterVec
}

// Latency buckets in seconds: a fetch has 2 s to answer, a store call a few ms.
var (
	requestBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 1.5, 2, 2.5, 3, 5}
	storeBuckets   = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}
)

// newMetrics registers every series. breaker reads the model's circuit
// breaker state now ("" when there is no model).
func newMetrics(breaker func() string) *metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var names []string
	f := promauto{reg: reg, names: &names}
	m := &metrics{
		reg: reg,
		httpDuration: f.histogramVec("switchboard_http_request_duration_seconds",
			"HTTP requests by route and outcome (2xx, 4xx, 5xx).", requestBuckets, "route", "outcome"),
		callsStarted: f.counter("switchboard_calls_started_total", "Calls answered (first turn)."),
		callsRouted: f.counterVec("switchboard_calls_routed_total",
			"Calls transferred, by department and reason (priority, local, model, keypad, silence, menu, unsure, action-limit, error, panic).",
			"department", "reason"),
		callsHungUp: f.counter("switchboard_calls_hung_up_total", "Callers who hung up before being transferred."),
		afterHours: f.counterVec("switchboard_calls_after_hours_total",
			"Calls for a department that was closed, by that department and where its after_hours chain sent them (nobody: everyone was closed, the caller heard texts.closed_all).",
			"department", "to"),
		repeats: f.counterVec("switchboard_calls_repeat_total",
			"Calls from a number that called within the last 24 hours (often a sign the first call went to the wrong place), by where this one went.",
			"department"),
		leftWord: f.counterVec("switchboard_nobody_reached_total",
			"Callers who reached nobody, by what they did: message, callback, or none (hung up, or nothing recorded).",
			"outcome"),
		notices: f.counterVec("switchboard_message_notices_total",
			"Attempts to tell a business of a message, by kind (transcribe, sms, email, webhook) and result (ok, failed).",
			"kind", "result"),
		callbacks: f.counterVec("switchboard_callbacks_total",
			"Callback attempts by outcome: dialled, connected, declined, not_taken, customer_not_called, refused, failed (every attempt used), retry (not dialled, tried again).",
			"outcome"),
		clarify: f.counter("switchboard_clarifications_total", "Clarifying questions asked."),
		menus:   f.counter("switchboard_menus_total", "Keypad menus offered."),
		fallbacks: f.counterVec("switchboard_fallbacks_total",
			"Calls sent to the fallback desk, by cause (silence, menu, unsure, action-limit, error, panic).", "cause"),
		callActions: f.histogram("switchboard_call_voipbin_actions",
			"VoIPBin actions a call used by the time it ended (VoIPBin stops a call at 100).", []float64{5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100}),
		modelDuration: f.histogramVec("switchboard_model_request_duration_seconds",
			"Model classifications, retries included, by outcome (ok, error).", requestBuckets, "outcome"),
		modelErrors: f.counterVec("switchboard_model_errors_total",
			"Failed model classifications by kind (breaker_open, busy, timeout, rate_limited, server_error, refused, bad_reply, network).", "kind"),
		modelTokens: f.counter("switchboard_model_tokens_total", "Tokens the model calls cost."),
		storeDuration: f.histogramVec("switchboard_store_operation_duration_seconds",
			"Store calls by operation (load, save, append, link, resolve, speaking, ping).", storeBuckets, "operation"),
		storeErrors: f.counterVec("switchboard_store_errors_total",
			"Store calls that failed, by operation (save conflicts, unknown keys and writes refused for a call that has left us are not failures).", "operation"),
		inboxDrops: f.counterVec("switchboard_inbox_drops_total",
			"Caller events that did not enter a call's inbox or were pushed out of it, by reason (duplicate: a VoIPBin retry already stored; left: for a call that has left us, kept nowhere; store_error and unknown_transcribe: answered 503 so that VoIPBin retries; inbox_full: the oldest unread lines of a full inbox).",
			"reason"),
		transcribeStops: f.counterVec("switchboard_transcribe_stops_total",
			"Transcriptions of calls that left us (transferred, handed back) stopped through VoIPBin's REST API, by result (ok; failed: after retries, or refused; dropped: too many in flight).",
			"result"),
		voipbinErrors: f.counterVec("switchboard_voipbin_api_errors_total",
			"VoIPBin REST API calls that failed for good, by kind (unauthorized: 401 or 403, VOIPBIN_ACCESSKEY revoked, expired or without permission, alert on it; refused: another 4xx; unavailable: 5xx or no answer after retries).",
			"kind"),
		reloads: f.counterVec("switchboard_config_reloads_total", "Config reloads by result (ok, refused).", "result"),
		reloadTime: f.gauge("switchboard_config_last_reload_success_timestamp_seconds",
			"When the routing config in use was loaded (Unix time)."),
		transfers: f.counterVec("switchboard_transfers_total",
			"Handoff tries by department and outcome (answered, unanswered, busy, declined, failed, caller_left; message: a message or a callback offered once nobody took the call; last_resort: a plain connect to the fallback desk instead).",
			"department", "outcome"),
		transferRing: f.histogramVec("switchboard_transfer_ring_seconds",
			"How long a handoff's destination rang before its try was decided, by department.",
			[]float64{1, 2, 5, 10, 15, 20, 25, 30, 45, 60}, "department"),
		holdTalks: f.counterVec("switchboard_hold_talks_total",
			"What a caller on hold is told while a handoff's destination rings, by result (ok; failed: VoIPBin refused or did not answer; the handoff goes on).",
			"result"),
	}
	f.register("switchboard_model_breaker_state", prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "switchboard_model_breaker_state",
		Help: "The model's circuit breaker: 0 closed, 1 half-open, 2 open; -1 without a model.",
	}, func() float64 {
		switch breaker() {
		case "closed":
			return 0
		case "half-open":
			return 1
		case "open":
			return 2
		}
		return -1
	}))
	m.names = names
	m.reloadTime.SetToCurrentTime()
	return m
}

// promauto registers on the service's registry and notes each name;
// client_golang's own promauto would default to the global registry.
type promauto struct {
	reg   *prometheus.Registry
	names *[]string
}

func (f promauto) register(name string, c prometheus.Collector) {
	f.reg.MustRegister(c)
	*f.names = append(*f.names, name)
}

func (f promauto) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.register(name, c)
	return c
}

func (f promauto) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.register(name, c)
	return c
}

func (f promauto) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	f.register(name, g)
	return g
}

func (f promauto) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	f.register(name, h)
	return h
}

func (f promauto) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	f.register(name, h)
	return h
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Observe turns a turn's report into call metrics (flow.Observer).
func (m *metrics) Observe(_ context.Context, r flow.Report) {
	b, a := r.Before, r.After
	// A route counts when it is handed to VoIPBin: a decision kept for the
	// next fetch may still be taken back by the caller's next words.
	handedOut := a.Ready == nil
	if b.Version == 0 && b.State == "" && r.Failed == "" && a.ID != "" {
		m.callsStarted.Inc()
	}
	if a.Clarifications > b.Clarifications {
		m.clarify.Inc()
	}
	if a.State == flow.StateMenu && b.State != flow.StateMenu {
		m.menus.Inc()
	}
	if a.State == flow.StateEnded && !b.Over() && a.Closed == "" {
		m.callsHungUp.Inc()
	}
	if a.Closed != "" && handedOut && (b.Closed == "" || b.Ready != nil) {
		m.afterHours.WithLabelValues(a.Closed, cmp.Or(a.Department, "nobody")).Inc()
	}
	// A route is counted when the call leaves us by it (flow.Call.Left: the
	// fetch that hands it out), not when it is decided on the caller's words:
	// a decision that never reaches the caller (the fetch failed over to the
	// fallback desk instead) is not a route, and the call is counted once.
	if a.Routed() && a.Left() && !(b.Routed() && b.Left()) {
		m.callsRouted.WithLabelValues(cmp.Or(a.Department, "nobody"), a.Reason).Inc() // nobody: a flow-step call for a closed department, nobody open
		if fallbackCause(a.Reason) {
			m.fallbacks.WithLabelValues(a.Reason).Inc()
		}
	}
	if a.Left() && !b.Left() && r.Failed == "" && a.ID != "" {
		m.callActions.Observe(float64(a.Actions))
		if a.Repeat {
			m.repeats.WithLabelValues(cmp.Or(a.Department, a.Closed, "nobody")).Inc()
		}
		switch {
		case a.CalledBack:
			m.leftWord.WithLabelValues("callback").Inc()
		case b.State == flow.StateMessage: // recorded, or hung up while recording: either way left
			m.leftWord.WithLabelValues("message").Inc()
		case b.State == flow.StateOffer || b.State == flow.StateCallback:
			m.leftWord.WithLabelValues("none").Inc()
		}
	}
}

// fallbackCause reports whether a route's reason means we gave up finding the
// department: the caller reaches the fallback desk for that cause.
func fallbackCause(reason string) bool {
	switch reason {
	case "silence", "menu", "unsure", "action-limit", "error", "panic":
		return true
	}
	return false
}

// observeModel counts one model classification (prompts.Options.Observe).
func (m *metrics) observeModel(o prompts.Observation) {
	outcome := "ok"
	if o.Err != nil {
		outcome = "error"
		m.modelErrors.WithLabelValues(prompts.ErrorKind(o.Err)).Inc()
	}
	m.modelDuration.WithLabelValues(outcome).Observe(o.Took.Seconds())
	m.modelTokens.Add(float64(o.Tokens))
}

// observeRequest counts one HTTP request under its route pattern.
func (m *metrics) observeRequest(route string, status int, took time.Duration) {
	if route == "" {
		route = "unmatched" // a scanner's guesses must not grow the series without bound
	}
	outcome := "2xx"
	switch {
	case status >= 500:
		outcome = "5xx"
	case status >= 400:
		outcome = "4xx"
	case status >= 300:
		outcome = "3xx"
	}
	m.httpDuration.WithLabelValues(route, outcome).Observe(took.Seconds())
}

// measuredStore is a store that times every call and counts failures. Its
// backend is a field, not embedded, so that a method added to the store's
// interface must be timed here before the service builds.
type measuredStore struct {
	backend backend
	m       *metrics
}

func (s measuredStore) done(op string, start time.Time, err error) {
	s.m.storeDuration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err != nil && !errors.Is(err, flow.ErrConflict) && !errors.Is(err, flow.ErrNotFound) && !errors.Is(err, flow.ErrLeft) {
		s.m.storeErrors.WithLabelValues(op).Inc()
	}
}

func (s measuredStore) Load(ctx context.Context, id string) (flow.Call, []flow.Input, error) {
	start := time.Now()
	c, in, err := s.backend.Load(ctx, id)
	s.done("load", start, err)
	return c, in, err
}

func (s measuredStore) Save(ctx context.Context, c flow.Call, taken int) error {
	start := time.Now()
	err := s.backend.Save(ctx, c, taken)
	s.done("save", start, err)
	return err
}

func (s measuredStore) Append(ctx context.Context, id, key string, in flow.Input) (bool, int, error) {
	start := time.Now()
	added, dropped, err := s.backend.Append(ctx, id, key, in)
	s.done("append", start, err)
	if err == nil && !added {
		s.m.inboxDrops.WithLabelValues("duplicate").Inc()
	}
	if errors.Is(err, flow.ErrLeft) {
		s.m.inboxDrops.WithLabelValues("left").Inc()
	}
	return added, dropped, err
}

func (s measuredStore) Link(ctx context.Context, transcribeID, callID string) error {
	start := time.Now()
	err := s.backend.Link(ctx, transcribeID, callID)
	s.done("link", start, err)
	return err
}

func (s measuredStore) Resolve(ctx context.Context, transcribeID string) (string, error) {
	start := time.Now()
	id, err := s.backend.Resolve(ctx, transcribeID)
	s.done("resolve", start, err)
	return id, err
}

func (s measuredStore) Speaking(ctx context.Context, id, session string, v flow.VoiceActivity) error {
	start := time.Now()
	err := s.backend.Speaking(ctx, id, session, v)
	s.done("speaking", start, err)
	return err
}

func (s measuredStore) Ping(ctx context.Context) error {
	start := time.Now()
	err := s.backend.Ping(ctx)
	s.done("ping", start, err)
	return err
}
