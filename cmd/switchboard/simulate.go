package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/logs"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/service"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
	"github.com/switchboard/switchboard/flow"
)

// stepList collects --say and --press flags in the order given.
type stepList []voipbintest.Step

func (l *stepList) sayer() func(string) error {
	return func(s string) error {
		if strings.TrimSpace(s) == "" {
			*l = append(*l, voipbintest.Step{Silent: true})
		} else {
			*l = append(*l, voipbintest.Step{Say: s})
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
	return simulate(ctx, args, getenv, stdin, terminalOf(stdin, stdout), stdout, stderr)
}

// terminal is how simulate talks to a person: whether it prompts, whether
// it echoes what they typed (a real terminal does that itself) and how wide
// a line may be (0: any width).
type terminal struct {
	prompt, echo bool
	width        int
}

// terminalOf prompts when stdin is a terminal, and fits each fetch's line to
// stdout's width when that is one.
func terminalOf(stdin io.Reader, stdout io.Writer) terminal {
	return terminal{prompt: logs.IsTerminal(stdin), width: terminalWidth(stdout)}
}

func simulate(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, term terminal, stdout, stderr io.Writer) error {
	var steps stepList
	fs := newFlags("simulate", stdout, stderr)
	url := fs.String("url", "", "a running switchboard to call (default: run one in this process)")
	lang := fs.String("lang", "", "the number's language (?lang=)")
	script := fs.String("script", "", "replay the caller of a conversation `FILE` (testdata/conversations/*.json)")
	fs.Func("say", "what the caller says at the next pause (repeat; \"\" stays silent)", steps.sayer())
	fs.Func("press", "keys the caller presses at the next key collection (repeat); KEYS@talk or KEYS@sleep presses them during the next talk or pause", func(s string) error {
		keys, during, _ := strings.Cut(s, "@")
		if keys == "" || during != "" && during != "talk" && during != "sleep" {
			return fmt.Errorf("want KEYS, KEYS@talk or KEYS@sleep, got %q", s)
		}
		steps = append(steps, voipbintest.Step{Press: keys, During: during})
		return nil
	})
	dialled := fs.String("dialled", voipbintest.DefaultDialled, "the number the caller dialled (the account owns it)")
	caller := fs.String("caller", voipbintest.DefaultCaller, "the caller's number")
	var owned, unanswered []string
	fs.Func("owned", "another number the account owns, accepted as caller ID (repeat)", func(s string) error {
		owned = append(owned, s)
		return nil
	})
	defaultOutgoing := fs.String("default-outgoing", "", "the account's default outgoing number (none by default)")
	jumble := fs.Uint64("jumble", 0, "deliver the caller's speech events late, out of order, some lost, some twice, as VoIPBin may, from this `SEED` (0: in order)")
	handoff := fs.Bool("handoff", false, "hand callers over as serve does with VOIPBIN_ACCESSKEY: on hold, each destination rung in turn with a whisper (on with --unanswered, --busy or --declines)")
	people := map[string]string{}
	for _, p := range []struct{ flag, person, usage string }{
		{"unanswered", voipbintest.PersonUnanswered, "a destination that rings and nobody answers (repeat)"},
		{"busy", voipbintest.PersonBusy, "a destination that is busy (repeat)"},
		{"declines", voipbintest.PersonDeclines, "a destination whose person answers and presses 2 (repeat)"},
	} {
		fs.Func(p.flag, p.usage, func(s string) error {
			people[s] = p.person
			if p.person != voipbintest.PersonDeclines {
				unanswered = append(unanswered, s) // a plain connect to it rings on
			}
			return nil
		})
	}
	flowFile := fs.String("flow", "", "the number's VoIPBin flow, a JSON array of actions (YOUR_TOKEN stands for the fetch token); default [answer, fetch], or in process the example customer flow for a flow-step number")
	s := envSettings(getenv)
	s.register(fs, "warn") // the call's story is on stdout; logs only when something is wrong
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *url != "" {
		// These shape the service simulate runs itself; a server at --url has its own.
		for _, name := range []string{"config", "log-level", "log-format", "log-transcripts"} {
			if set[name] {
				return fmt.Errorf("simulate: --%s sets up the service simulate runs itself, but --url calls a running one, "+
					"which has its own: start that server with --%[1]s, or leave out --url", name)
			}
		}
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
		// The command line wins over the file, and says so.
		overridden := func(flag, mine, theirs string) bool {
			if theirs == "" || mine == "" || mine == theirs {
				return false
			}
			fmt.Fprintf(stdout, "# (--%s %s replaces the file's %s)\n", flag, mine, theirs)
			return true
		}
		if !overridden("lang", *lang, conv.Language) && conv.Language != "" {
			*lang = conv.Language
		}
		if !overridden("config", s.ConfigFile, conv.Config) && conv.Config != "" && s.ConfigFile == "" {
			s.ConfigFile = filepath.Join(filepath.Dir(*script), "..", conv.Config)
			if *url != "" {
				fmt.Fprintf(stdout, "# (the file routes with %s; this call uses the config of the server at %s)\n", conv.Config, *url)
			}
		}
		if len(conv.Model) > 0 {
			fmt.Fprintln(stdout, "# (the file scripts a model's answers; this call uses the configured model, or the local classifier)")
		}
		if !overridden("flow", *flowFile, conv.Flow) && conv.Flow != "" && *flowFile == "" {
			*flowFile = filepath.Join(filepath.Dir(*script), "..", conv.Flow)
		}
		if !(set["dialled"] && overridden("dialled", *dialled, conv.Dialled)) && conv.Dialled != "" {
			*dialled = conv.Dialled
		}
		if !overridden("at", s.At, conv.At) && conv.At != "" && s.At == "" {
			s.At = conv.At
		}
		owned = append(owned, conv.Owned...)
		unanswered = conv.Unanswered
	}
	if *url != "" && s.At != "" {
		return errors.New("simulate: --at plays the call in this process; the server at --url keeps its own clock (start it with serve --at)")
	}
	show := func(l string) { fmt.Fprintln(stdout, l) }
	opt := voipbintest.Options{
		CallID: uuid.NewString(), Language: *lang, OnLine: func(l string) { show(l) },
		Caller: *caller, Dialled: *dialled, Owned: owned, DefaultOutgoing: *defaultOutgoing, Unanswered: unanswered,
	}
	cfg, err := service.LoadConfig(s.ConfigFile)
	if err != nil {
		return err
	}
	queues := voipbintest.Queues(cfg)
	opt.Queues = queues
	if *jumble != 0 {
		opt.Jumble = rand.New(rand.NewPCG(*jumble, 0))
	}
	hungUp := slices.ContainsFunc(steps, func(s voipbintest.Step) bool { return s.Hangup })
	typed := "" // the words just typed, which the screen already shows
	if *script == "" && len(steps) == 0 {
		ask := promptCaller(stdin, stdout, term)
		opt.Ask = func(at string) (voipbintest.Step, bool) {
			step, ok := ask(at)
			hungUp = hungUp || step.Hangup
			typed = step.Say
			return step, ok
		}
	}
	if *url != "" {
		opt.Bases, opt.Token, opt.Secret = []string{*url}, getenv("SWITCHBOARD_FETCH_TOKEN"), getenv("VOIPBIN_WEBHOOK_SECRET")
	} else {
		if *handoff || len(people) > 0 {
			opt.REST = voipbintest.StartREST()
			opt.REST.People = people
			fmt.Fprintf(stdout, "# handoffs on: a VoIPBin account with conferences; ring times run %v to the second\n", simulateRingSecond)
		}
		stop, err := simulateInProcess(ctx, s, &opt, stdout, stderr, term.width)
		if err != nil {
			return err
		}
		defer stop()
		// Each move once: the fetch's own line says what the simulator's
		// "fetch URL" and "moves:" lines would, and what was typed at the
		// prompt is on the screen already.
		show = func(l string) {
			if strings.HasPrefix(l, "fetch /") || strings.HasPrefix(l, "  moves: ") ||
				term.prompt && typed != "" && l == "caller: "+typed {
				return
			}
			fmt.Fprintln(stdout, l)
		}
	}
	switch {
	case *flowFile != "":
		opt.Flow, err = voipbintest.ReadFlow(*flowFile, opt.Token)
	case *url == "":
		opt.Flow, err = flowStepFlow(s.ConfigFile, opt.Dialled, opt.Token)
		if len(opt.Flow) > 0 {
			fmt.Fprintln(stdout, "# a flow-step number: the number's flow is the example customer flow (switchboard provision --flow-step)")
		}
	}
	if err != nil {
		return err
	}
	res, err := voipbintest.Run(ctx, opt, steps)
	if res != nil {
		fmt.Fprintln(stdout, res.Summary())
	}
	if err == nil && len(res.Unplayed) > 0 && opt.Ask == nil {
		err = fmt.Errorf("the call ended before %d of the caller's steps were played: %s", len(res.Unplayed), describeSteps(res.Unplayed))
	}
	if err == nil && res.Connected == "" && !hungUp {
		// A call we ended ourselves (everyone closed) still reached nobody:
		// whoever scripts simulate learns it from the exit status.
		err = errors.New("the caller reached nobody")
		if res.EndedByService() {
			err = errors.New("the caller reached nobody: everyone was closed, they heard texts.closed_all and the call ended")
		}
	}
	return err
}

// describeSteps writes steps as the flags that give them.
func describeSteps(steps []voipbintest.Step) string {
	var parts []string
	for _, s := range steps {
		switch {
		case s.Hangup:
			parts = append(parts, "a hangup")
		case s.Press != "":
			p := s.Press
			if s.During != "" && s.During != "digits_receive" {
				p += "@" + s.During
			}
			parts = append(parts, "--press "+p)
		case s.Silent:
			parts = append(parts, `--say ""`)
		default:
			parts = append(parts, fmt.Sprintf("--say %q", s.Say))
		}
	}
	return strings.Join(parts, ", ")
}

// simulateInProcess starts the service on a loopback port for one call and
// points opt at it; each fetch's story is printed to stdout.
func simulateInProcess(ctx context.Context, s settings, opt *voipbintest.Options, stdout, stderr io.Writer, width int) (func(), error) {
	s.FetchToken, s.Secret = uuid.NewString(), uuid.NewString() // this process plays both sides
	log, err := s.logger(stderr)
	if err != nil {
		return nil, err
	}
	rest := opt.REST
	if rest != nil {
		// The account owns the number dialled, VoIPBin's caller ID for the legs.
		rest.Own(opt.Dialled)
		s.AccessKey, s.APIURL = voipbintest.AccessKey, rest.URL
	}
	if rest != nil {
		s.RingSecond = simulateRingSecond
	}
	svc, err := service.New(ctx, s.Config, log)
	if err != nil {
		return nil, err
	}
	simClock(svc, opt)
	shown := &fetchStory{out: stdout, cfg: &svc.Routing().Routing, width: width}
	svc.AddObserver(shown)
	srv := voipbintest.Serve(svc.Handler())
	opt.Bases, opt.Token, opt.Secret = []string{srv.URL}, s.FetchToken, s.Secret
	opt.Client = &http.Client{Transport: shown.wrap(http.DefaultTransport)}
	if rest != nil {
		rest.Bases, rest.Secret = []string{srv.URL}, s.Secret
		return func() { svc.WaitHandoffs(); rest.WaitCalls(5 * time.Second); srv.Close(); svc.Close(); rest.Close() }, nil
	}
	return func() { srv.Close(); svc.Close() }, nil
}

// simClock gives a service in the same process as a simulated call the
// call's own clock as its store's (see voipbintest.Options.Clock); a
// RealTime call and a store of its own (Redis) keep theirs.
func simClock(svc *service.Service, opt *voipbintest.Options) {
	if m := svc.Memory(); m != nil && !opt.RealTime {
		opt.Clock = voipbintest.NewClock(time.Now())
		m.SetClock(opt.Clock.Now)
	}
}

// simulateRingSecond is a second of ring time in simulate, which plays a
// call faster than it happens.
const simulateRingSecond = 10 * time.Millisecond

// fetchStory remembers the last turn's report and prints it under the fetch
// that caused it, with the fetch's latency as the simulated VoIPBin saw it.
type fetchStory struct {
	out   io.Writer
	cfg   *flow.Routing // its thresholds explain the story
	width int           // of the terminal: each fetch's line fits it (0: any)
	n     int           // fetches so far
	mu    sync.Mutex
	last  *flow.Report
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
		if r.URL.Path != voipbin.FetchPath {
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
		f.n++
		line := fmt.Sprintf("fetch %d: ", f.n)
		if f.last != nil {
			line += describeTurn(*f.last, took, f.cfg)
		} else {
			line += fmt.Sprintf("no turn | %.1f ms", float64(took.Microseconds())/1000)
			if err != nil {
				line += " | " + err.Error()
			}
		}
		fmt.Fprintln(f.out, fitLine(line, f.width))
		return resp, err
	})
}

// describeTurn is one fetch in a short line: the machine's move, the
// classifier's answer (a department and its confidence, or "unsure" and the
// likelihood that no department fits), why the call went where it went, and
// the fetch's latency.
func describeTurn(r flow.Report, took time.Duration, cfg *flow.Routing) string {
	minConfidence := cfg.LLM.MinConfidence
	b, a := r.Before, r.After
	from := b.State
	if from == "" {
		from = "new"
	}
	line := fmt.Sprintf("%s -> %s", from, a.State)
	classified := a.Guess != b.Guess || a.Confidence != b.Confidence // else said by an earlier fetch
	switch {
	case !classified:
	case a.Guess == "" && a.Confidence > 0:
		line += fmt.Sprintf(" | unsure %.2f", a.Confidence)
	case a.Guess != "" && a.Confidence < minConfidence:
		line += fmt.Sprintf(" | %s %.2f < min_confidence %.2f", a.Guess, a.Confidence, minConfidence)
	case a.Guess != "":
		line += fmt.Sprintf(" | %s %.2f", a.Guess, a.Confidence)
	}
	if a.ModelMS > b.ModelMS {
		line += fmt.Sprintf(" (model %d ms)", a.ModelMS-b.ModelMS)
	}
	switch {
	case r.Failed != "":
		line += " | why: the turn failed (" + r.Failed + "): fallback desk"
	case a.Closed != "" && b.Closed == "":
		line += fmt.Sprintf(" | why: %s -> %s, closed -> %s", a.Reason, a.Closed, cmp.Or(a.Department, "nobody open: closed_all"))
	case a.Routed() && !b.Routed():
		line += fmt.Sprintf(" | why: %s -> %s", a.Reason, a.Department)
	case a.Clarifications > b.Clarifications:
		line += fmt.Sprintf(" | why: not sure yet, clarification %d", a.Clarifications)
	case a.State == flow.StateMenu && b.State != flow.StateMenu:
		line += " | why: out of clarifications, keypad menu"
	case a.State == flow.StateHolding && b.State != flow.StateHolding:
		line += " | why: the model is slow lately: acknowledged"
	case a.State == flow.StateChecking && b.State != flow.StateChecking:
		line += " | why: silent too long: still there?"
	case a.State == flow.StateKeypad && b.State == flow.StateKeypad:
		line += " | why: keypad tree: the next menu"
	case b.Announced != "" && a.Left():
		line += " | why: announced: now the transfer"
	case b.Announced != "" && a.Announced != "" && len(a.Turns) == len(b.Turns):
		line += " | why: the caller speaks after the announcement: the transfer waits for their words"
	case b.State != "" && len(a.Turns) == len(b.Turns) && b.Speaking():
		line += fmt.Sprintf(" | why: the caller is speaking, silent %d of %d ms", a.SilenceMS, cfg.Dialog.SilenceMS)
	case b.State != "" && len(a.Turns) == len(b.Turns):
		// Silence is counted in whole pauses handed out, this one included.
		line += fmt.Sprintf(" | why: no words yet, silent %d of %d ms", a.SilenceMS, cfg.Dialog.SilenceMS)
	}
	return line + fmt.Sprintf(" | %.1f ms", float64(took.Microseconds())/1000)
}

// fitLine cuts line to width runes, marking the cut (width 0: as it is).
func fitLine(line string, width int) string {
	r := []rune(line)
	if width <= 0 || len(r) <= width {
		return line
	}
	return string(r[:max(width-1, 0)]) + "…"
}

// promptCaller reads the caller's moves from in, one line each time the
// caller is free to act (at a pause or a key collection, their last words
// answered), prompting when term says so: words, an empty line for silence,
// keys alone (2, 123#) or #N to press them, anywhere; the end of input hangs up.
func promptCaller(in io.Reader, out io.Writer, term terminal) func(at string) (voipbintest.Step, bool) {
	sc := bufio.NewScanner(in)
	done := false
	return func(at string) (voipbintest.Step, bool) {
		if done {
			return voipbintest.Step{}, false
		}
		if term.prompt {
			if at == "digits_receive" {
				fmt.Fprint(out, "caller presses (keys such as 2; empty: nothing; or words)> ")
			} else {
				fmt.Fprint(out, "caller says (words; empty: silence; keys such as 2 or #2: press; Ctrl-D: hang up)> ")
			}
		}
		if !sc.Scan() {
			done = true
			if term.prompt {
				fmt.Fprintln(out)
			}
			return voipbintest.Step{Hangup: true, During: at}, true
		}
		line := strings.TrimSpace(sc.Text())
		if term.echo {
			fmt.Fprintln(out, line)
		}
		switch {
		case strings.HasPrefix(line, "#") && len(line) > 1:
			// Pressed now: VoIPBin keeps the key, as it does for a key pressed during a pause.
			return voipbintest.Step{Press: strings.TrimPrefix(line, "#"), During: at}, true
		case keypadKeys.MatchString(line):
			// Keys alone are pressed, wherever the caller is: words of
			// digits only would say nothing to the classifier.
			return voipbintest.Step{Press: line, During: at}, true
		case line == "":
			return voipbintest.Step{Silent: true, During: at}, true
		}
		return voipbintest.Step{Say: line, During: at}, true
	}
}

// keypadKeys is a line of keys only: it is pressed, not said.
var keypadKeys = regexp.MustCompile(`^[0-9*#]+$`)

// script is the caller's side of a testdata/conversations file.
type script struct {
	About    string             `json:"about"`
	Endpoint string             `json:"endpoint"`
	Config   string             `json:"config"`
	Model    json.RawMessage    `json:"model"`
	Steps    []voipbintest.Step `json:"steps"`
	Language string             `json:"language"`
	Dialled  string             `json:"dialled"`
	Owned    []string           `json:"owned"`
	Flow     string             `json:"flow"`
	// Unanswered are transfer targets that are busy or do not answer.
	Unanswered []string `json:"unanswered"`
	// At is the moment the call starts, for opening hours.
	At string `json:"at"`
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

// flowStepFlow is the number's flow the simulator plays for a number of a
// flow-step mode in configFile: the example customer flow around a fetch
// from this service (token in its URL). Other numbers get none, so the
// simulator plays the provisioned [answer, fetch].
func flowStepFlow(configFile, dialled, token string) ([]json.RawMessage, error) {
	cfg, err := service.LoadConfig(configFile)
	if err != nil {
		return nil, err
	}
	if _, m := cfg.Routing.Mode(dialled); !m.FlowStep() {
		return nil, nil
	}
	var raws []json.RawMessage
	for _, a := range voipbin.CustomerFlow(cfg, voipbin.FetchURL{Token: token, To: voipbin.DialledNumber}.String()) {
		b, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		raws = append(raws, b)
	}
	return raws, nil
}
