package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/logs"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/sim"
	"github.com/switchboard/switchboard/flow"
)

// stepList collects --say and --press flags in the order given.
type stepList []sim.Step

func (l *stepList) sayer() func(string) error {
	return func(s string) error {
		if strings.TrimSpace(s) == "" {
			*l = append(*l, sim.Step{Silent: true})
		} else {
			*l = append(*l, sim.Step{Say: s})
		}
		return nil
	}
}

// runSimulate plays one VoIPBin call through the VoIPBin simulator and prints
// what the caller hears and where they end up. Without --url it runs the
// service in this process, on serve's flags and environment, and shows for
// each fetch what the machine did and why. The caller's part comes from
// --say/--press, from --script, or else line by line from stdin: words,
// an empty line for silence, #N to press N.
func runSimulate(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	var steps stepList
	fs := newFlags("simulate", stderr)
	url := fs.String("url", "", "a running switchboard to call (default: run one in this process)")
	lang := fs.String("lang", "", "the number's language (?lang=)")
	script := fs.String("script", "", "replay the caller of a conversation `FILE` (testdata/conversations/*.json)")
	fs.Func("say", "what the caller says at the next pause (repeat; \"\" stays silent)", steps.sayer())
	fs.Func("press", "keys the caller presses at the next key collection (repeat); KEYS@talk or KEYS@sleep presses them during the next talk or pause", func(s string) error {
		keys, during, _ := strings.Cut(s, "@")
		if keys == "" || during != "" && during != "talk" && during != "sleep" {
			return fmt.Errorf("want KEYS, KEYS@talk or KEYS@sleep, got %q", s)
		}
		steps = append(steps, sim.Step{Press: keys, During: during})
		return nil
	})
	dialled := fs.String("dialled", sim.DefaultDialled, "the number the caller dialled (the account owns it)")
	caller := fs.String("caller", sim.DefaultCaller, "the caller's number")
	var owned []string
	fs.Func("owned", "another number the account owns, accepted as caller ID (repeat)", func(s string) error {
		owned = append(owned, s)
		return nil
	})
	defaultOutgoing := fs.String("default-outgoing", "", "the account's default outgoing number (none by default)")
	flowFile := fs.String("flow", "", "the number's VoIPBin flow, a JSON array of actions (YOUR_TOKEN stands for the fetch token); default [answer, fetch], or in process the example customer flow for a flow-step number")
	s := envSettings(getenv)
	s.register(fs, "warn") // the call's story is on stdout; logs only when something is wrong
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *script != "" {
		if len(steps) > 0 {
			return errors.New("simulate: --script or --say/--press, not both")
		}
		conv, err := readScript(*script)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "# %s\n", conv.About)
		steps = conv.Steps
		if *lang == "" {
			*lang = conv.Language
		}
		if conv.Config != "" && s.ConfigFile == "" {
			s.ConfigFile = filepath.Join(filepath.Dir(*script), "..", conv.Config)
		}
		if len(conv.Model) > 0 {
			fmt.Fprintln(stdout, "# (the file scripts a model's answers; this call uses the configured model, or the local classifier)")
		}
		if conv.Flow != "" && *flowFile == "" {
			*flowFile = filepath.Join(filepath.Dir(*script), "..", conv.Flow)
		}
		if conv.Dialled != "" {
			*dialled = conv.Dialled
		}
		owned = append(owned, conv.Owned...)
	}
	opt := sim.Options{
		CallID: uuid.NewString(), Language: *lang, OnLine: func(l string) { fmt.Fprintln(stdout, l) },
		Caller: *caller, Dialled: *dialled, Owned: owned, DefaultOutgoing: *defaultOutgoing,
	}
	hungUp := slices.ContainsFunc(steps, func(s sim.Step) bool { return s.Hangup })
	if *script == "" && len(steps) == 0 {
		ask := promptCaller(stdin, stdout)
		opt.Ask = func(at string) (sim.Step, bool) {
			step, ok := ask(at)
			hungUp = hungUp || step.Hangup
			return step, ok
		}
	}
	if *url != "" {
		opt.Bases, opt.Token, opt.Secret = []string{*url}, getenv("SWITCHBOARD_FETCH_TOKEN"), getenv("VOIPBIN_WEBHOOK_SECRET")
	} else {
		stop, err := simulateInProcess(ctx, s, &opt, stdout, stderr)
		if err != nil {
			return err
		}
		defer stop()
	}
	var err error
	switch {
	case *flowFile != "":
		opt.Flow, err = readFlow(*flowFile, opt.Token)
	case *url == "":
		opt.Flow, err = flowStepFlow(s.ConfigFile, opt.Dialled, opt.Token)
		if len(opt.Flow) > 0 {
			fmt.Fprintln(stdout, "# a flow-step number: the number's flow is the example customer flow (switchboard provision --flow-step)")
		}
	}
	if err != nil {
		return err
	}
	res, err := sim.Run(ctx, opt, steps)
	if res != nil {
		fmt.Fprintln(stdout, res.Summary())
	}
	if err == nil && res.Connected == "" && !hungUp {
		err = errors.New("the caller reached nobody")
	}
	return err
}

// simulateInProcess starts the service on a loopback port for one call and
// points opt at it; each fetch's story is printed to stdout.
func simulateInProcess(ctx context.Context, s settings, opt *sim.Options, stdout, stderr io.Writer) (func(), error) {
	s.FetchToken, s.Secret = uuid.NewString(), uuid.NewString() // this process plays both sides
	log, err := s.logger(stderr)
	if err != nil {
		return nil, err
	}
	svc, err := build(ctx, s, log)
	if err != nil {
		return nil, err
	}
	shown := &fetchStory{out: stdout}
	svc.routing().router.SetObserver(observers{svc.metrics, shown})
	srv := httptest.NewServer(newServer(svc))
	opt.Bases, opt.Token, opt.Secret = []string{srv.URL}, s.FetchToken, s.Secret
	opt.Client = &http.Client{Transport: shown.wrap(http.DefaultTransport)}
	return func() { srv.Close(); svc.close() }, nil
}

// observers tells several observers about each turn.
type observers []flow.Observer

func (o observers) Observe(ctx context.Context, r flow.Report) {
	for _, ob := range o {
		ob.Observe(ctx, r)
	}
}

// fetchStory remembers the last turn's report and prints it under the fetch
// that caused it, with the fetch's latency as the simulated VoIPBin saw it.
type fetchStory struct {
	out  io.Writer
	mu   sync.Mutex
	last *flow.Report
	// decided is the last decision made when the caller's words arrived,
	// which the fetch that hands it out describes.
	decided *flow.Report
}

func (f *fetchStory) Observe(_ context.Context, r flow.Report) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.OnWords:
		f.decided = &r
	case r.Before.Ready != nil && f.decided != nil:
		f.last, f.decided = f.decided, nil
	default:
		f.last = &r
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (fn roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return fn(r) }

func (f *fetchStory) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Path != "/voipbin/fetch" {
			return next.RoundTrip(r)
		}
		f.mu.Lock()
		f.last = nil
		f.mu.Unlock()
		start := time.Now()
		resp, err := next.RoundTrip(r)
		took := time.Since(start)
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.last != nil {
			fmt.Fprintln(f.out, describeTurn(*f.last, took))
		}
		return resp, err
	})
}

// describeTurn is one fetch in a line: the machine's move, the classifier's
// answer and confidence, why the call went where it went, and the latency.
func describeTurn(r flow.Report, took time.Duration) string {
	b, a := r.Before, r.After
	from := b.State
	if from == "" {
		from = "new"
	}
	line := fmt.Sprintf("  [%s -> %s", from, a.State)
	if a.Guess != "" || a.Confidence > 0 {
		guess := a.Guess
		if guess == "" {
			guess = "unsure"
		}
		line += fmt.Sprintf(" | classifier: %s %.2f", guess, a.Confidence)
	}
	if a.ModelMS > b.ModelMS {
		line += fmt.Sprintf(" (model %d ms)", a.ModelMS-b.ModelMS)
	}
	switch {
	case r.Failed != "":
		line += " | why: the turn failed (" + r.Failed + "): fallback desk"
	case routed(a) && !routed(b):
		line += fmt.Sprintf(" | why: %s -> %s", a.Reason, a.Department)
	case a.Clarifications > b.Clarifications:
		line += fmt.Sprintf(" | why: not sure yet, clarification %d", a.Clarifications)
	case a.State == flow.StateMenu && b.State != flow.StateMenu:
		line += " | why: out of clarifications, keypad menu"
	case a.State == flow.StateHolding && b.State != flow.StateHolding:
		line += " | why: the model is slow lately: acknowledged, classifying on the next fetch"
	case a.State == flow.StateChecking && b.State != flow.StateChecking:
		line += " | why: silent too long: asked whether the caller is still there"
	case a.State == flow.StateKeypad && b.State == flow.StateKeypad:
		line += " | why: keypad tree: the next menu (or the same one again)"
	case b.State != "" && len(a.Turns) == len(b.Turns):
		line += fmt.Sprintf(" | why: no words yet, listening (%d ms of silence)", a.SilenceMS)
	}
	return line + fmt.Sprintf(" | fetch %.1f ms]", float64(took.Microseconds())/1000)
}

// promptCaller reads the caller's moves from in, one line at each pause and
// key collection, prompting when in is a terminal: words, an empty line for
// silence, #N to press N; the end of input hangs up.
func promptCaller(in io.Reader, out io.Writer) func(at string) (sim.Step, bool) {
	sc := bufio.NewScanner(in)
	prompt := logs.IsTerminal(in)
	done := false
	return func(at string) (sim.Step, bool) {
		if done {
			return sim.Step{}, false
		}
		if prompt {
			if at == "digits_receive" {
				fmt.Fprint(out, "caller presses (#N: key N, empty: nothing, or words)> ")
			} else {
				fmt.Fprint(out, "caller says (empty: silence, #N: press N, Ctrl-D: hang up)> ")
			}
		}
		if !sc.Scan() {
			done = true
			if prompt {
				fmt.Fprintln(out)
			}
			return sim.Step{Hangup: true, During: at}, true
		}
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#"):
			// Pressed now: VoIPBin keeps the key, as it does for a key pressed during a pause.
			return sim.Step{Press: strings.TrimPrefix(line, "#"), During: at}, true
		case line == "":
			return sim.Step{Silent: true, During: at}, true
		}
		return sim.Step{Say: line, During: at}, true
	}
}

// script is the caller's side of a testdata/conversations file.
type script struct {
	About    string          `json:"about"`
	Endpoint string          `json:"endpoint"`
	Config   string          `json:"config"`
	Model    json.RawMessage `json:"model"`
	Steps    []sim.Step      `json:"steps"`
	Language string          `json:"language"`
	Dialled  string          `json:"dialled"`
	Owned    []string        `json:"owned"`
	Flow     string          `json:"flow"`
}

func readScript(file string) (script, error) {
	var sc script
	b, err := os.ReadFile(file)
	if err != nil {
		return sc, fmt.Errorf("simulate: %w", err)
	}
	if err := json.Unmarshal(b, &sc); err != nil {
		return sc, fmt.Errorf("simulate: %s: %w", file, err)
	}
	if sc.Endpoint != "" && sc.Endpoint != "voipbin" {
		return sc, fmt.Errorf("simulate: %s is a %s conversation (HTTP requests, not a phone call)", file, sc.Endpoint)
	}
	return sc, nil
}

// readFlow reads a number's VoIPBin flow for the simulator: a JSON array of
// actions, YOUR_TOKEN standing for the fetch token. An empty name is no flow.
func readFlow(file, token string) ([]json.RawMessage, error) {
	if file == "" {
		return nil, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	var acts []json.RawMessage
	if err := json.Unmarshal(bytes.ReplaceAll(b, []byte("YOUR_TOKEN"), []byte(neturl.QueryEscape(token))), &acts); err != nil {
		return nil, fmt.Errorf("simulate: %s: want a JSON array of VoIPBin actions: %w", file, err)
	}
	return acts, nil
}
