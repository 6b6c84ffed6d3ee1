package flow

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

type memVisits map[string]Visit

func (m memVisits) Remember(_ context.Context, key string, v Visit, _ time.Duration) error {
	m[key] = v
	return nil
}

func (m memVisits) Recall(_ context.Context, key string) (Visit, bool, error) {
	v, ok := m[key]
	return v, ok, nil
}

// TestReturningCaller: a caller who calls again within a day is asked about
// their last call, by its words, and yes takes them to the same department;
// the repeat is marked. Their number is remembered only hashed. A caller two
// days later is greeted as anyone, the repeat not marked.
func TestReturningCaller(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Date(2026, 12, 2, 11, 0, 0, 0, ny) // billing is open
	r, st, _ := messagesRouter(t, &now)
	visits := memVisits{}
	r.Callers, r.HashNumber = visits, func(n string) string { return "h(" + n[len(n)-4:] + ")" }
	ctx := context.Background()
	call := func(id string, words ...string) Reply {
		reply := r.Next(ctx, Turn{CallID: id, Channel: Voice, Caller: "+14155550123"})
		for _, w := range words {
			reply = r.Next(ctx, Turn{CallID: id, Channel: Voice, Words: w})
		}
		return reply
	}
	call("first", "my refund has not arrived yet")
	if v, ok := visits["h(0123)"]; !ok || v.Department != "billing" || v.Topic != "my refund has not arrived yet" {
		t.Fatalf("visits %+v, want the call remembered under the number's hash", visits)
	}
	for key := range visits {
		if strings.Contains(key, "4155550123") {
			t.Errorf("the number itself is a key: %s", key)
		}
	}
	r.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	greeting := r.Next(ctx, Turn{CallID: "second", Channel: Voice, Caller: "+14155550123"})
	if got := greeting.Actions[1].Text; got != "Welcome back. Are you calling about your refund has not arrived yet again?" {
		t.Errorf("greeting %q", got)
	}
	reply := r.Next(ctx, Turn{CallID: "second", Channel: Voice, Words: "yes"})
	if got := lastTarget(reply.Actions); got != "+14155550102" {
		t.Errorf("yes: %+v, want billing", reply.Actions)
	}
	if c := st.calls["second"]; !c.Repeat || c.Reason != "returning" {
		t.Errorf("call %+v, want a repeat routed as returning", c)
	}
	if v := visits["h(0123)"]; v.Topic != "my refund has not arrived yet" {
		t.Errorf("a bare yes replaced the topic: %+v", v)
	}

	r.Now = func() time.Time { return time.Now().Add(50 * time.Hour) }
	greeting = r.Next(ctx, Turn{CallID: "third", Channel: Voice, Caller: "+14155550123"})
	if got := greeting.Actions[1].Text; !strings.HasPrefix(got, "Thank you for calling.") {
		t.Errorf("two days later: %q, want the usual greeting", got)
	}
	if c := st.calls["third"]; c.Repeat {
		t.Error("two days later is no repeat")
	}
}

// TestReturningCallerSaysNo: no, or anything else, is heard as any first words.
func TestReturningCallerSaysNo(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Date(2026, 12, 2, 11, 0, 0, 0, ny)
	r, _, _ := messagesRouter(t, &now)
	r.Callers, r.HashNumber = memVisits{"k": {Department: "billing", Topic: "a refund", AtMS: time.Now().UnixMilli()}}, func(string) string { return "k" }
	ctx := context.Background()
	r.Next(ctx, Turn{CallID: "c", Channel: Voice, Caller: "+14155550123"})
	reply := r.Next(ctx, Turn{CallID: "c", Channel: Voice, Words: "no, I want to buy twenty more licenses for my team"})
	if got := lastTarget(reply.Actions); got != "+14155550100" {
		t.Errorf("no and a new request: %+v, want sales", reply.Actions)
	}
}

type askedModel struct{ asked *[]string }

func (m askedModel) Classify(_ context.Context, turns []string) (Verdict, error) {
	*m.asked = append(*m.asked, turns...)
	return Verdict{Department: "billing", Confidence: 0.95}, nil
}

// TestSpokenNumbersNeverLeave: a card number read out as words reaches
// neither the model nor the log of a call, even with transcripts logged.
func TestSpokenNumbersNeverLeave(t *testing.T) {
	cfg := ExampleConfig()
	var log strings.Builder
	var asked []string
	r := NewRouter(cfg, &memCalls{calls: map[string]Call{}}, NewLocal(cfg), askedModel{&asked}, slog.New(slog.NewJSONHandler(&log, nil)))
	r.LogTranscripts = true
	said := "hello my card number is four one one one one one one one one one one one one two three four and I have a question"
	r.Next(context.Background(), Turn{CallID: "w", Channel: Webhook, Words: said})
	if len(asked) == 0 {
		t.Fatal("the model was not asked: the test proves nothing of it")
	}
	for _, where := range []string{strings.Join(asked, " "), log.String()} {
		if strings.Contains(where, "four one one one") {
			t.Errorf("a spoken card number left the call: %s", where)
		}
	}
	if !strings.Contains(log.String(), "[number]") {
		t.Errorf("the log lacks the redacted words:\n%s", log.String())
	}
}
