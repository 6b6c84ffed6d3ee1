package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/eval"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/service"
	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/prompts"
)

// files is a repeatable file flag.
type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(s string) error { *f = append(*f, s); return nil }

// runEval is `switchboard eval`: it plays labelled conversations through the
// real flow with each given config and prompt and reports how well they route.
func runEval(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", stdout, stderr)
	var configs, promptFiles files
	data := fs.String("data", "", "labelled conversations, one JSON object a line (required)")
	fs.Var(&configs, "config", "routing config `FILE`; repeat to compare (default: the embedded example)")
	fs.Var(&promptFiles, "prompt", "system prompt template `FILE` for the model; repeat to compare")
	classifier := fs.String("classifier", "local", "local, or llm for the model with the local classifier first, as the server runs")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	htmlOut := fs.String("html", "", "also write a self-contained HTML report to `FILE`")
	folds := fs.String("folds", "", "cross-validate: K folds, or by-source to hold out each source of the corpus in turn; each fold's local classifier also learns the other folds' turns as examples")
	concurrency := fs.Int("concurrency", 0, "conversations played at once (default 1 for local, 8 for llm)")
	mistakes := fs.Int("mistakes", 0, "list up to N wrongly routed conversations")
	mode := fs.String("mode", "", "play every conversation as a phone call in this mode of the config (default: a config's default mode; the seed webhook for a config without modes)")
	at := fs.String("at", "", "start every conversation at this moment, for opening hours: 2026-12-25T10:00 in each config's routing.hours zone, or RFC 3339 (default: a config with hours plays at the first moment every department is open, from Monday 2026-06-01)")
	suggest := fs.Int("suggest", 0, "list, per department, up to N words and phrases that most often decided a misroute")
	vectors := fs.Bool("vectors", true, "let the local classifier use its word vectors (false: its words, spelling and lexicon only)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" {
		return errors.New("eval: --data FILE.jsonl is required")
	}
	if *classifier != "local" && *classifier != "llm" {
		return fmt.Errorf("eval: --classifier %q: want local or llm", *classifier)
	}
	if len(promptFiles) > 0 && *classifier != "llm" {
		return errors.New("eval: --prompt needs --classifier llm")
	}
	opt := eval.Options{Concurrency: *concurrency}
	switch n, err := strconv.Atoi(*folds); {
	case *folds == "":
	case *folds == "by-source":
		opt.BySource = true
	case err != nil || n == 1 || n < 0:
		return fmt.Errorf("eval: --folds %q: want 0 (no cross-validation), at least 2, or by-source", *folds)
	default:
		opt.Folds = n
	}
	convs, err := eval.LoadFile(*data)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	setups, err := evalSetups(configs, promptFiles, *classifier == "llm", flow.LocalOptions{NoVectors: !*vectors}, getenv)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	for i := range setups {
		setups[i].Mode = *mode
		if *at != "" {
			if setups[i].At, err = service.ParseAt(*at, setups[i].Config); err != nil {
				return fmt.Errorf("eval: %w", err)
			}
		}
	}
	if opt.Concurrency < 1 {
		opt.Concurrency = 1
		if *classifier == "llm" {
			opt.Concurrency = 8 // the model's latency, not our CPU, bounds a run
		}
	}
	var reps []*eval.Report
	for _, s := range setups {
		opt.Progress = progressBar(stderr, s.Name)
		rep, err := eval.Run(ctx, s, convs, opt)
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		if *suggest > 0 {
			rep.Suggestions = eval.Suggest(rep, *suggest)
		}
		reps = append(reps, rep)
	}
	if *htmlOut != "" {
		if err := writeHTMLFile(*htmlOut, reps); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	if *asJSON {
		return eval.WriteJSON(stdout, reps)
	}
	if err := eval.WriteText(stdout, reps, *mistakes); err != nil {
		return err
	}
	for _, r := range reps {
		if r.Suggestions != nil {
			eval.WriteSuggestions(stdout, r.Name, r.Suggestions)
		}
	}
	return nil
}

// evalSetups builds one setup per config and prompt pair.
func evalSetups(configs, promptFiles []string, llm bool, opt flow.LocalOptions, getenv func(string) string) ([]eval.Setup, error) {
	type named struct {
		name string
		cfg  *flow.Config
	}
	var cfgs []named
	if len(configs) == 0 {
		cfgs = append(cfgs, named{"example", flow.ExampleConfig()})
	}
	for _, path := range configs {
		cfg, err := service.LoadConfig(path)
		if err != nil {
			return nil, err
		}
		cfgs = append(cfgs, named{stem(path), cfg})
	}
	local := func(c *flow.Config) flow.Classifier { return flow.NewLocalWith(c, opt) }
	if !llm {
		setups := make([]eval.Setup, len(cfgs))
		for i, c := range cfgs {
			setups[i] = eval.Setup{Name: c.name, Config: c.cfg, Local: local}
		}
		return setups, nil
	}
	if getenv("OPENAI_API_KEY") == "" {
		return nil, errors.New("--classifier llm needs OPENAI_API_KEY")
	}
	texts := []string{""} // "": the config's own prompt, or the embedded one
	var names []string
	if len(promptFiles) > 0 {
		texts = texts[:0]
	}
	for _, path := range promptFiles {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		texts, names = append(texts, string(b)), append(names, stem(path))
	}
	var setups []eval.Setup
	for _, c := range cfgs {
		for i, text := range texts {
			m, err := prompts.NewClassifier(c.cfg, prompts.Options{
				APIKey:  getenv("OPENAI_API_KEY"),
				BaseURL: getenv("OPENAI_BASE_URL"),
				Model:   getenv("OPENAI_MODEL"),
				Prompt:  text,
				Log:     slog.New(slog.DiscardHandler),
			})
			if err != nil {
				return nil, fmt.Errorf("model for %s: %w", c.name, err)
			}
			name := c.name
			if names != nil {
				name = names[i]
				if len(cfgs) > 1 {
					name = c.name + "+" + names[i]
				}
			}
			setups = append(setups, eval.Setup{Name: name, Config: c.cfg, Local: local, Model: m})
		}
	}
	return setups, nil
}

func stem(path string) string {
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

func writeHTMLFile(path string, reps []*eval.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := eval.WriteHTML(f, reps); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// progressBar draws a bar on w while a run goes, but only when w is a
// terminal: a pipe or a CI log gets no carriage-return noise.
func progressBar(w io.Writer, name string) func(done, total int) {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	const width = 30
	var mu sync.Mutex // conversations finish on several goroutines
	shown := -1       // the last percentage drawn
	return func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		// Redraw per percent, not per conversation: a local run finishes
		// hundreds a millisecond.
		pct := 100 * done / total
		if done < total && pct <= shown {
			return
		}
		shown = pct
		n := width * done / total
		fmt.Fprintf(w, "\r%-12s [%s%s] %d/%d", name, strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total)
		if done == total {
			fmt.Fprint(w, "\r\033[K")
		}
	}
}
