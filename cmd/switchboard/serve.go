package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/logs"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/prompts"
	"github.com/switchboard/switchboard/store"
)

// settings is everything the service is started with, from flags and environment.
type settings struct {
	Addr       string
	ConfigFile string // empty: the embedded example config
	RedisURL   string
	OpenAIKey  string
	OpenAIURL  string
	Model      string
	PublicURL  string // base of the fetch URLs handed to VoIPBin; empty: from the request
	FetchToken string
	Secret     string // VoIPBin webhook signing secret
	// AccessKey reaches VoIPBin's REST API at APIURL, to stop the
	// transcriptions of calls that left us; empty: they run on.
	AccessKey string
	APIURL    string
	// MessagesSecret signs the webhooks that tell a business of a message;
	// HashKey keys the hash returning callers are remembered by.
	MessagesSecret string
	HashKey        string
	// ModelConns bounds the model requests in flight, and the connections
	// kept open to the model; 0: prompts.DefaultMaxConcurrent.
	ModelConns int
	// WebhookToken is the bearer token /webhook/call-handler requires; empty: none.
	WebhookToken string
	// Insecure lets serve start against Redis with credentials unset.
	Insecure bool
	// LogLevel, LogFormat ("json", "text", or empty for text on a terminal) and
	// LogTranscripts (keep callers' words and numbers) shape the logs.
	LogLevel       string
	LogFormat      string
	LogTranscripts bool
	// ReloadEvery is how often the config file is checked for changes; 0 never.
	ReloadEvery time.Duration
	// DebugAddr serves Go's profiler (net/http/pprof) on its own listener;
	// empty: not at all. Never on the service's own address.
	DebugAddr string
	// At is the moment calls start at, for opening hours (see parseAt),
	// running on in real time from when the service starts; empty: now.
	At string
	// MetricsAddr serves /metrics on its own listener, off the public one.
	// Empty: /metrics is on the service's address without Redis (a laptop,
	// make run) and nowhere in production.
	MetricsAddr string
}

// publicMetrics reports whether /metrics is on the service's own address:
// only where there is no metrics listener and no production (Redis).
func (s settings) publicMetrics() bool { return s.MetricsAddr == "" && s.RedisURL == "" }

func parseSettings(args []string, getenv func(string) string, stdout, stderr io.Writer) (settings, error) {
	s := envSettings(getenv)
	addr := ":3000"
	if port := getenv("PORT"); port != "" {
		addr = ":" + port
	}
	fs := newFlags("serve", stdout, stderr)
	fs.StringVar(&s.Addr, "addr", addr, "listen address (default :3000, or :$PORT)")
	fs.DurationVar(&s.ReloadEvery, "reload-every", 2*time.Second, "check the --config file this often and reload it when it changed (0: only on SIGHUP)")
	fs.BoolVar(&s.Insecure, "insecure", false, "start with REDIS_URL set even though a credential is unset")
	fs.StringVar(&s.MetricsAddr, "metrics-addr", getenv("SWITCHBOARD_METRICS_ADDR"), "serve /metrics on this address only, e.g. 127.0.0.1:9090 or a private network's (default $SWITCHBOARD_METRICS_ADDR; else /metrics is on --addr without REDIS_URL, and off with it)")
	fs.StringVar(&s.DebugAddr, "debug-addr", getenv("SWITCHBOARD_DEBUG_ADDR"), "serve Go's profiler (/debug/pprof/) on this address, e.g. 127.0.0.1:6060; keep it off public networks (default $SWITCHBOARD_DEBUG_ADDR, else off)")
	conns := 0
	if v := getenv("SWITCHBOARD_MODEL_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return s, fmt.Errorf("SWITCHBOARD_MODEL_CONNS=%q: want a positive number", v)
		}
		conns = n
	}
	fs.IntVar(&s.ModelConns, "model-conns", conns,
		"model requests in flight at most, and connections kept open to the model; beyond it the local classifier answers (default $SWITCHBOARD_MODEL_CONNS, else "+strconv.Itoa(prompts.DefaultMaxConcurrent)+")")
	s.register(fs, "info")
	if err := parseFlags(fs, args); err != nil {
		return s, err
	}
	if s.ModelConns < 0 {
		return s, fmt.Errorf("--model-conns %d: want a positive number", s.ModelConns)
	}
	addr, err := listenAddr(s.Addr)
	if err != nil {
		return s, err
	}
	s.Addr = addr
	for _, c := range []struct{ name, value string }{
		{"SWITCHBOARD_FETCH_TOKEN", s.FetchToken}, {"VOIPBIN_WEBHOOK_SECRET", s.Secret},
		{"SWITCHBOARD_WEBHOOK_TOKEN", s.WebhookToken}, {"VOIPBIN_ACCESSKEY", s.AccessKey}, {"OPENAI_API_KEY", s.OpenAIKey},
	} {
		// A secret of spaces (an empty line of a secrets file, a stray
		// quote) is as good as none, and must not pass for one.
		if c.value != "" && strings.TrimSpace(c.value) == "" {
			return s, fmt.Errorf("%s is set but blank (only whitespace): set the real secret, or unset it", c.name)
		}
	}
	if s.PublicURL != "" {
		if u, err := url.Parse(s.PublicURL); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" ||
			u.RawQuery != "" || u.Fragment != "" {
			return s, fmt.Errorf("SWITCHBOARD_PUBLIC_URL=%q: want an absolute http(s) base URL such as https://switchboard.example.com", s.PublicURL)
		}
	}
	return s, nil
}

// listenAddr reads --addr: HOST:PORT, :PORT, or a bare port number, which
// means every interface as :PORT does.
func listenAddr(addr string) (string, error) {
	if _, err := strconv.ParseUint(addr, 10, 16); err == nil {
		return ":" + addr, nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", fmt.Errorf("--addr %q: want HOST:PORT, :PORT or a port number (127.0.0.1:3000, :3000, 3000)", addr)
	}
	return addr, nil
}

// listen opens the service's port, saying plainly when another program has it.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s is already in use (another switchboard still running?): stop that program, or pick another port "+
			"with --addr 127.0.0.1:3001 (with make run: make run ADDR=127.0.0.1:3001)", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// envSettings is the settings the environment gives.
func envSettings(getenv func(string) string) settings {
	return settings{
		RedisURL:   getenv("REDIS_URL"),
		OpenAIKey:  getenv("OPENAI_API_KEY"),
		OpenAIURL:  getenv("OPENAI_BASE_URL"),
		Model:      getenv("OPENAI_MODEL"),
		PublicURL:  getenv("SWITCHBOARD_PUBLIC_URL"),
		FetchToken: getenv("SWITCHBOARD_FETCH_TOKEN"),
		Secret:     getenv("VOIPBIN_WEBHOOK_SECRET"),
		AccessKey:  getenv("VOIPBIN_ACCESSKEY"),
		APIURL:     cmp.Or(getenv("VOIPBIN_API_URL"), voipbin.DefaultAPI),

		WebhookToken:   getenv("SWITCHBOARD_WEBHOOK_TOKEN"),
		MessagesSecret: getenv("SWITCHBOARD_MESSAGES_SECRET"),
		HashKey:        getenv("SWITCHBOARD_HASH_KEY"),
	}
}

// parseFlags parses a command's flags, which take no positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return nil
}

// register adds the flags serve shares with the commands that run the
// service in process (simulate), whose logs start at logLevel.
func (s *settings) register(fs *flag.FlagSet, logLevel string) {
	fs.StringVar(&s.ConfigFile, "config", "", "routing config JSON `FILE` (default: the embedded example)")
	fs.StringVar(&s.LogLevel, "log-level", logLevel, "debug, info, warn or error")
	fs.StringVar(&s.LogFormat, "log-format", "", "json or text (default: text on a terminal, else json)")
	fs.BoolVar(&s.LogTranscripts, "log-transcripts", false, "log what callers say (each call's summary line, what switchboard harvest reads) and phone numbers; redacted otherwise")
	fs.StringVar(&s.At, "at", "", "calls start at this moment, for opening hours (trying a config): 2026-12-25T10:00 in routing.hours' time zone, or RFC 3339 (default now)")
}

// logger builds the service's logger from the log flags.
func (s settings) logger(w io.Writer) (*slog.Logger, error) {
	level, err := logs.ParseLevel(s.LogLevel)
	if err != nil {
		return nil, err
	}
	return logs.New(w, logs.Options{Level: level, Format: s.LogFormat, Transcripts: s.LogTranscripts})
}

// missingCredentials names the credentials and settings that are unset. Each
// one unset leaves a route open to anyone who can reach the service, or lets
// a request choose where VoIPBin fetches next.
func (s settings) missingCredentials() []string {
	var missing []string
	for _, c := range []struct{ name, value string }{
		{"SWITCHBOARD_FETCH_TOKEN", s.FetchToken},
		{"VOIPBIN_WEBHOOK_SECRET", s.Secret},
		{"SWITCHBOARD_WEBHOOK_TOKEN", s.WebhookToken},
		{"SWITCHBOARD_PUBLIC_URL", s.PublicURL}, // see warnOpen
	} {
		if c.value == "" {
			missing = append(missing, c.name)
		}
	}
	return missing
}

// checkCredentials refuses a production deployment (one on Redis) that
// leaves a route open, unless the operator said --insecure. Without Redis
// (make run, a laptop) the open routes are only warned about.
func (s settings) checkCredentials() error {
	missing := s.missingCredentials()
	if s.RedisURL == "" || s.Insecure || len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("refusing to start: REDIS_URL is set (a production deployment) but not %s; "+
		"set them, or pass --insecure to run without them", strings.Join(missing, ", "))
}

// loadConfig reads the routing config named by file, or the embedded example.
func loadConfig(file string) (*flow.Config, error) {
	cfg, _, err := readConfig(file)
	return cfg, err
}

// readConfig is loadConfig that also returns the hash of the file's content.
func readConfig(file string) (*flow.Config, [sha256.Size]byte, error) {
	if file == "" {
		return flow.ExampleConfig(), [sha256.Size]byte{}, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, [sha256.Size]byte{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := flow.ParseConfig(bytes.NewReader(b))
	if err != nil {
		return nil, [sha256.Size]byte{}, fmt.Errorf("config %s:\n%w", file, err)
	}
	return cfg, sha256.Sum256(b), nil
}

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
}

// backend is a store as the service uses it: the flow's two views of it, and
// a reachability check for /readyz.
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
	svc.modelHTTP = &http.Client{Transport: prompts.NewTransport(cmp.Or(s.ModelConns, prompts.DefaultMaxConcurrent))}
	rt, err := svc.newRouting(cfg)
	if err != nil {
		return nil, err
	}
	svc.current.Store(rt)
	return svc, nil
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
	rt.router.SetObserver(observers{svc.metrics, svc.leaving, svc.handoff})
	rt.router.LogTranscripts = s.LogTranscripts
	rt.router.Clock = svc.clock
	rt.router.Outbox, rt.router.Callbacks = svc.outbox, svc.callbacks
	rt.router.Callers, rt.router.HashNumber = svc.callers, numberHasher(s)
	return rt, nil
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	s, err := parseSettings(args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	if err := s.checkCredentials(); err != nil {
		return err
	}
	tuneGC(getenv)
	logOut := newBufferedLog(stderr)
	defer logOut.Close()
	log, err := s.logger(logOut)
	if err != nil {
		return err
	}
	ln, err := listen(s.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	svc, err := build(ctx, s, log)
	if err != nil {
		return err
	}
	defer svc.close()
	warnOpen(log, s)
	srv := newHTTPServer(newServer(svc))
	// SIGHUP and a changed config file reload the routing config.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	go svc.watchConfig(watchCtx, s.ReloadEvery)
	go svc.sender.run(watchCtx)
	go svc.dialler.run(watchCtx)
	go func() {
		for {
			select {
			case <-watchCtx.Done():
				return
			case <-hup:
				_ = svc.reload(watchCtx, true) // a refusal is logged; the old config serves on
			}
		}
	}()

	if s.MetricsAddr != "" {
		mln, err := net.Listen("tcp", s.MetricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		msrv := &http.Server{Handler: metricsHandler(svc), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = msrv.Serve(mln) }()
		defer msrv.Close()
		log.Info("metrics listening", "addr", mln.Addr().String())
	}
	if s.DebugAddr != "" {
		dln, err := net.Listen("tcp", s.DebugAddr)
		if err != nil {
			return fmt.Errorf("--debug-addr: %w", err)
		}
		dsrv := &http.Server{Handler: debugHandler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = dsrv.Serve(dln) }()
		defer dsrv.Close()
		log.Info("profiler listening", "addr", dln.Addr().String())
	}

	fmt.Fprintf(stdout, "switchboard listening on %s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Let turns in flight finish: each is bounded by the fetch budget.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	svc.leaving.wait(shutdownCtx) // the transcriptions being stopped
	svc.routing().router.Settle() // the decisions fetches started, each within llm.budget_ms
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// warnOpen says, one line per problem, what serve runs without and what to do.
func warnOpen(log *slog.Logger, s settings) {
	missing := slices.DeleteFunc(s.missingCredentials(), func(name string) bool { return name == "SWITCHBOARD_PUBLIC_URL" })
	if len(missing) > 0 {
		log.Warn(fmt.Sprintf("%s not set: anyone who can reach this service can drive calls and spend the model; "+
			"set them before going live (cmd/switchboard/README.md, Security)", strings.Join(missing, ", ")))
	}
	if s.PublicURL == "" {
		log.Warn("SWITCHBOARD_PUBLIC_URL is not set: the URL VoIPBin fetches a call's next actions from is built from each " +
			"fetch's Host header, which whoever sends the request chooses and a proxy may rewrite: VoIPBin may be handed an " +
			"address it cannot reach, and the caller is hung up at the next fetch; set it to this service's public base URL " +
			"(cmd/switchboard/README.md, Security)")
	}
	for _, l := range []struct{ flag, addr, what string }{
		{"--debug-addr", s.DebugAddr, "Go's profiler, without authentication: anyone who reaches it can read the process's memory, callers' words included, and slow it down"},
		{"--metrics-addr", s.MetricsAddr, "/metrics, without authentication"},
	} {
		if l.addr != "" && !loopback(l.addr) {
			log.Warn(fmt.Sprintf("%s %s is not a loopback address: it serves %s; keep it on 127.0.0.1 or a private network that only your monitoring reaches", l.flag, l.addr, l.what))
		}
	}
	if s.RedisURL == "" {
		log.Warn("REDIS_URL is not set: calls are kept in this process's memory, so run a single replica only")
	}
	if s.AccessKey == "" {
		log.Warn("VOIPBIN_ACCESSKEY is not set: VoIPBin keeps transcribing (and billing) a caller's talk with the agent after the transfer; set it so that serve stops the transcription (the words are dropped either way)" +
			", and so that transfers are handoffs: without it they are plain connects, where a department that is busy or does not answer leaves the caller ringing with nobody to move them on, and whoever answers hears nothing of who is calling or why (cmd/switchboard/README.md, Handoffs)")
	}
	if !s.publicMetrics() && s.MetricsAddr == "" {
		log.Warn("/metrics is off: in production it is served only on --metrics-addr")
	}
	if s.OpenAIKey == "" {
		log.Info("OPENAI_API_KEY is not set: routing with the built-in local classifier")
	}
}

// loopback reports whether addr (HOST:PORT) listens on loopback only; an
// empty host is every interface.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newHTTPServer bounds every phase of a connection: VoIPBin's requests are
// small and quick, so a client that dawdles is dropped, not waited for.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second, // above eventPatience
		IdleTimeout:       60 * time.Second,
	}
}

func runGraph(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("graph", stdout, stderr)
	format := fs.String("format", "mermaid", "mermaid or dot (Graphviz)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var d string
	var err error
	switch *format {
	case "mermaid":
		d, err = flow.Diagram()
	case "dot":
		d, err = flow.DiagramDOT()
	default:
		return fmt.Errorf("graph: --format %q: want mermaid or dot", *format)
	}
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, d)
	return err
}

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stdout, stderr)
	atFlag := fs.String("at", "", "show opening hours as of this moment, 2026-12-25T10:00 (default now)")
	var files []string
	fs.Func("config", "routing config JSON `FILE` (repeat to check several; default: the embedded example)", func(f string) error {
		files = append(files, f)
		return nil
	})
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(files) == 0 {
		files = []string{""}
	}
	var out strings.Builder
	var errs []error
	anyDialled := false
	for _, file := range files {
		cfg, err := loadConfig(file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		name := file
		if name == "" {
			name = "the embedded example"
		}
		table, dialled := cfg.Routing.CallerIDs()
		anyDialled = anyDialled || dialled
		fmt.Fprintf(&out, "%s: config ok: %d departments %v\n%s", name, len(cfg.Routing.Departments), cfg.Routing.DepartmentNames(true), table)
		for _, line := range cfg.Routing.DescribeModes() {
			fmt.Fprintln(&out, "  mode "+line)
		}
		at := time.Now()
		if *atFlag != "" {
			if at, err = parseAt(*atFlag, cfg); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		fmt.Fprintln(&out, "  opening hours:")
		for _, line := range cfg.Routing.DescribeHours(at) {
			fmt.Fprintln(&out, "    "+line)
		}
		for _, line := range cfg.Routing.DescribeQueues() {
			fmt.Fprintln(&out, "  "+line)
		}
		for _, line := range cfg.Routing.DescribeMessages() {
			fmt.Fprintln(&out, "  "+line)
		}
		fmt.Fprintln(&out, "  handoffs (each destination in turn, then the fallback desk's):")
		for _, line := range cfg.Routing.DescribeHandoffs() {
			fmt.Fprintln(&out, "    "+line)
		}
		fmt.Fprintln(&out, "  what callers hear, by language ((example): not in this config, taken from the example's):")
		for _, line := range cfg.Routing.DescribeTexts() {
			fmt.Fprintln(&out, "    "+line)
		}
		for _, w := range append(cfg.Routing.TextWarnings(), cfg.Routing.Warnings()...) {
			fmt.Fprintln(&out, "  WARNING "+w)
		}
	}
	if out.Len() > 0 { // VoIPBin's rule, once whatever the number of files
		out.WriteString(flow.HandoffRule)
		out.WriteString(flow.CallerIDRule)
		if anyDialled {
			out.WriteString(flow.CallerIDDialledNote)
		}
	}
	if _, err := io.WriteString(stdout, out.String()); err != nil {
		return err
	}
	return errors.Join(errs...)
}
