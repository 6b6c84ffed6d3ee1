package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/logs"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/service"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/prompts"
)

// settings is everything serve is started with, from flags and environment:
// the service's Config and what only the command uses.
type settings struct {
	service.Config
	Addr string
	// Insecure lets serve start against Redis with credentials unset.
	Insecure bool
	// LogLevel and LogFormat ("json", "text", or empty for text on a
	// terminal) shape the logs (Config.LogTranscripts what they keep).
	LogLevel  string
	LogFormat string
	// ReloadEvery is how often the config file is checked for changes; 0 never.
	ReloadEvery time.Duration
	// DebugAddr serves Go's profiler (net/http/pprof) on its own listener;
	// empty: not at all. Never on the service's own address.
	DebugAddr string
}

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
	return settings{Config: service.Config{
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
	}}
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

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	s, err := parseSettings(args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	if err := s.checkCredentials(); err != nil {
		return err
	}
	tuneGC(getenv)
	logOut := logs.NewBuffered(stderr)
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
	svc, err := service.New(ctx, s.Config, log)
	if err != nil {
		return err
	}
	defer svc.Close()
	warnOpen(log, s)
	srv := service.NewHTTPServer(svc.Handler())
	// SIGHUP and a changed config file reload the routing config.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	svc.Start(watchCtx, s.ReloadEvery)
	go func() {
		for {
			select {
			case <-watchCtx.Done():
				return
			case <-hup:
				_ = svc.Reload(watchCtx) // a refusal is logged; the old config serves on
			}
		}
	}()

	if s.MetricsAddr != "" {
		mln, err := net.Listen("tcp", s.MetricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		msrv := &http.Server{Handler: svc.MetricsHandler(), ReadHeaderTimeout: 5 * time.Second}
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
	svc.Settle(shutdownCtx) // the transcriptions being stopped, the decisions fetches started (each within llm.budget_ms)
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
	if !s.PublicMetrics() && s.MetricsAddr == "" {
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

// The process's runtime: Go's collector as serve sets it, and the profiler.

// serve's collector settings, unless GOGC or GOMEMLIMIT say otherwise.
//
// A turn's garbage is small and short-lived and the live heap is tens of
// MiB: at Go's default (GOGC=100) the collector runs every few milliseconds
// under load, costing CPU and setting the tail of the fetch latency (p99
// halved at 400 in BENCHMARKS.md). So the heap may grow to 5 times the live
// data before a collection; past 256 MiB the collector works harder, so that
// a thousand requests in flight (about 90 MiB live) do not hold 450.
const (
	gcPercent   = 400
	memoryLimit = 256 << 20
)

// tuneGC applies serve's collector settings where the environment is silent.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// debugHandler serves Go's profiler, for `go tool pprof
// http://ADDR/debug/pprof/profile?seconds=10` on a running server. It lives
// on its own listener (--debug-addr) so that the service's routes never
// expose it.
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
