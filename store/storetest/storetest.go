// Package storetest is the conformance suite of a store (flow.Calls and
// flow.Inbox together): every store runs
// the same tests, so that what passes for the memory store in development
// holds for Redis in production.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/switchboard/switchboard/flow"
)

// Store is what the suite tests.
type Store = flow.Store

// Expiring is implemented by stores, or test wrappers around them, that can
// tell how long what they hold has left to live. The suite then checks that
// everything written expires, and that an ended call goes before a live one.
type Expiring interface {
	Store
	// TTLs returns the time to live left of every entry (a Redis key, say)
	// that the store holds for calls and transcribe sessions whose ids start
	// with prefix, keyed by a name that contains that id. An entry that never
	// expires has a zero or negative duration.
	TTLs(ctx context.Context, prefix string) (map[string]time.Duration, error)
}

// Run runs the suite against stores from newStore, which is called once per
// subtest and may return the same store each time: every subtest uses call and
// transcribe ids of its own, with a random prefix, so subtests run in parallel
// and a shared Redis needs no flushing. Stores must use an Expiry whose Ended
// is shorter than Call, and whose Marks is MarkWindow.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	for _, tt := range []struct {
		name string
		test func(t *testing.T, s Store, ids ids)
	}{
		{"NewCall", testNewCall},
		{"RoundTrip", testRoundTrip},
		{"Conflict", testConflict},
		{"InboxOrder", testInboxOrder},
		{"Taken", testTaken},
		{"Duplicates", testDuplicates},
		{"InboxBound", testInboxBound},
		{"InboxBoundDuringFetch", testInboxBoundDuringFetch},
		{"MarksBound", testMarksBound},
		{"Link", testLink},
		{"Left", testLeft},
		{"LeftWithDecision", testLeftWithDecision},
		{"Voice", testVoice},
		{"Clock", testClock},
		{"Ping", testPing},
		{"Race", testRace},
		{"Expiry", testExpiry},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, newStore(t), newIDs(t))
		})
	}
}

// MarkWindow is the mark window (store.Expiry.Marks) the suite's stores use:
// short, so that the suite can see a key forgotten.
const MarkWindow = time.Second

// ids makes ids unique to one subtest.
type ids string

func newIDs(t *testing.T) ids {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return ids("st-" + hex.EncodeToString(b) + "-")
}

func (p ids) id(name string) string { return string(p) + name }

func testNewCall(t *testing.T, s Store, ids ids) {
	ctx := t.Context()
	id := ids.id("new")
	c, inbox, err := s.Load(ctx, id)
	if err != nil {
		t.Fatalf("Load(%s): %v", id, err)
	}
	if diff := cmp.Diff(flow.Call{ID: id}, c, storesClock); diff != "" {
		t.Errorf("Load of a new call (-want +got):\n%s", diff)
	}
	if len(inbox) != 0 {
		t.Errorf("Load of a new call: inbox = %v, want empty", inbox)
	}
}

func testRoundTrip(t *testing.T, s Store, ids ids) {
	ctx := t.Context()
	id := ids.id("rt")
	want := flow.Call{
		ID: id, State: flow.StateClarifying, Language: "de-DE",
		Turns:          []string{"hallo", `I said "billing", not \ "sales" – ünïcødé`},
		Clarifications: 1, SilenceMS: 3000, Actions: 7,
		Department: "billing", Reason: "model", StartedMS: 1700000000000, UpdatedMS: 1700000004000,
		Closed: "sales", // the call's start and what was closed then decide its route: both stores keep them
	}
	if err := s.Save(ctx, want, 0); err != nil {
		t.Fatalf("Save: %v", err)
	}
	want.Turns[0] = "changed after Save" // a store must not keep the caller's slice
	got, _ := load(t, s, id)
	want.Turns[0] = "hallo"
	want.Version = 1
	if diff := cmp.Diff(want, got, storesClock); diff != "" {
		t.Errorf("Load after Save (-want +got):\n%s", diff)
	}

	got.Turns[0] = "changed after Load" // nor hand out its own
	got.Turns = append(got.Turns, "third")
	got.State = flow.StateTransferred
	if err := s.Save(ctx, got, 0); err != nil {
		t.Fatalf("second Save: %v", err)
	}
	again, _ := load(t, s, id)
	if again.Version != 2 || again.State != flow.StateTransferred || len(again.Turns) != 3 || again.Turns[0] != "changed after Load" {
		t.Errorf("Load after second Save = %+v, want version 2, transferred, 3 turns", again)
	}
}

func testConflict(t *testing.T, s Store, ids ids) {
	ctx := t.Context()
	id := ids.id("cas")
	c, _ := load(t, s, id)
	c.State = flow.StateListening
	if err := s.Save(ctx, c, 0); err != nil {
		t.Fatalf("first Save: %v", err)
	}
	appendOK(t, s, id, "a", flow.Input{Text: "a"})

	stale := c // still Version 0
	stale.State = flow.StateMenu
	if err := s.Save(ctx, stale, 1); !errors.Is(err, flow.ErrConflict) {
		t.Fatalf("Save with a stale version: err = %v, want ErrConflict", err)
	}
	ahead := c
	ahead.Version = 5
	if err := s.Save(ctx, ahead, 1); !errors.Is(err, flow.ErrConflict) {
		t.Fatalf("Save with a version from the future: err = %v, want ErrConflict", err)
	}
	if err := s.Save(ctx, flow.Call{ID: ids.id("cas-unsaved"), Version: 1}, 0); !errors.Is(err, flow.ErrConflict) {
		t.Fatalf("Save with version 1 of a call never saved: err = %v, want ErrConflict", err)
	}
	got, inbox := load(t, s, id)
	if got.Version != 1 || got.State != flow.StateListening {
		t.Errorf("after conflicts: call = %+v, want the first save (version 1, listening)", got)
	}
	if len(inbox) != 1 {
		t.Errorf("after conflicts: inbox = %v, want the input a failed save did not take", inbox)
	}
}

func testInboxOrder(t *testing.T, s Store, ids ids) {
	id := ids.id("order")
	want := []flow.Input{{Text: "one", At: 1}, {Text: "two", At: 2}, {Text: "", At: 3}, {Text: "three, with \"quotes\"", At: 4}, {Hangup: true, At: 5}}
	for i, in := range want {
		appendOK(t, s, id, "k"+strconv.Itoa(i), in)
	}
	c, got := load(t, s, id)
	if c.Version != 0 {
		t.Errorf("call with inputs but never saved: version %d, want 0", c.Version)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inbox (-want +got):\n%s", diff)
	}
}

func testTaken(t *testing.T, s Store, ids ids) {
	ctx := t.Context()
	id := ids.id("taken")
	appendOK(t, s, id, "a", flow.Input{Text: "a"})
	appendOK(t, s, id, "b", flow.Input{Text: "b"})
	c, inbox := load(t, s, id)
	appendOK(t, s, id, "c", flow.Input{Text: "c"}) // arrives while the fetch steps
	if err := s.Save(ctx, c, len(inbox)); err != nil {
		t.Fatalf("Save taking %d: %v", len(inbox), err)
	}
	c, inbox = load(t, s, id)
	if diff := cmp.Diff([]flow.Input{{Text: "c"}}, inbox, storesClock); diff != "" {
		t.Errorf("inbox after taking 2 (-want +got):\n%s", diff)
	}

	if err := s.Save(ctx, c, 0); err != nil {
		t.Fatalf("Save taking 0: %v", err)
	}
	c, inbox = load(t, s, id)
	if len(inbox) != 1 {
		t.Errorf("inbox after taking 0 = %v, want [c]", inbox)
	}

	if err := s.Save(ctx, c, 10); err != nil {
		t.Fatalf("Save taking more than the inbox holds: %v", err)
	}
	_, inbox = load(t, s, id)
	if len(inbox) != 0 {
		t.Errorf("inbox after taking more than it held = %v, want empty", inbox)
	}
	appendOK(t, s, id, "d", flow.Input{Text: "d"})
	_, inbox = load(t, s, id)
	if diff := cmp.Diff([]flow.Input{{Text: "d"}}, inbox, storesClock); diff != "" {
		t.Errorf("inbox after emptying and appending (-want +got):\n%s", diff)
	}
}

func testDuplicates(t *testing.T, s Store, ids ids) {
	ctx := t.Context()
	id := ids.id("dup")
	appendOK(t, s, id, "evt-1", flow.Input{Text: "hello"})
	if added, _, err := s.Append(ctx, id, "evt-1", flow.Input{Text: "hello"}); err != nil || added {
		t.Errorf("Append of a retried event = %v, %v; want false, nil", added, err)
	}
	c, inbox := load(t, s, id)
	if err := s.Save(ctx, c, len(inbox)); err != nil {
		t.Fatal(err)
	}
	// A retry after its input was consumed must not come back either.
	if added, _, err := s.Append(ctx, id, "evt-1", flow.Input{Text: "something else"}); err != nil || added {
		t.Errorf("Append of an event retried after its input was taken = %v, %v; want false, nil", added, err)
	}
	appendOK(t, s, id, "evt-2", flow.Input{Text: "more"})
	// Keys are per call: Redis keeps a call's marks beside it.
	appendOK(t, s, ids.id("dup-other"), "evt-1", flow.Input{Text: "hello"})
	_, inbox = load(t, s, id)
	if diff := cmp.Diff([]flow.Input{{Text: "more"}}, inbox, storesClock); diff != "" {
		t.Errorf("inbox (-want +got):\n%s", diff)
	}
}

// testInboxBound floods one call's inbox: it keeps the newest flow.MaxInbox
// inputs, and every Append says how many it dropped.
func testInboxBound(t *testing.T, s Store, ids ids) {
	id := ids.id("flood")
	const n = flow.MaxInbox + 7
	var want []flow.Input
	dropped := 0
	for i := range n {
		in := flow.Input{Text: "line " + strconv.Itoa(i)}
		d := appendOK(t, s, id, "evt-"+strconv.Itoa(i), in)
		if wantD := min(max(i+1-flow.MaxInbox, 0), 1); d != wantD {
			t.Errorf("Append %d dropped %d, want %d", i, d, wantD)
		}
		dropped += d
		want = append(want, in)
	}
	if dropped != n-flow.MaxInbox {
		t.Errorf("dropped %d in all, want %d", dropped, n-flow.MaxInbox)
	}
	_, inbox := load(t, s, id)
	if diff := cmp.Diff(want[n-flow.MaxInbox:], inbox, storesClock); diff != "" {
		t.Errorf("inbox after %d appends keeps the newest %d (-want +got):\n%s", n, flow.MaxInbox, diff)
	}
}

// testInboxBoundDuringFetch drops inputs between a fetch's Load and its Save:
// the Save must take only what the Load returned, never a newer input.
func testInboxBoundDuringFetch(t *testing.T, s Store, ids ids) {
	ctx := t.Context()
	id := ids.id("flood-fetch")
	for i := range flow.MaxInbox {
		appendOK(t, s, id, "old-"+strconv.Itoa(i), flow.Input{Text: "old"})
	}
	c, inbox := load(t, s, id)
	if len(inbox) != flow.MaxInbox {
		t.Fatalf("inbox holds %d, want %d", len(inbox), flow.MaxInbox)
	}
	fresh := []flow.Input{{Text: "new 1"}, {Text: "new 2"}, {Text: "new 3"}}
	for i, in := range fresh {
		if d := appendOK(t, s, id, "new-"+strconv.Itoa(i), in); d != 1 {
			t.Errorf("Append into a full inbox dropped %d, want 1", d)
		}
	}
	if err := s.Save(ctx, c, len(inbox)); err != nil {
		t.Fatalf("Save: %v", err)
	}
	_, inbox = load(t, s, id)
	if diff := cmp.Diff(fresh, inbox, storesClock); diff != "" {
		t.Errorf("inbox after a Save that took what its Load saw (-want +got):\n%s", diff)
	}
}

// testMarksBound sends more distinct events than a call remembers by count:
// within the mark window every one is still de-duplicated (VoIPBin retries
// within seconds, a burst of events must not push a retry out); once the
// window has passed, only the newest flow.MaxMarks are.
func testMarksBound(t *testing.T, s Store, ids ids) {
	ctx := t.Context()
	id := ids.id("marks")
	const n = flow.MaxMarks + 5
	for i := range n {
		appendOK(t, s, id, "evt-"+strconv.Itoa(i), flow.Input{Text: "x"})
	}
	for _, i := range []int{n - 1, n - flow.MaxMarks, 0} {
		if added, _, err := s.Append(ctx, id, "evt-"+strconv.Itoa(i), flow.Input{Text: "x"}); err != nil || added {
			t.Errorf("retry of event %d after %d newer, within the mark window = %v, %v; want false, nil", i, n-1-i, added, err)
		}
	}
	time.Sleep(MarkWindow + 100*time.Millisecond)
	appendOK(t, s, id, "evt-late", flow.Input{Text: "x"}) // forgetting happens on a write
	if added, _, err := s.Append(ctx, id, "evt-"+strconv.Itoa(n-flow.MaxMarks+1), flow.Input{Text: "x"}); err != nil || added {
		t.Errorf("retry of an event among the last %d = %v, %v; want false, nil", flow.MaxMarks, added, err)
	}
	if added, _, err := s.Append(ctx, id, "evt-0", flow.Input{Text: "x"}); err != nil || !added {
		t.Errorf("retry of an event older than the last %d and the mark window = %v, %v; want it forgotten (true, nil)", flow.MaxMarks, added, err)
	}
}

func testLink(t *testing.T, s Store, ids ids) {
	ctx := t.Context()
	tr := ids.id("tr")
	if got, err := s.Resolve(ctx, tr); !errors.Is(err, flow.ErrNotFound) {
		t.Errorf("Resolve of an unknown session = %q, %v; want ErrNotFound", got, err)
	}
	for _, call := range []string{ids.id("call-1"), ids.id("call-2")} {
		if err := s.Link(ctx, tr, call); err != nil {
			t.Fatalf("Link(%s, %s): %v", tr, call, err)
		}
		if got, err := s.Resolve(ctx, tr); err != nil || got != call {
			t.Errorf("Resolve(%s) = %q, %v; want %q (the latest link)", tr, got, err, call)
		}
	}
	// A session whose call is no longer ours is linked to "": found, to nobody.
	if err := s.Link(ctx, tr, ""); err != nil {
		t.Fatalf("Link(%s, \"\"): %v", tr, err)
	}
	if got, err := s.Resolve(ctx, tr); err != nil || got != "" {
		t.Errorf("Resolve(%s) after an unlink = %q, %v; want \"\", nil", tr, got, err)
	}
	// And it stays so: a retried transcribe_created does not link it again.
	if err := s.Link(ctx, tr, ids.id("call-2")); !errors.Is(err, flow.ErrLeft) {
		t.Errorf("Link of an unlinked session = %v, want ErrLeft", err)
	}
	if got, err := s.Resolve(ctx, tr); err != nil || got != "" {
		t.Errorf("Resolve(%s) after a refused link = %q, %v; want \"\", nil", tr, got, err)
	}
}

// testLeft: a call that has left us (transferred, handed back, ended) takes
// no input, no voice activity and no de-duplication mark, whatever the event;
// its inbox stays as its last save left it.
func testLeft(t *testing.T, s Store, ids ids) {
	ctx := t.Context()
	for _, state := range []string{flow.StateTransferred, flow.StateHandedBack, flow.StateEnded} {
		id := ids.id(state)
		appendOK(t, s, id, "evt-1", flow.Input{Text: "I need billing"})
		c, inbox := load(t, s, id)
		c.State = state
		if err := s.Save(ctx, c, len(inbox)); err != nil {
			t.Fatal(err)
		}
		for _, in := range []flow.Input{{Text: "my card number is 4111"}, {Hangup: true}, {Session: "tr", Lang: "en-US"}} {
			if added, _, err := s.Append(ctx, id, "evt-2", in); !errors.Is(err, flow.ErrLeft) || added {
				t.Errorf("%s call: Append(%+v) = %v, %v; want false, ErrLeft", state, in, added, err)
			}
		}
		if err := s.Speaking(ctx, id, "tr", flow.VoiceActivity{AtMS: 1}); !errors.Is(err, flow.ErrLeft) {
			t.Errorf("%s call: Speaking = %v, want ErrLeft", state, err)
		}
		got, inbox := load(t, s, id)
		if len(inbox) != 0 || len(got.Voices) != 0 || got.Version != c.Version+1 {
			t.Errorf("%s call after refused events: inbox %v, voices %+v, version %d; want as saved", state, inbox, got.Voices, got.Version)
		}
	}
}

// testLeftWithDecision: a call whose transfer was decided on the caller's
// words but not yet handed out by a fetch (Ready) has not left us: its
// inbox still takes the caller's lines.
func testLeftWithDecision(t *testing.T, s Store, ids ids) {
	ctx := t.Context()
	id := ids.id("ready")
	c, _ := load(t, s, id)
	c.State = flow.StateTransferred
	c.Ready = []flow.Action{{Kind: flow.ActTalk, Text: "Transferring you."}}
	if err := s.Save(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	appendOK(t, s, id, "evt-1", flow.Input{Text: "actually it is an outage"})
	if err := s.Speaking(ctx, id, "tr", flow.VoiceActivity{AtMS: 1}); err != nil {
		t.Errorf("Speaking on a call whose decision waits for its fetch: %v", err)
	}
	c, inbox := load(t, s, id)
	c.Ready = nil
	if err := s.Save(ctx, c, len(inbox)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Append(ctx, id, "evt-2", flow.Input{Text: "hello?"}); !errors.Is(err, flow.ErrLeft) {
		t.Errorf("Append once the decision was handed out = %v, want ErrLeft", err)
	}
}

// testVoice: the caller's latest voice activity per transcription session
// comes back with the call, a later one of a session replaces its earlier
// one and leaves the other sessions' alone, a zero time is stamped with the
// store's clock, and a save of the call keeps it.
func testVoice(t *testing.T, s Store, ids ids) {
	ctx := t.Context()
	id := ids.id("call")
	c, _, err := s.Load(ctx, id)
	if err != nil || len(c.Voices) != 0 {
		t.Fatalf("Load of a new call: voices %+v, %v; want none", c.Voices, err)
	}
	want := map[string]flow.VoiceActivity{}
	for _, step := range []struct {
		session string
		v       flow.VoiceActivity
	}{{"a", flow.VoiceActivity{AtMS: 1000}}, {"b", flow.VoiceActivity{AtMS: 1200}}, {"a", flow.VoiceActivity{AtMS: 1500, Ended: true}}} {
		if err := s.Speaking(ctx, id, step.session, step.v); err != nil {
			t.Fatalf("Speaking(%s, %+v): %v", step.session, step.v, err)
		}
		want[step.session] = step.v
		c, _, err := s.Load(ctx, id)
		if err != nil || !maps.Equal(c.Voices, want) {
			t.Errorf("after Speaking(%s, %+v), Load: voices %+v, %v; want %+v", step.session, step.v, c.Voices, err, want)
		}
	}
	c, _, _ = s.Load(ctx, id)
	c.State = flow.StateListening
	if err := s.Save(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	if c, _, err = s.Load(ctx, id); err != nil || !maps.Equal(c.Voices, want) || c.State != flow.StateListening {
		t.Errorf("after a save: %s, voices %+v, %v; want listening, the voices kept", c.State, c.Voices, err)
	}
	before := time.Now().Add(-time.Minute).UnixMilli()
	if err := s.Speaking(ctx, id, "c", flow.VoiceActivity{}); err != nil {
		t.Fatal(err)
	}
	if c, _, _ = s.Load(ctx, id); c.Voices["c"].AtMS < before || c.Voices["c"].AtMS > time.Now().Add(time.Minute).UnixMilli() {
		t.Errorf("a zero time was stored as %d; want the store's clock, about now", c.Voices["c"].AtMS)
	}
}

// testClock: the store is the one clock of every replica. Load says what
// it reads, and an input appended without a time is stamped with it (an
// empty one too); an input's own time is kept.
func testClock(t *testing.T, s Store, ids ids) {
	id := ids.id("clock")
	near := func(ms int64) bool { return time.Since(time.UnixMilli(ms)).Abs() < time.Minute }
	appendOK(t, s, id, "a", flow.Input{Text: "hello"})
	appendOK(t, s, id, "b", flow.Input{})
	appendOK(t, s, id, "c", flow.Input{Text: "mine", At: 42})
	c, inbox := load(t, s, id)
	if !near(c.NowMS) {
		t.Errorf("Load's clock %d is not about now", c.NowMS)
	}
	if len(inbox) != 3 || !near(inbox[0].At) || !near(inbox[1].At) || inbox[1].Text != "" || inbox[2].At != 42 {
		t.Errorf("inbox %+v; want the first two stamped about now, the last at 42", inbox)
	}
}

// storesClock leaves out of a comparison the times a store stamps with its
// clock (testClock checks them).
var storesClock = cmp.Options{cmpopts.IgnoreFields(flow.Input{}, "At"), cmpopts.IgnoreFields(flow.Call{}, "NowMS")}

func testPing(t *testing.T, s Store, _ ids) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// testRace has events append while fetches load, step and save the same call,
// as VoIPBin does when the caller speaks during a fetch. Every input must end
// up in the call's turns exactly once, unless an Append reported it dropped
// from a full inbox (50 appends at once overflow flow.MaxInbox).
func testRace(t *testing.T, s Store, ids ids) {
	t.Run("within the inbox bound", func(t *testing.T) { race(t, s, ids.id("race"), flow.MaxInbox) })
	t.Run("flood", func(t *testing.T) { race(t, s, ids.id("race-flood"), 50) })
}

// race appends inputs at once while fetchers take them. With no more than
// flow.MaxInbox inputs none may be dropped, so each is read exactly once.
func race(t *testing.T, s Store, id string, appends int) {
	const fetchers = 4
	ctx := t.Context()

	appended := make(chan struct{})
	var wg sync.WaitGroup
	var dropped atomic.Int64
	for i := range appends {
		wg.Go(func() {
			added, d, err := s.Append(ctx, id, "evt-"+strconv.Itoa(i), flow.Input{Text: strconv.Itoa(i)})
			if err != nil || !added {
				t.Errorf("Append %d = %v, %v; want true, nil", i, added, err)
			}
			dropped.Add(int64(d))
		})
	}
	go func() { wg.Wait(); close(appended) }()

	var conflicts, saves atomic.Int64
	var fetches sync.WaitGroup
	for range fetchers {
		fetches.Go(func() {
			for {
				var done bool
				select {
				case <-appended:
					done = true // every input is in: an empty inbox now means all were taken
				default:
				}
				c, inbox, err := s.Load(ctx, id)
				if err != nil {
					t.Errorf("Load: %v", err)
					return
				}
				if len(inbox) == 0 && done {
					return
				}
				for _, in := range inbox {
					c.Turns = append(c.Turns, in.Text)
				}
				c.State = flow.StateListening
				switch err := s.Save(ctx, c, len(inbox)); {
				case errors.Is(err, flow.ErrConflict):
					conflicts.Add(1)
				case err != nil:
					t.Errorf("Save: %v", err)
					return
				default:
					saves.Add(1)
				}
				if len(inbox) == 0 {
					time.Sleep(100 * time.Microsecond)
				}
			}
		})
	}
	fetches.Wait()

	c, inbox := load(t, s, id)
	if len(inbox) != 0 {
		t.Errorf("inputs left in the inbox: %v", inbox)
	}
	if c.Version != saves.Load() {
		t.Errorf("version = %d after %d successful saves", c.Version, saves.Load())
	}
	count := map[string]int{}
	for _, turn := range c.Turns {
		count[turn]++
	}
	// A drop may take an input that a fetch in flight has already read: then
	// it is both read and counted. So every unread input is counted dropped,
	// not the other way round.
	var wrong []string
	unread := 0
	for i := range appends {
		switch n := count[strconv.Itoa(i)]; {
		case n == 0:
			unread++
		case n > 1:
			wrong = append(wrong, fmt.Sprintf("input %d read %d times", i, n))
		}
	}
	if appends <= flow.MaxInbox && dropped.Load() > 0 {
		t.Errorf("%d inputs dropped from an inbox that never held more than %d", dropped.Load(), flow.MaxInbox)
	}
	if int64(unread) > dropped.Load() || len(wrong) > 0 {
		t.Errorf("%d of %d inputs never read, %d reported dropped: %s", unread, appends, dropped.Load(), strings.Join(wrong, ", "))
	}
	t.Logf("%d appends, %d dropped from a full inbox, %d saves, %d conflicts", appends, dropped.Load(), saves.Load(), conflicts.Load())
}

func testExpiry(t *testing.T, s Store, ids ids) {
	e, ok := s.(Expiring)
	if !ok {
		t.Skip("store does not implement storetest.Expiring")
	}
	ctx := t.Context()
	live, ended, hungUp := ids.id("live"), ids.id("ended"), ids.id("hungup")
	c, _ := load(t, s, live)
	if err := s.Save(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	appendOK(t, s, live, "evt-1", flow.Input{Text: "hello"})
	if err := s.Link(ctx, ids.id("tr"), live); err != nil {
		t.Fatal(err)
	}
	if err := s.Speaking(ctx, ended, "tr", flow.VoiceActivity{AtMS: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, flow.Call{ID: ended, State: flow.StateTransferred}, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Link(ctx, ids.id("tr-ended"), ""); err != nil { // unlinked when its call left
		t.Fatal(err)
	}
	appendOK(t, s, hungUp, "evt-1", flow.Input{Hangup: true})

	ttls, err := e.TTLs(ctx, string(ids))
	if err != nil {
		t.Fatalf("TTLs: %v", err)
	}
	names := make([]string, 0, len(ttls))
	for name := range ttls {
		names = append(names, name)
	}
	sort.Strings(names)
	var liveMin, endedMax time.Duration
	for _, name := range names {
		ttl := ttls[name]
		t.Logf("%s expires in %v", name, ttl.Round(time.Second))
		if ttl <= 0 {
			t.Errorf("%s never expires", name)
		}
		switch {
		case strings.Contains(name, live) && (liveMin == 0 || ttl < liveMin):
			liveMin = ttl
		case strings.Contains(name, ended) || strings.Contains(name, hungUp) || strings.Contains(name, ids.id("tr-ended")):
			// Everything a call has, its de-duplication marks too, goes with it.
			endedMax = max(endedMax, ttl)
		}
	}
	if len(ttls) < 4 {
		t.Errorf("TTLs reported %d entries, want at least the live call, its marks, the link and the ended call", len(ttls))
	}
	if liveMin == 0 || endedMax == 0 {
		t.Fatalf("TTLs reported no entries for %s or %s", live, ended)
	}
	if endedMax >= liveMin {
		t.Errorf("an ended or hung-up call's entries live up to %v, not less than a live one (%v)", endedMax, liveMin)
	}
}

func load(t *testing.T, s Store, id string) (flow.Call, []flow.Input) {
	t.Helper()
	c, inbox, err := s.Load(t.Context(), id)
	if err != nil {
		t.Fatalf("Load(%s): %v", id, err)
	}
	return c, inbox
}

// appendOK appends and returns how many inputs the store dropped for it.
func appendOK(t *testing.T, s Store, id, key string, in flow.Input) int {
	t.Helper()
	added, dropped, err := s.Append(t.Context(), id, key, in)
	if err != nil || !added {
		t.Fatalf("Append(%s, %s) = %v, %v; want true, nil", id, key, added, err)
	}
	return dropped
}
