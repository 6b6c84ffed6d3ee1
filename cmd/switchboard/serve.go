package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

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
	// ModelConns bounds the model requests in flight, and the connections
	// kept open to the model; 0: prompts.DefaultMaxConcurrent.
	ModelConns int
	// WebhookToken is the bearer token /webhook/call-handler requires; empty: none.
	WebhookToken string
	// Insecure lets serve start against Redis with credentials unset.
	Insecure bool
	// LogTranscripts logs each transferred call's words, for switchboard harvest.
	LogTranscripts bool
}

func parseSettings(args []string, getenv func(string) string, stderr io.Writer) (settings, error) {
	s := settings{
		RedisURL:   getenv("REDIS_URL"),
		OpenAIKey:  getenv("OPENAI_API_KEY"),
		OpenAIURL:  getenv("OPENAI_BASE_URL"),
		Model:      getenv("OPENAI_MODEL"),
		PublicURL:  getenv("SWITCHBOARD_PUBLIC_URL"),
		FetchToken: getenv("SWITCHBOARD_FETCH_TOKEN"),
		Secret:     getenv("VOIPBIN_WEBHOOK_SECRET"),

		WebhookToken: getenv("SWITCHBOARD_WEBHOOK_TOKEN"),
	}
	addr := ":3000"
	if port := getenv("PORT"); port != "" {
		addr = ":" + port
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&s.Addr, "addr", addr, "listen address (default :3000, or :$PORT)")
	fs.StringVar(&s.ConfigFile, "config", "", "routing config JSON (default: the embedded example)")
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
	fs.BoolVar(&s.Insecure, "insecure", false, "start with REDIS_URL set even though a credential is unset")
	fs.BoolVar(&s.LogTranscripts, "log-transcripts", false, "log each transferred call's transcripts (what switchboard harvest reads)")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if s.ModelConns < 0 {
		return s, fmt.Errorf("--model-conns %d: want a positive number", s.ModelConns)
	}
	if fs.NArg() > 0 {
		return s, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return s, nil
}

// missingCredentials names the credentials that are unset. Each one unset
// leaves a route open to anyone who can reach the service.
func (s settings) missingCredentials() []string {
	var missing []string
	for _, c := range []struct{ name, value string }{
		{"SWITCHBOARD_FETCH_TOKEN", s.FetchToken},
		{"VOIPBIN_WEBHOOK_SECRET", s.Secret},
		{"SWITCHBOARD_WEBHOOK_TOKEN", s.WebhookToken},
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
		"set them, or pass --insecure to run with those routes open", strings.Join(missing, ", "))
}

// loadConfig reads the routing config named by file, or the embedded example.
func loadConfig(file string) (*flow.Config, error) {
	if file == "" {
		return flow.ExampleConfig(), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := flow.ParseConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("config %s:\n%w", file, err)
	}
	return cfg, nil
}

// service is the running service's parts, built once in build and shared by
// every request.
type service struct {
	settings settings
	cfg      *flow.Config
	store    backend
	router   *flow.Router        // fetches and seed webhook requests
	model    *prompts.Classifier // nil without a model; its Overflows counts refusals at the concurrency bound
	// events takes VoIPBin's events; it counts caller lines dropped from full
	// call inboxes (flow.MaxInbox): a flood, or fetches that stopped coming.
	events *flow.Events
	log    *slog.Logger
	close  func() error
	// eventPatience bounds how long an event keeps trying to reach the store.
	eventPatience time.Duration
}

// backend is a store as the service uses it: the flow's two views of it, and
// a reachability check for /readyz.
type backend interface {
	flow.Calls
	flow.Inbox
	// Ping reports whether the store can be reached.
	Ping(ctx context.Context) error
}

func build(ctx context.Context, s settings, log *slog.Logger) (*service, error) {
	cfg, err := loadConfig(s.ConfigFile)
	if err != nil {
		return nil, err
	}
	svc := &service{settings: s, cfg: cfg, log: log, close: func() error { return nil }, eventPatience: eventPatience}
	if s.FetchToken == "" {
		log.Warn("SWITCHBOARD_FETCH_TOKEN is not set: anyone who can reach /voipbin/fetch can drive calls")
	}
	if s.Secret == "" {
		log.Warn("VOIPBIN_WEBHOOK_SECRET is not set: event signatures are not checked")
	}
	if s.WebhookToken == "" {
		log.Warn("SWITCHBOARD_WEBHOOK_TOKEN is not set: anyone who can reach /webhook/call-handler can drive calls and spend the model")
	}
	if s.RedisURL == "" {
		log.Warn("REDIS_URL is not set: calls are kept in this process's memory, so run a single replica only")
		svc.store = store.NewMemory(store.DefaultExpiry)
	} else {
		r, err := store.OpenRedis(ctx, s.RedisURL, store.DefaultExpiry)
		if err != nil {
			return nil, err
		}
		svc.store, svc.close = r, r.Close
	}
	var model flow.Classifier
	if s.OpenAIKey == "" {
		log.Info("OPENAI_API_KEY is not set: routing with the built-in local classifier")
	} else {
		m, err := prompts.NewClassifier(cfg, prompts.Options{
			APIKey: s.OpenAIKey, BaseURL: s.OpenAIURL, Model: s.Model, MaxConcurrent: s.ModelConns, Log: log,
		})
		if err != nil {
			return nil, err
		}
		model, svc.model = m, m
	}
	svc.router = flow.NewRouter(cfg, svc.store, flow.NewLocal(cfg), model, log)
	svc.router.LogTranscripts = s.LogTranscripts
	svc.events = flow.NewEvents(svc.store, log)
	return svc, nil
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	s, err := parseSettings(args, getenv, stderr)
	if err != nil {
		return err
	}
	if err := s.checkCredentials(); err != nil {
		return err
	}
	logOut := newBufferedLog(stderr)
	defer logOut.Close()
	log := slog.New(slog.NewJSONHandler(logOut, nil))
	svc, err := build(ctx, s, log)
	if err != nil {
		return err
	}
	defer svc.close()

	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return err
	}
	srv := newHTTPServer(newServer(svc))
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
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
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

func runGraph(stdout io.Writer) error {
	d, err := flow.Diagram()
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, d)
	return err
}

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "routing config JSON (default: the embedded example)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*file)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "config ok: %d departments %v\n%s", len(cfg.Routing.Departments), cfg.Routing.DepartmentNames(true),
		cfg.Routing.CallerIDRule()); err != nil {
		return err
	}
	for _, line := range cfg.Routing.DescribeModes() {
		if _, err := fmt.Fprintln(stdout, "mode "+line); err != nil {
			return err
		}
	}
	return nil
}
