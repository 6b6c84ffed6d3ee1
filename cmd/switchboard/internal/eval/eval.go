// Package eval measures how well Switchboard routes: it plays labelled caller
// conversations through the same flow.Router the server runs (priority lane,
// clarifying questions, classification with history) and reports accuracy,
// macro-F1, per-department precision and recall, the confusion matrix, the
// clarification rate, emergency recall, latency and model tokens, as text,
// JSON or a self-contained HTML page.
package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store"
)

// Outcomes that are not configured departments.
const (
	// Clarify is the outcome of a conversation whose turns ran out while the
	// flow was still asking the caller to say more.
	Clarify = "clarify"
	// Unknown labels a conversation that no department should take: it is
	// right when it ends at the fallback desk or still clarifying.
	Unknown = "unknown"
)

// Conversation is one labelled caller conversation, one line of the corpus:
// the caller's turns in order and the department they should reach.
type Conversation struct {
	ID            string   `json:"id"`
	Source        string   `json:"source,omitempty"`
	Turns         []string `json:"turns"`
	Department    string   `json:"department"`
	OriginalLabel string   `json:"original_label,omitempty"`
	// Language is the caller's, a BCP-47 tag; empty is the config's. A caller
	// offered languages by key picks this one.
	Language string `json:"language,omitempty"`
}

// Load reads a corpus in JSON Lines form. Blank lines are skipped; every other
// line must be a conversation with at least one turn and a department.
func Load(r io.Reader) ([]Conversation, error) {
	var convs []Conversation
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20) // a long transcript is one line
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var c Conversation
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if len(c.Turns) == 0 || c.Department == "" {
			return nil, fmt.Errorf("line %d: a conversation needs turns and a department", n)
		}
		if c.ID == "" {
			c.ID = "line-" + strconv.Itoa(n)
		}
		convs = append(convs, c)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(convs) == 0 {
		return nil, fmt.Errorf("no conversations")
	}
	return convs, nil
}

// LoadFile reads a corpus file; see Load.
func LoadFile(path string) ([]Conversation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	convs, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return convs, nil
}

// Outcome is what happened to one conversation.
type Outcome struct {
	Conversation
	// Got is the department the caller was connected to, or Clarify.
	Got string `json:"got"`
	// Reason says who chose Got: priority, local, model, unsure, ...
	Reason string `json:"reason,omitempty"`
	// Played is how many caller turns the flow heard before it connected.
	Played int `json:"played"`
	// Asked is how many clarifying questions the caller heard.
	Asked   int           `json:"asked"`
	Latency time.Duration `json:"latency_ns"`
	Tokens  int           `json:"tokens,omitempty"`
	// Confidence is the classifier's last answer's: in the department it
	// named, or, when unsure, that no department fits (0: never classified).
	Confidence float64 `json:"confidence,omitempty"`
}

// Right reports whether the outcome is what the label asks for.
func (o Outcome) Right(fallback string) bool {
	return o.Got == o.Department || o.Department == Unknown && (o.Got == fallback || o.Got == Clarify)
}

// Setup is one way of routing to evaluate: a routing config and the
// classifiers the router uses, as the server would build them.
type Setup struct {
	// Name labels the setup's column when several are compared.
	Name   string
	Config *flow.Config
	// Local builds the built-in classifier from a config; cross-validation calls
	// it once per fold with that fold's examples added.
	Local func(*flow.Config) flow.Classifier
	// Model is the model classifier, or nil for the local classifier alone.
	Model flow.Classifier
	// Mode, when set, plays every conversation as a phone call in that mode of
	// Config (see PlayCall). Empty: a config with modes is played in its
	// default mode, one without on the seed's webhook (see Play).
	Mode string
	// At is when every conversation starts, for opening hours; zero: for a
	// config with hours, the first moment from EvalFrom() on when every
	// department is open (Run refuses a config where there is none), so a
	// run scores the routing, not the clock. A call that meets everyone
	// closed (texts.closed_all) counts as unrouted.
	At time.Time
}

// EvalFrom is where a run looks for a moment with every department open: a
// fixed Monday, so that the same config is played at the same moment on any
// day the run is made.
func EvalFrom() time.Time { return time.Date(2026, time.June, 1, 0, 0, 0, 0, time.UTC) }

// Options tune a run.
type Options struct {
	// Concurrency bounds how many conversations play at once; below 1 means 1.
	Concurrency int
	// Folds, when 2 or more, cross-validates: each fold is played with a local
	// classifier whose config also holds, as examples, the other folds' turns.
	Folds int
	// BySource holds out each source of the corpus in turn: its conversations
	// are played with a local classifier whose config holds, as examples, the
	// turns of every other source only. Folds is ignored.
	BySource bool
	// Progress, when set, is called after each conversation with the counts,
	// one call at a time and done growing, whatever the Concurrency.
	Progress func(done, total int)
}

// Run plays every conversation through s and summarises the outcomes.
func Run(ctx context.Context, s Setup, convs []Conversation, opt Options) (*Report, error) {
	if s.Config == nil || s.Local == nil {
		return nil, fmt.Errorf("eval %s: a setup needs a config and a local classifier", s.Name)
	}
	if s.Mode == "" && len(s.Config.Routing.Modes) > 0 {
		s.Mode = s.Config.Routing.DefaultMode
	}
	if s.Mode != "" {
		if _, err := DialledFor(s.Config, s.Mode); err != nil {
			return nil, fmt.Errorf("eval %s: %w", s.Name, err)
		}
	}
	if s.At.IsZero() && s.Config.Routing.HasHours() {
		at, ok := s.Config.Routing.AllOpen(EvalFrom())
		if !ok {
			return nil, fmt.Errorf("eval %s: the config has opening hours, and in the two weeks from %s no moment has every department open: pass --at with the moment to play at",
				s.Name, EvalFrom().Format(time.DateOnly))
		}
		s.At = at
	}
	outs := make([]Outcome, len(convs))
	var done int
	var progressMu sync.Mutex
	progress := func() {
		if opt.Progress != nil {
			progressMu.Lock() // conversations end on many goroutines: report them in order
			defer progressMu.Unlock()
			done++
			opt.Progress(done, len(convs))
		}
	}
	// One store for the whole run: call IDs are unique, and the store is what
	// the server shares between requests, so it is exercised the same way.
	st := store.NewMemory(store.DefaultExpiry)
	var groups [][]int
	switch {
	case opt.BySource:
		groups = bySource(convs)
	case opt.Folds >= 2:
		groups = make([][]int, opt.Folds)
		for i := range convs {
			groups[i%opt.Folds] = append(groups[i%opt.Folds], i)
		}
	}
	if groups != nil {
		for _, test := range groups {
			cfg := HoldOut(s.Config, convs, test)
			if err := play(ctx, s, cfg, s.Local(cfg), st, convs, test, outs, opt.Concurrency, progress); err != nil {
				return nil, err
			}
		}
	} else {
		all := make([]int, len(convs))
		for i := range all {
			all[i] = i
		}
		if err := play(ctx, s, s.Config, s.Local(s.Config), st, convs, all, outs, opt.Concurrency, progress); err != nil {
			return nil, err
		}
	}
	rep := Summarize(s.Name, s.Config, outs)
	rep.At = s.At
	if h := s.Config.Routing.Hours; h != nil && !s.At.IsZero() {
		rep.Zone = h.Timezone
	}
	switch {
	case opt.BySource:
		rep.Folds = len(groups)
		rep.FoldsBy = "source"
		for _, g := range groups {
			part := make([]Outcome, len(g))
			for j, i := range g {
				part[j] = outs[i]
			}
			sub := Summarize(SourceOf(convs[g[0]]), s.Config, part)
			sub.Mistakes = nil // the whole run lists them
			rep.Sources = append(rep.Sources, sub)
		}
	case opt.Folds >= 2:
		rep.Folds = opt.Folds
	}
	return rep, nil
}

// SourceOf names the source a conversation was taken from: the repository
// part of its source column ("owner/name:path" gives "owner/name"), so that
// the files of one dataset are held out together.
func SourceOf(c Conversation) string {
	src, _, _ := strings.Cut(c.Source, ":")
	if src == "" {
		return "(no source)"
	}
	return src
}

// bySource groups conversation indexes by SourceOf, sources in name order.
func bySource(convs []Conversation) [][]int {
	idx := map[string][]int{}
	for i, c := range convs {
		idx[SourceOf(c)] = append(idx[SourceOf(c)], i)
	}
	names := make([]string, 0, len(idx))
	for n := range idx {
		names = append(names, n)
	}
	slices.Sort(names)
	groups := make([][]int, len(names))
	for j, n := range names {
		groups[j] = idx[n]
	}
	return groups
}

// Fold returns the config for fold k of n and the indexes of fold k's own
// conversations: conversation i is in fold i mod n (the corpus is shuffled
// when it is built, and a fixed rule keeps runs comparable). See HoldOut.
func Fold(cfg *flow.Config, convs []Conversation, n, k int) (*flow.Config, []int) {
	var test []int
	for i := range convs {
		if i%n == k {
			test = append(test, i)
		}
	}
	return HoldOut(cfg, convs, test), test
}

// HoldOut returns a copy of cfg whose departments also hold, as examples,
// every conversation except the held-out ones (unknown ones go to the
// fallback desk, whose examples mean "nobody"). test must be sorted.
func HoldOut(cfg *flow.Config, convs []Conversation, test []int) *flow.Config {
	c := *cfg
	c.Routing.Departments = make(map[string]*flow.Department, len(cfg.Routing.Departments))
	for name, d := range cfg.Routing.Departments {
		dd := *d
		dd.Examples = slices.Clone(d.Examples)
		dd.Keywords = slices.Clone(d.Keywords)
		c.Routing.Departments[name] = &dd
	}
	for i, conv := range convs {
		if _, held := slices.BinarySearch(test, i); held {
			continue
		}
		dept := conv.Department
		if dept == Unknown { // what no department takes is the fallback desk's to describe
			dept = c.Routing.Fallback.Destination
		}
		if d := c.Routing.Departments[dept]; d != nil {
			d.Examples = append(d.Examples, strings.Join(conv.Turns, " "))
		}
	}
	return &c
}

func play(ctx context.Context, s Setup, cfg *flow.Config, local flow.Classifier, st Store, convs []Conversation, idx []int, outs []Outcome, concurrency int, progress func()) error {
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range max(concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				id := "eval-" + strconv.Itoa(i)
				if s.Mode == "" {
					outs[i] = Play(ctx, cfg, st, local, s.Model, id, convs[i], s.At)
				} else {
					dialled, _ := DialledFor(cfg, s.Mode)
					outs[i] = PlayCall(ctx, cfg, st, local, s.Model, id, dialled, convs[i], s.At)
				}
				progress()
			}
		}()
	}
	var err error
feed:
	for _, i := range idx {
		select {
		case jobs <- i:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	return err
}

// Play plays one conversation through a router built as the server builds it,
// on the webhook channel, feeding the next caller turn whenever the flow asks
// to clarify, and stops at the first transfer. The call starts at at (zero: now).
func Play(ctx context.Context, cfg *flow.Config, st flow.Calls, local, model flow.Classifier, callID string, c Conversation, at time.Time) Outcome {
	var tokens *counter
	if model != nil {
		tokens = &counter{Classifier: model}
		model = tokens
	}
	r := newRouter(cfg, st, local, model, at)
	out := Outcome{Conversation: c, Got: Clarify}
	start := time.Now()
	for _, words := range c.Turns {
		out.Played++
		dept, ok := routedTo(r.Next(ctx, flow.Turn{CallID: callID, Channel: flow.Webhook, Words: words}).Actions)
		if ok {
			out.Got = dept
			break
		}
		out.Asked++
	}
	return out.finish(ctx, st, callID, start, tokens)
}

// finish records how long the conversation took, why it went where it went
// and what the model cost.
func (out Outcome) finish(ctx context.Context, st flow.Calls, callID string, start time.Time, tokens *counter) Outcome {
	out.Latency = time.Since(start)
	if call, _, err := st.Load(ctx, callID); err == nil {
		out.Reason, out.Confidence = call.Reason, call.Confidence
	}
	if tokens != nil {
		out.Tokens = int(tokens.n.Load())
	}
	return out
}

// counter adds up the tokens a model classifier reports for one conversation.
type counter struct {
	flow.Classifier
	n atomic.Int64
}

func (c *counter) Classify(ctx context.Context, turns []string) (flow.Verdict, error) {
	v, err := c.Classifier.Classify(ctx, turns)
	c.n.Add(int64(v.Tokens))
	return v, err
}

// newRouter builds the router a conversation is played through, its calls
// starting at at (zero: now) for opening hours.
func newRouter(cfg *flow.Config, st flow.Calls, local, model flow.Classifier, at time.Time) *flow.Router {
	r := flow.NewRouter(cfg, st, local, model, slog.New(slog.DiscardHandler))
	if !at.IsZero() {
		r.Clock = func() time.Time { return at }
	}
	return r
}
