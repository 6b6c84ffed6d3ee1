package flow_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Words these tests append straight to a call's inbox carry At: 1, long
// before the call waited for them: no turn of their own is deciding on them
// (as an event's would). A fetch takes priority words at once, and starts a
// decision on others in the background (Router.Settle waits for it).

// brokenStore fails every operation, like an unreachable Redis.
type brokenStore struct{ flow.Calls }

var errDown = errors.New("store down")

func (brokenStore) Load(_ context.Context, id string) (flow.Call, []flow.Input, error) {
	return flow.Call{}, nil, errDown
}

// conflictingStore reports a conflict on the first n saves, as when another
// request saved the call first.
type conflictingStore struct {
	*store.Memory
	conflicts int
	saves     int
}

func (s *conflictingStore) Save(ctx context.Context, c flow.Call, taken int) error {
	s.saves++
	if s.saves <= s.conflicts {
		return flow.ErrConflict
	}
	return s.Memory.Save(ctx, c, taken)
}

// panickyClassifier stands for a bug behind a fetch.
type panickyClassifier struct{}

func (panickyClassifier) Classify(context.Context, []string) (flow.Verdict, error) { panic("bug") }

// handedOut answers a fetch as VoIPBin runs it: a transfer decided on the
// caller's words comes in two fetches, the announcement with a fetch after
// it, then the connect. It returns both answers' actions.
func handedOut(ctx context.Context, r *flow.Router, t flow.Turn) []flow.Action {
	acts := r.Next(ctx, t).Actions
	if announced(acts) {
		return append(acts, r.Next(ctx, t).Actions...)
	}
	return acts
}

// announced reports whether acts are a transfer's announcement: a talk,
// then a fetch at once.
func announced(acts []flow.Action) bool {
	n := len(acts)
	return n >= 2 && acts[n-2].Kind == flow.ActTalk && acts[n-1].Kind == flow.ActListen && acts[n-1].Millis == 0
}

func lastConnect(acts []flow.Action) string {
	for _, a := range acts {
		if a.Kind == flow.ActConnect {
			return a.Department
		}
	}
	return ""
}

func TestFailuresReachAHuman(t *testing.T) {
	cfg := flow.ExampleConfig()
	// A virtual number's calls need the caller ID the config names: the
	// number dialled would be refused and the caller hung up.
	cfg.Routing.CallerID = "+14155550150"
	words := flow.Turn{CallID: "c1", Channel: flow.Voice}
	tests := []struct {
		name   string
		router *flow.Router
		turn   flow.Turn
	}{
		{"store down", flow.NewRouter(cfg, brokenStore{}, flow.NewLocal(cfg), nil, quiet), words},
		{"store down, webhook", flow.NewRouter(cfg, brokenStore{}, flow.NewLocal(cfg), nil, quiet),
			flow.Turn{CallID: "c1", Channel: flow.Webhook, Words: "I'd like a quote for the enterprise plan"}},
		{"always conflicting", flow.NewRouter(cfg, &conflictingStore{Memory: store.NewMemory(store.DefaultExpiry), conflicts: 99},
			flow.NewLocal(cfg), nil, quiet), words},
		{"classifier panics", flow.NewRouter(cfg, store.NewMemory(store.DefaultExpiry), panickyClassifier{}, nil, quiet),
			flow.Turn{Channel: flow.Webhook, Words: "I'd like a quote for the enterprise plan"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acts := tt.router.Next(context.Background(), tt.turn).Actions
			if got := lastConnect(acts); got != flow.Fallback {
				t.Errorf("connect = %q, want the fallback desk; actions %+v", got, acts)
			}
			for _, a := range acts {
				if a.Kind == flow.ActConnect && a.CallerID != cfg.Routing.CallerID {
					t.Errorf("the last-resort transfer's caller ID = %q, want the config's %q", a.CallerID, cfg.Routing.CallerID)
				}
			}
			if acts[0].Kind != flow.ActTalk || acts[0].Text == "" {
				t.Errorf("the caller should hear where they are going first: %+v", acts)
			}
		})
	}
}

func TestConflictIsRetried(t *testing.T) {
	cfg := flow.ExampleConfig()
	st := &conflictingStore{Memory: store.NewMemory(store.DefaultExpiry), conflicts: 1}
	r := flow.NewRouter(cfg, st, flow.NewLocal(cfg), nil, quiet)
	acts := r.Next(context.Background(), flow.Turn{CallID: "c1", Channel: flow.Voice}).Actions
	if acts[0].Kind != flow.ActTranscribe {
		t.Fatalf("after one conflict the greeting should still be sent, got %+v", acts)
	}
	if st.saves != 2 {
		t.Errorf("saves = %d, want 2 (one conflict, one retry)", st.saves)
	}
}

// TestActionLimit keeps a caller who never says anything useful inside
// VoIPBin's 100-action limit: with a tiny limit they reach the desk, not a drop.
func TestActionLimit(t *testing.T) {
	cfg := flow.ExampleConfig()
	cfg.Routing.Dialog.MaxActions = 12
	cfg.Routing.Dialog.SilenceMS = 1 << 30 // never "still there"
	mem := store.NewMemory(store.DefaultExpiry)
	r := flow.NewRouter(cfg, mem, flow.NewLocal(cfg), nil, quiet)
	used := 2 // VoIPBin's answer and first fetch
	for i := range 20 {
		acts := r.Next(context.Background(), flow.Turn{CallID: "c1", Channel: flow.Voice}).Actions
		for _, a := range acts {
			used++
			// a pause or key collection is followed by a fetch; VoIPBin adds a confbridge_join after a connect
			if a.Kind == flow.ActListen && a.Millis > 0 || a.Kind == flow.ActMenu || a.Kind == flow.ActConnect {
				used++
			}
		}
		if dept := lastConnect(acts); dept != "" {
			if dept != flow.Fallback {
				t.Fatalf("turn %d: connect %q, want fallback", i, dept)
			}
			if used > 12 {
				t.Errorf("used %d actions, VoIPBin's own included, with a limit of 12", used)
			}
			return
		}
	}
	t.Fatal("a silent caller was never transferred")
}

// TestFetchNeverWaitsOnTheModel: words with no decision on their way (their
// turn never ran) and a slow model: the fetch answers within FetchBudget
// ("One moment, please." and a short pause) and starts the decision in the
// background, which the next fetch hands out. When that one is lost too, a
// fetch decides with the local classifier, never the model.
func TestFetchNeverWaitsOnTheModel(t *testing.T) {
	cfg := flow.ExampleConfig()
	mem := store.NewMemory(store.DefaultExpiry)
	var asked [][]string
	model := recordingSlowModel{delay: 300 * time.Millisecond, asked: &asked}
	r := flow.NewRouter(cfg, mem, flow.NewLocal(cfg), model, quiet)
	ctx := context.Background()
	request := "I would like to hear more about buying your products"
	for _, id := range []string{"restarted", "lost twice"} {
		r.Next(ctx, flow.Turn{CallID: id, Channel: flow.Voice}) // greeting
		if _, _, err := mem.Append(ctx, id, "w", flow.Input{Text: request, At: 1}); err != nil {
			t.Fatal(err)
		}
		if id == "lost twice" {
			c, _, _ := mem.Load(ctx, id)
			c.RestartedMS = c.NowMS - 10_000 // a fetch restarted the decision long ago, and it never came
			if err := mem.Save(ctx, c, 0); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		acts := r.Next(ctx, flow.Turn{CallID: id, Channel: flow.Voice}).Actions
		if took := time.Since(start); took > flow.FetchBudget {
			t.Errorf("%s: the fetch took %v; want at most %v", id, took, flow.FetchBudget)
		}
		r.Settle()
		c, _, _ := mem.Load(ctx, id)
		if id == "lost twice" {
			if lastConnect(acts) != "sales" || c.Reason != "local" {
				t.Errorf("%s: fetch answered %+v (reason %q); want sales by the local classifier", id, acts, c.Reason)
			}
			continue
		}
		want := []flow.Action{{Kind: flow.ActTalk, Text: "One moment, please.", Language: "en-US"}, {Kind: flow.ActListen, Millis: cfg.Routing.Dialog.QuickMS}}
		if diff := cmp.Diff(want, acts); diff != "" {
			t.Errorf("%s: fetch (-want +got):\n%s", id, diff)
		}
		if acts := handedOut(ctx, r, flow.Turn{CallID: id, Channel: flow.Voice}); lastConnect(acts) != "sales" {
			t.Errorf("%s: the fetch after the decision answered %+v; want sales", id, acts)
		}
		if c, _, _ := mem.Load(ctx, id); c.Reason != "model" {
			t.Errorf("%s: reason %q; want the model's decision", id, c.Reason)
		}
	}
	if len(asked) != 1 {
		t.Errorf("the model was asked %d times; want once, in the background", len(asked))
	}
}

// recordingSlowModel answers sales after a delay and records what it was asked.
type recordingSlowModel struct {
	delay time.Duration
	asked *[][]string
}

func (m recordingSlowModel) Classify(ctx context.Context, turns []string) (flow.Verdict, error) {
	*m.asked = append(*m.asked, turns)
	select {
	case <-time.After(m.delay):
		return flow.Verdict{Department: "sales", Confidence: 1}, nil
	case <-ctx.Done():
		return flow.Verdict{}, ctx.Err()
	}
}

// TestFinishedCall: a turn on a call that is over moves nothing. VoIPBin can
// hang up; the seed's webhook cannot, and a client asking again gets the
// same transfer.
func TestFinishedCall(t *testing.T) {
	cfg := flow.ExampleConfig()
	ctx := context.Background()
	tests := []struct {
		name    string
		channel flow.Channel
		want    flow.ActionKind
	}{
		{"voipbin", flow.Voice, flow.ActHangup},
		{"webhook", flow.Webhook, flow.ActConnect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := store.NewMemory(store.DefaultExpiry)
			r := flow.NewRouter(cfg, mem, flow.NewLocal(cfg), nil, quiet)
			if err := mem.Save(ctx, flow.Call{ID: "c1", State: flow.StateTransferred, Department: "billing", Language: "en-US"}, 0); err != nil {
				t.Fatal(err)
			}
			reply := r.Next(ctx, flow.Turn{CallID: "c1", Channel: tt.channel, Words: "hello again"})
			if len(reply.Moves) != 0 {
				t.Errorf("moves = %s, want none", reply.Moves)
			}
			last := reply.Actions[len(reply.Actions)-1]
			if last.Kind != tt.want || tt.want == flow.ActConnect && last.Department != "billing" {
				t.Errorf("actions = %+v, want a last %s", reply.Actions, tt.want)
			}
		})
	}
}

// deadlineModel records the deadline it was given and answers nothing, like a
// model that never answers in time.
type deadlineModel struct{ deadlines chan time.Time }

func (m deadlineModel) Classify(ctx context.Context, _ []string) (flow.Verdict, error) {
	d, _ := ctx.Deadline()
	m.deadlines <- d
	<-ctx.Done()
	return flow.Verdict{}, ctx.Err()
}

// TestBudgetFromArrival: the fetch's deadline is the budget (2 s by default)
// counted from when the request arrived, not from when the router started.
func TestBudgetFromArrival(t *testing.T) {
	cfg := flow.ExampleConfig()
	model := deadlineModel{deadlines: make(chan time.Time, 1)}
	r := flow.NewRouter(cfg, store.NewMemory(store.DefaultExpiry), flow.NewLocal(cfg), model, quiet)
	arrived := time.Now().Add(-1900 * time.Millisecond) // the request waited in a queue
	turn := flow.Turn{Channel: flow.Webhook, Words: "I'd like a quote for your enterprise plan please", Arrived: arrived}
	want := arrived.Add(2 * time.Second)
	if got := r.Deadline(turn); !got.Equal(want) {
		t.Errorf("Deadline = %v after arrival, want 2s", got.Sub(arrived))
	}
	acts := r.Next(context.Background(), turn).Actions
	if got := <-model.deadlines; !got.Equal(want) {
		t.Errorf("the model got a deadline %v after arrival, want 2s", got.Sub(arrived))
	}
	if got := lastConnect(acts); got != "sales" {
		t.Errorf("connect %q, want sales from the local classifier", got)
	}
}

// TestBudgetSpentOnArrival: a request that arrived after its budget was
// spent is answered at once, the caller still routed.
func TestBudgetSpentOnArrival(t *testing.T) {
	cfg := flow.ExampleConfig()
	model := deadlineModel{deadlines: make(chan time.Time, 1)}
	r := flow.NewRouter(cfg, store.NewMemory(store.DefaultExpiry), flow.NewLocal(cfg), model, quiet)
	acts := r.Next(context.Background(), flow.Turn{Channel: flow.Webhook,
		Words: "I'd like a quote for your enterprise plan please", Arrived: time.Now().Add(-time.Minute)}).Actions
	if got := lastConnect(acts); got != "sales" {
		t.Errorf("connect %q, want sales from the local classifier", got)
	}
}

// TestMenuForgetsEarlyKeys: keys pressed before the menu must not answer it,
// so the menu starts by forgetting them, before its talk.
func TestMenuForgetsEarlyKeys(t *testing.T) {
	cfg := flow.ExampleConfig()
	mem := store.NewMemory(store.DefaultExpiry)
	r := flow.NewRouter(cfg, mem, flow.NewLocal(cfg), nil, quiet)
	ctx := context.Background()
	r.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Voice})
	var acts []flow.Action
	for i, words := range []string{"hi", "hello sir", "I have a question"} {
		if _, _, err := mem.Append(ctx, "c1", words, flow.Input{Text: words}); err != nil {
			t.Fatal(err)
		}
		r.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Voice, OnWords: true}) // the words' own turn
		acts = r.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Voice}).Actions
		if i < 2 && len(acts) > 0 && acts[0].Kind == flow.ActForgetKeys {
			t.Errorf("turn %d forgets keys but offers no menu: %+v", i, acts)
		}
	}
	kinds := make([]flow.ActionKind, len(acts))
	for i, a := range acts {
		kinds[i] = a.Kind
	}
	want := []flow.ActionKind{flow.ActForgetKeys, flow.ActTalk, flow.ActMenu}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("menu actions (-want +got):\n%s", diff)
	}
}

// TestWordsBeforeTheGreeting: words that reach the inbox before the call is
// greeted are not lost: the greeting leaves them, the next turn hears them.
func TestWordsBeforeTheGreeting(t *testing.T) {
	cfg := flow.ExampleConfig()
	mem := store.NewMemory(store.DefaultExpiry)
	r := flow.NewRouter(cfg, mem, flow.NewLocal(cfg), nil, quiet)
	ctx := context.Background()
	if _, _, err := mem.Append(ctx, "c1", "early", flow.Input{Text: "billing please", At: 1}); err != nil {
		t.Fatal(err)
	}
	greet := r.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Voice})
	if diff := cmp.Diff("greeting -answer-> listening", greet.Moves.String()); diff != "" {
		t.Errorf("first turn (-want +got):\n%s", diff)
	}
	if _, inbox, _ := mem.Load(ctx, "c1"); len(inbox) != 1 {
		t.Errorf("inbox after the greeting = %+v, want the early words kept", inbox)
	}
	// They had no decision of their own (the call was not waiting for
	// words): the fetch starts one and pauses, the next hands it out.
	if acts := r.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Voice}).Actions; len(acts) == 0 || acts[len(acts)-1].Kind != flow.ActListen || lastConnect(acts) != "" {
		t.Errorf("second turn answered %+v; want a short pause while the words are decided", acts)
	}
	r.Settle()
	next := handedOut(ctx, r, flow.Turn{CallID: "c1", Channel: flow.Voice})
	if got := lastConnect(next); got != "billing" {
		t.Errorf("second turn: connect %q, want billing; answered %+v", got, next)
	}
}

// TestWebhookSilence: a webhook request whose words are only blanks has
// nobody to wait for; it goes to the fallback desk in one move.
func TestWebhookSilence(t *testing.T) {
	cfg := flow.ExampleConfig()
	r := flow.NewRouter(cfg, store.NewMemory(store.DefaultExpiry), flow.NewLocal(cfg), nil, quiet)
	reply := r.Next(context.Background(), flow.Turn{CallID: "w1", Channel: flow.Webhook, Words: "   "})
	if diff := cmp.Diff("listening -route-> transferred", reply.Moves.String()); diff != "" {
		t.Errorf("moves (-want +got):\n%s", diff)
	}
	if got := lastConnect(reply.Actions); got != flow.Fallback {
		t.Errorf("connect %q, want the fallback desk", got)
	}
}

// TestQueueWaitFitsTheBudget: when a department is a queue, a caller who never
// says anything useful is transferred while there are still actions left for
// QueueWaitMS in the queue (VoIPBin runs the wait flow inside the same budget).
func TestQueueWaitFitsTheBudget(t *testing.T) {
	cfg := flow.ExampleConfig()
	fallback := cfg.Routing.Departments[flow.Fallback]
	*fallback = flow.Department{Queue: "7f3c2a10-5b1e-4c8a-9d2f-0a1b2c3d4e5f", Label: fallback.Label, Digit: fallback.Digit,
		WaitFlow: &flow.WaitFlow{Actions: 2, LoopMS: 30000}}
	cfg.Routing.Dialog.SilenceMS = 1 << 30 // never "still there"
	cfg.Routing.Dialog.MaxClarifications = 1000
	r := flow.NewRouter(cfg, store.NewMemory(store.DefaultExpiry), flow.NewLocal(cfg), nil, quiet)
	used := 2 // VoIPBin's answer and first fetch
	for i := range 200 {
		acts := r.Next(context.Background(), flow.Turn{CallID: "c1", Channel: flow.Voice}).Actions
		used += flow.Cost(acts)
		if lastConnect(acts) != "" {
			if left, need := flow.MaxActions+2-used, fallback.WaitFlowOf().Reserve(); left < need {
				t.Errorf("turn %d: transferred to the queue with %d actions left, a %v wait needs %d", i, left, flow.QueueWaitMS, need)
			}
			return
		}
	}
	t.Fatal("a silent caller was never transferred")
}

// recordingModel answers billing, sure, and records the turns it was asked about.
type recordingModel struct{ asked *[][]string }

func (m recordingModel) Classify(_ context.Context, turns []string) (flow.Verdict, error) {
	*m.asked = append(*m.asked, append([]string(nil), turns...))
	return flow.Verdict{Department: "billing", Confidence: 0.95}, nil
}

// TestEveryUnreadLineIsHeard: lines that arrived between two fetches all
// reach the turn, in order: none is skipped, none thrown away unread.
func TestEveryUnreadLineIsHeard(t *testing.T) {
	cfg := flow.ExampleConfig()
	mem := store.NewMemory(store.DefaultExpiry)
	var asked [][]string
	r := flow.NewRouter(cfg, mem, flow.NewLocal(cfg), recordingModel{&asked}, quiet)
	ev := flow.NewEvents(mem, quiet)
	ctx := context.Background()
	r.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Voice}) // the greeting
	if err := ev.Transcribing(ctx, "tr-1", "c1", ""); err != nil {
		t.Fatal(err)
	}
	// The lines are to be the fetch's to decide, not left to a turn of
	// their own (see Call.WordsFromMS): within the same millisecond as the
	// greeting they were, one later (under -race, say) they were not.
	greeted, _, err := mem.Load(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	greeted.WordsFromMS = time.Now().Add(time.Minute).UnixMilli()
	if err := mem.Save(ctx, greeted, 0); err != nil {
		t.Fatal(err)
	}
	lines := []string{"hello I am calling about my account", "there is something odd on the statement", "it says I owe more than last month"}
	for i, line := range lines {
		if _, _, err := ev.Heard(ctx, flow.Heard{ID: fmt.Sprint(i), Session: "tr-1", Speaker: flow.Caller, Text: line}); err != nil {
			t.Fatal(err)
		}
	}
	// The last line's turn (the earlier ones' were slow or lost) decides.
	r.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Voice, OnWords: true})
	if len(asked) != 1 {
		t.Fatalf("the model was asked %d times, want once", len(asked))
	}
	if diff := cmp.Diff(lines, asked[0]); diff != "" {
		t.Errorf("turns the model was asked about (-want +got):\n%s", diff)
	}
	c, inbox, err := mem.Load(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lines, c.Turns); diff != "" {
		t.Errorf("stored turns (-want +got):\n%s", diff)
	}
	if len(inbox) != 0 {
		t.Errorf("inbox after the turn = %+v, want every line taken", inbox)
	}
}

// TestPriorityInAnyLine: a priority word in any of the lines a turn brings
// takes the priority lane at once (the local classifier would get there
// too, a move later and for another reason), not only one in the newest line.
func TestPriorityInAnyLine(t *testing.T) {
	cfg := flow.ExampleConfig()
	for _, tt := range []struct {
		name  string
		lines []string
	}{
		{"in the oldest", []string{"our production system is down", "please hurry", "thank you"}},
		{"in the middle", []string{"hello", "our production system is down", "thank you"}},
		{"in the newest", []string{"hello", "thank you", "our production system is down"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mem := store.NewMemory(store.DefaultExpiry)
			r := flow.NewRouter(cfg, mem, flow.NewLocal(cfg), nil, quiet)
			ctx := context.Background()
			r.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Voice})
			for i, line := range tt.lines {
				if _, _, err := mem.Append(ctx, "c1", fmt.Sprint(i), flow.Input{Text: line, At: 1}); err != nil {
					t.Fatal(err)
				}
			}
			reply := r.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Voice})
			if got, want := reply.Moves.String(), "listening -route-> transferred"; got != want || lastConnect(reply.Actions) != flow.Emergency {
				t.Errorf("moves %s to %q, want %s to %s", got, lastConnect(reply.Actions), want, flow.Emergency)
			}
			if c, _, _ := mem.Load(ctx, "c1"); c.Reason != "priority" {
				t.Errorf("reason %q, want priority", c.Reason)
			}
		})
	}
}

// TestFinishedCallTakesItsInbox: words that reach a call after it was
// transferred are for nobody; the next turn takes them out of the inbox, so
// they do not pile up for as long as the call is kept.
func TestFinishedCallTakesItsInbox(t *testing.T) {
	cfg := flow.ExampleConfig()
	mem := store.NewMemory(store.DefaultExpiry)
	r := flow.NewRouter(cfg, mem, flow.NewLocal(cfg), nil, quiet)
	ctx := context.Background()
	r.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Voice})
	if _, _, err := mem.Append(ctx, "c1", "1", flow.Input{Text: "our production system is down", At: 1}); err != nil {
		t.Fatal(err)
	}
	if got := lastConnect(r.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Voice}).Actions); got != flow.Emergency {
		t.Fatalf("connect %q, want %s", got, flow.Emergency)
	}
	// The call has left us: what the caller says now is the agent's to hear.
	if _, _, err := mem.Append(ctx, "c1", "2", flow.Input{Text: "hello? are you there", At: 1}); !errors.Is(err, flow.ErrLeft) {
		t.Errorf("Append to a transferred call = %v, want ErrLeft", err)
	}
	r.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Voice})
	if _, inbox, _ := mem.Load(ctx, "c1"); len(inbox) != 0 {
		t.Errorf("inbox of a finished call after a turn = %+v, want it empty", inbox)
	}
}

// TestConflictsEndAfterThreeTries: a call that another request keeps saving
// first is tried three times, no more, before the caller goes to reception.
func TestConflictsEndAfterThreeTries(t *testing.T) {
	cfg := flow.ExampleConfig()
	st := &conflictingStore{Memory: store.NewMemory(store.DefaultExpiry), conflicts: 99}
	r := flow.NewRouter(cfg, st, flow.NewLocal(cfg), nil, quiet)
	if got := lastConnect(r.Next(context.Background(), flow.Turn{CallID: "c1", Channel: flow.Voice}).Actions); got != flow.Fallback {
		t.Errorf("connect %q, want the fallback desk", got)
	}
	if st.saves != 3 {
		t.Errorf("saves = %d, want 3", st.saves)
	}
}

// TestCallKeepsItsStartAndRoute: a call's start time is its first turn's,
// and a hangup after the transfer (refused: the call has left us) keeps
// where it was sent and why.
func TestCallKeepsItsStartAndRoute(t *testing.T) {
	cfg := flow.ExampleConfig()
	mem := store.NewMemory(store.DefaultExpiry)
	r := flow.NewRouter(cfg, mem, flow.NewLocal(cfg), nil, quiet)
	ctx := context.Background()
	r.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Voice})
	first, _, _ := mem.Load(ctx, "c1")
	if first.StartedMS == 0 {
		t.Fatal("no start time after the first turn")
	}
	time.Sleep(5 * time.Millisecond)
	if _, _, err := mem.Append(ctx, "c1", "1", flow.Input{Text: "my invoice shows a double charge"}); err != nil {
		t.Fatal(err)
	}
	r.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Voice, OnWords: true})
	handedOut(ctx, r, flow.Turn{CallID: "c1", Channel: flow.Voice})
	if _, _, err := mem.Append(ctx, "c1", "2", flow.Input{Hangup: true}); !errors.Is(err, flow.ErrLeft) {
		t.Errorf("hangup appended to a transferred call: %v, want ErrLeft", err)
	}
	r.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Voice})
	c, _, _ := mem.Load(ctx, "c1")
	if c.StartedMS != first.StartedMS {
		t.Errorf("start moved from %d to %d", first.StartedMS, c.StartedMS)
	}
	if c.State != flow.StateTransferred || c.Department != "billing" || c.Reason != "local" {
		t.Errorf("after the hangup: state %s, department %q, reason %q; want transferred, billing, local", c.State, c.Department, c.Reason)
	}
}
