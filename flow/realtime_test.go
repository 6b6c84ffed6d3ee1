package flow_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store"
)

// call is one VoIPBin call on a memory store, greeted, its transcription known.
type call struct {
	t      *testing.T
	id     string
	mem    *store.Memory
	router *flow.Router
	events *flow.Events
	cfg    *flow.Config
}

func greeted(t *testing.T, model flow.Classifier) *call {
	t.Helper()
	cfg := flow.ExampleConfig()
	mem := store.NewMemory(store.DefaultExpiry)
	c := &call{t: t, id: "rt-1", mem: mem, cfg: cfg, router: flow.NewRouter(cfg, mem, flow.NewLocal(cfg), model, quiet),
		events: flow.NewEvents(mem, quiet)}
	c.fetch()
	if err := c.events.Transcribing(t.Context(), "tr-1", c.id, ""); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *call) fetch() flow.Reply {
	return c.router.Next(c.t.Context(), flow.Turn{CallID: c.id, Channel: flow.Voice})
}

// handedOut fetches as VoIPBin runs the answers: an announced transfer's
// second fetch too (see handedOut in turn_test.go).
func (c *call) handedOut() []flow.Action {
	return handedOut(c.t.Context(), c.router, flow.Turn{CallID: c.id, Channel: flow.Voice})
}

// say delivers the caller's final words as the event handler does: into the
// inbox, then the turn on them.
func (c *call) say(id, words string) flow.Reply {
	c.t.Helper()
	if _, _, err := c.events.Heard(c.t.Context(), flow.Heard{ID: id, Session: "tr-1", Speaker: flow.Caller, Text: words}); err != nil {
		c.t.Fatal(err)
	}
	return c.router.Next(c.t.Context(), flow.Turn{CallID: c.id, Channel: flow.Voice, OnWords: true})
}

func (c *call) load() (flow.Call, []flow.Input) {
	c.t.Helper()
	got, inbox, err := c.mem.Load(c.t.Context(), c.id)
	if err != nil {
		c.t.Fatal(err)
	}
	return got, inbox
}

// only returns the pause of acts when that is all they are, else -1.
func only(acts []flow.Action) int {
	if len(acts) != 1 || acts[0].Kind != flow.ActListen {
		return -1
	}
	return acts[0].Millis
}

// TestDecisionOnWords: the turn on the caller's words decides and keeps the
// decision with the call; the next fetch hands it out, and only that one.
func TestDecisionOnWords(t *testing.T) {
	c := greeted(t, nil)
	if r := c.say("w1", "hi"); len(r.Actions) != 0 {
		t.Errorf("the event's turn answered %+v; nobody hears it", r.Actions)
	}
	got, inbox := c.load()
	if got.State != flow.StateClarifying || len(got.Ready) == 0 || len(inbox) != 0 {
		t.Fatalf("after the words: %s, ready %+v, inbox %+v; want clarifying, a question ready, the words taken", got.State, got.Ready, inbox)
	}
	first := c.fetch()
	if len(first.Actions) == 0 || first.Actions[0].Kind != flow.ActTalk || len(first.Moves) == 0 {
		t.Fatalf("first fetch: %+v (moves %s); want the clarifying question and its moves", first.Actions, first.Moves)
	}
	if second := c.fetch(); len(second.Actions) != 1 || second.Actions[0].Kind != flow.ActListen {
		t.Errorf("second fetch: %+v; want a pause: the question is asked once", second.Actions)
	}
	// Words while a decision waits for its fetch (a correction) have it
	// taken again on all the caller's words; the fetch hands out the new one.
	c.say("w2", "hello there") // a second clarifying question, ready
	before, _ := c.load()
	c.say("w3", "my invoice shows a double charge")
	after, _ := c.load()
	if after.State != flow.StateTransferred || after.Department != "billing" || after.Clarifications != before.Clarifications-1 ||
		after.Actions != before.Actions-flow.Cost(before.Ready)+flow.Cost(after.Ready) {
		t.Errorf("after the correction: %s to %q, %d clarifications, %d actions; want transferred to billing, the question taken back (%d, %d actions before)",
			after.State, after.Department, after.Clarifications, after.Actions, before.Clarifications, before.Actions)
	}
	if got := lastConnect(c.handedOut()); got != "billing" {
		t.Errorf("the fetch after the correction connected %q, want billing", got)
	}
	if len(after.Turns) != 3 {
		t.Errorf("turns %q; want all three lines", after.Turns)
	}
}

// TestFetchWhileDeciding: a fetch that finds the caller's words unread while
// their turn may still be deciding pauses briefly and leaves them be, says
// "One moment, please." once when it takes a while, and decides itself on
// words too old for a decision to be on the way.
func TestFetchWhileDeciding(t *testing.T) {
	ctx := t.Context()
	quick := flow.ExampleConfig().Routing.Dialog.QuickMS
	arrived := func(c *call, ago time.Duration) {
		t.Helper()
		at := time.Now().Add(-ago).UnixMilli()
		// The call has waited for words since before they came.
		waiting, _ := c.load()
		waiting.WordsFromMS = at - 1
		if err := c.mem.Save(ctx, waiting, 0); err != nil {
			t.Fatal(err)
		}
		in := flow.Input{Text: "hi", Session: "tr-1", At: at}
		if _, _, err := c.mem.Append(ctx, c.id, "heard:x", in); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("just now", func(t *testing.T) {
		c := greeted(t, nil)
		arrived(c, 0)
		if got := only(c.fetch().Actions); got != quick {
			t.Errorf("fetch answered a pause of %d; want only a quick pause of %d", got, quick)
		}
		if _, inbox := c.load(); len(inbox) != 1 {
			t.Errorf("inbox %+v; want the words left to their own turn", inbox)
		}
	})
	t.Run("a while ago", func(t *testing.T) {
		c := greeted(t, nil)
		arrived(c, time.Second)
		acts := c.fetch().Actions
		if len(acts) != 2 || acts[0].Text != "One moment, please." || only(acts[1:]) != quick {
			t.Errorf("fetch answered %+v; want \"One moment, please.\" and a quick pause", acts)
		}
		if got := only(c.fetch().Actions); got != quick {
			t.Errorf("next fetch answered a pause of %d; want the quick pause alone: the caller was told once", got)
		}
	})
	t.Run("lost", func(t *testing.T) {
		c := greeted(t, nil)
		arrived(c, 10*time.Second)
		acts := c.fetch().Actions
		if len(acts) != 2 || acts[0].Text != "One moment, please." || only(acts[1:]) != quick {
			t.Errorf("fetch answered %+v; want \"One moment, please.\" and a quick pause while the decision starts again", acts)
		}
		c.router.Settle()
		if acts := c.fetch().Actions; len(acts) == 0 || acts[0].Kind != flow.ActTalk || acts[0].Text == "One moment, please." {
			t.Errorf("fetch after the decision answered %+v; want the clarifying question", acts)
		}
	})
}

// gatedModel answers billing once released, and counts its calls.
type gatedModel struct {
	release chan struct{}
	calls   atomic.Int32
}

func (m *gatedModel) Classify(ctx context.Context, _ []string) (flow.Verdict, error) {
	m.calls.Add(1)
	select {
	case <-m.release:
	case <-ctx.Done():
		return flow.Verdict{}, ctx.Err()
	}
	return flow.Verdict{Department: "billing", Confidence: 0.95}, nil
}

// TestDecisionRacesFetches: fetches that pause while the model decides save
// the call under the decision; it is saved anyway, on its next try, without
// asking the model again, and handed out once.
func TestDecisionRacesFetches(t *testing.T) {
	model := &gatedModel{release: make(chan struct{})}
	c := greeted(t, model)
	time.Sleep(2 * time.Millisecond) // the words come after the call began waiting for them
	var wg sync.WaitGroup
	wg.Go(func() { c.say("w1", "I was charged twice on my last invoice") })
	for model.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	for range 2 {
		if got := only(c.fetch().Actions); got <= 0 {
			t.Fatalf("fetch while deciding answered a pause of %d; want a quick pause", got)
		}
	}
	close(model.release)
	wg.Wait()
	if n := model.calls.Load(); n != 1 {
		t.Errorf("model asked %d times; want once", n)
	}
	if got := lastConnect(c.handedOut()); got != "billing" {
		t.Errorf("fetch after the decision connects %q; want billing", got)
	}
}

// TestPausesFollowTheCaller: short pauses while a transcription hears the
// caller speak or their final words are on the way, long ones otherwise,
// the first rounding the silence up to whole listen_ms; every pause counts
// as silence, short ones too.
func TestPausesFollowTheCaller(t *testing.T) {
	ctx := t.Context()
	d := flow.ExampleConfig().Routing.Dialog
	c := greeted(t, nil)
	silence := func() int { got, _ := c.load(); return got.SilenceMS }
	if _, err := c.events.Speech(ctx, "tr-1", flow.Caller, false); err != nil {
		t.Fatal(err)
	}
	before := silence()
	if got := only(c.fetch().Actions); got != d.QuickMS {
		t.Errorf("while the caller speaks: pause %d, want %d", got, d.QuickMS)
	}
	if got := silence(); got != before+d.QuickMS {
		t.Errorf("silence %d ms after a short pause from %d; want it counted (%d): speech never stops the count", got, before, before+d.QuickMS)
	}
	if _, err := c.events.Speech(ctx, "tr-1", flow.Caller, true); err != nil {
		t.Fatal(err)
	}
	if got := only(c.fetch().Actions); got != d.QuickMS {
		t.Errorf("just stopped, the final words on their way: pause %d, want %d", got, d.QuickMS)
	}
	long := func() int {
		s := silence()
		return min(d.ListenMS+(d.ListenMS-s%d.ListenMS)%d.ListenMS, d.SilenceMS-s)
	}
	// Stopped a while ago, and no words came: silence.
	if err := c.mem.Speaking(ctx, c.id, "tr-1", flow.VoiceActivity{AtMS: time.Now().Add(-2 * time.Second).UnixMilli(), Ended: true}); err != nil {
		t.Fatal(err)
	}
	if want, got := long(), only(c.fetch().Actions); got != want {
		t.Errorf("stopped a while ago: pause %d, want %d", got, want)
	}
	// Speech whose last interim came a while ago ended by itself, its end lost.
	if err := c.mem.Speaking(ctx, c.id, "tr-1", flow.VoiceActivity{AtMS: time.Now().Add(-2 * time.Second).UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	if want, got := long(), only(c.fetch().Actions); got != want {
		t.Errorf("no interim for 2 s: pause %d, want %d (the speech is over)", got, want)
	}
	// Our own voice, transcribed back, is no caller speaking.
	c = greeted(t, nil)
	if _, err := c.events.Speech(ctx, "tr-1", flow.Us, false); err != nil {
		t.Fatal(err)
	}
	if want, got := long(), only(c.fetch().Actions); got != want {
		t.Errorf("our own voice: pause %d, want %d (silence)", got, want)
	}
}

// speechEvent is one of VoIPBin's speech events on a transcription.
type speechEvent struct {
	session string
	ended   bool // transcribe_speech_ended; else started or interim (the same to us)
}

// TestSilentCallerAskedWhateverTheSpeechEvents: on a call with two
// transcriptions (one per language), every order of their started, interim
// and ended events, with some lost and some delivered twice, between the
// fetches of a caller who says nothing: the caller is asked whether they are
// still there once the configured silence is up, never later.
func TestSilentCallerAskedWhateverTheSpeechEvents(t *testing.T) {
	all := []speechEvent{{"tr-1", false}, {"tr-1", false}, {"tr-1", true}, {"tr-2", false}, {"tr-2", false}, {"tr-2", true}}
	cfg := flow.ExampleConfig()
	d := cfg.Routing.Dialog
	still := cfg.Routing.TextsFor(cfg.Routing.Language).StillThere
	var orders [][]speechEvent
	var permute func(prefix []speechEvent, left []speechEvent)
	permute = func(prefix, left []speechEvent) {
		orders = append(orders, slices.Clone(prefix)) // every prefix: the events after it lost
		for i := range left {
			rest := append(slices.Clone(left[:i]), left[i+1:]...)
			permute(append(prefix, left[i]), rest)
		}
	}
	permute(nil, all)
	for _, o := range orders[:len(orders)/3] { // a third of them again with an event delivered twice
		if len(o) > 0 {
			orders = append(orders, append(slices.Clone(o), o[len(o)/2]))
		}
	}
	for i, order := range orders {
		cfg := flow.ExampleConfig()
		mem := store.NewMemory(store.DefaultExpiry)
		c := &call{t: t, id: fmt.Sprint("sil-", i), mem: mem, cfg: cfg, router: flow.NewRouter(cfg, mem, flow.NewLocal(cfg), nil, quiet),
			events: flow.NewEvents(mem, quiet)}
		heard := 0 // listening handed out since the greeting, which is silence
		acts := c.fetch().Actions
		for _, tr := range []string{"tr-1", "tr-2"} {
			if err := c.events.Transcribing(t.Context(), tr, c.id, ""); err != nil {
				t.Fatal(err)
			}
		}
		for n := 0; ; n++ {
			if slices.ContainsFunc(acts, func(a flow.Action) bool { return a.Text == still }) {
				break
			}
			for _, a := range acts {
				if a.Kind == flow.ActListen {
					heard += a.Millis
				}
			}
			if heard > d.SilenceMS || n > 40 {
				t.Fatalf("order %v: %d ms of silence handed out over %d fetches and no \"still there?\" (silence_ms %d); last answer %+v", order, heard, n, d.SilenceMS, acts)
			}
			if n < len(order) {
				if _, err := c.events.Speech(t.Context(), order[n].session, flow.Caller, order[n].ended); err != nil {
					t.Fatal(err)
				}
			}
			acts = c.fetch().Actions
		}
		if heard != d.SilenceMS {
			t.Fatalf("order %v: asked after %d ms of silence; want the configured %d", order, heard, d.SilenceMS)
		}
	}
	t.Logf("%d orders of speech events: each silent caller asked after exactly %d ms", len(orders), d.SilenceMS)
}

// TestFailedDecisionLeavesTheWords: a decision on the caller's words that
// fails (here a classifier bug) sends nobody anywhere, for nobody hears its
// answer; the words stay for the fetch to decide on.
func TestFailedDecisionLeavesTheWords(t *testing.T) {
	ctx := t.Context()
	cfg := flow.ExampleConfig()
	mem := store.NewMemory(store.DefaultExpiry)
	router := flow.NewRouter(cfg, mem, panickyClassifier{}, nil, quiet)
	var seen []flow.Report
	router.Observer = observerFunc(func(r flow.Report) { seen = append(seen, r) })
	router.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Voice})
	events := flow.NewEvents(mem, quiet)
	if err := events.Transcribing(ctx, "tr-1", "c1", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := events.Heard(ctx, flow.Heard{ID: "w1", Session: "tr-1", Speaker: flow.Caller, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if r := router.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Voice, OnWords: true}); len(r.Actions) != 0 {
		t.Errorf("failed decision answered %+v", r.Actions)
	}
	if _, inbox, _ := mem.Load(ctx, "c1"); len(inbox) != 1 {
		t.Errorf("inbox %+v; want the words left for the fetch", inbox)
	}
	for _, r := range seen {
		if r.Failed != "" {
			t.Errorf("a failed turn was reported (%s): nobody was sent to the fallback desk", r.Failed)
		}
	}
}

type observerFunc func(flow.Report)

func (f observerFunc) Observe(_ context.Context, r flow.Report) { f(r) }

// TestLeftIsTheHandOut: a call leaves us (its transcriptions are unlinked)
// with the fetch that hands its transfer out, not with the decision kept for
// that fetch: until then more of the caller's words may change it.
func TestLeftIsTheHandOut(t *testing.T) {
	waiting := flow.Call{State: flow.StateListening}
	decided := flow.Call{State: flow.StateTransferred, Ready: []flow.Action{{Kind: flow.ActConnect}}}
	handedOut := flow.Call{State: flow.StateTransferred}
	for _, tt := range []struct {
		name string
		r    flow.Report
		want bool
	}{
		{"decision kept on the words", flow.Report{Before: waiting, After: decided, OnWords: true}, false},
		{"fetch hands it out", flow.Report{Before: decided, After: handedOut}, true},
		{"fetch decides and answers", flow.Report{Before: waiting, After: handedOut}, true},
		{"a turn on a call already gone", flow.Report{Before: handedOut, After: handedOut}, false},
		{"failed over to reception", flow.Report{Before: waiting, After: handedOut, Failed: "error"}, false},
		{"still waiting", flow.Report{Before: waiting, After: waiting}, false},
	} {
		if got := tt.r.Left(); got != tt.want {
			t.Errorf("%s: Left() = %v, want %v", tt.name, got, tt.want)
		}
	}
}
