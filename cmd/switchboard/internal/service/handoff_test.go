package service

import (
	"context"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store/redistest"
)

// handoffTestSecond is a second of ring time in tests: a 20 s ring lasts 100 ms.
const handoffTestSecond = 5 * time.Millisecond

// handoffBench is a service with VoIPBin's REST API (its stand-in) and the
// stand-in's account, which owns the number callers dial.
type handoffBench struct {
	rest   *voipbintest.REST
	svc    *Service
	srv    *httptest.Server
	queues map[string]voipbintest.Queue
}

func newHandoffBench(t *testing.T, config string, people map[string]string) *handoffBench {
	t.Helper()
	rest := voipbintest.NewREST(t)
	rest.Own(voipbintest.DefaultDialled)
	rest.People = people
	rest.LoseEvents = people["lose events"] != ""
	rest.DialTimeout = 3 * time.Second // VoIPBin's 60 s, shortened: a leg our ring timer forgot ends "dialout"
	s := Config{FetchToken: testToken, ConfigFile: "../../../../testdata/" + config, AccessKey: voipbintest.AccessKey, APIURL: rest.URL, RingSecond: handoffTestSecond}
	svc, srv := startService(t, s)
	rest.Bases = []string{srv.URL}
	cfg, err := LoadConfig(s.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	queues := voipbintest.Queues(cfg)
	return &handoffBench{rest: rest, svc: svc, srv: srv, queues: queues}
}

// call plays one call and checks that nothing is left behind: no
// conference, no outgoing call, no ring timer.
func (b *handoffBench) call(t *testing.T, name string, steps ...voipbintest.Step) (*voipbintest.Result, string) {
	t.Helper()
	return b.callWith(t, name, []string{"hello, about that invoice"}, steps...)
}

// callWith is call with what the caller says to whoever they reach.
func (b *handoffBench) callWith(t *testing.T, name string, toHuman []string, steps ...voipbintest.Step) (*voipbintest.Result, string) {
	t.Helper()
	res, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: name, Bases: []string{b.srv.URL}, Token: testToken,
		REST: b.rest, ToHuman: toHuman, Queues: b.queues}, steps)
	transcript := strings.Join(res.Transcript, "\n")
	if err != nil {
		t.Fatalf("%v\n%s", err, transcript)
	}
	b.svc.handoff.Wait()
	if !b.rest.WaitCalls(5 * time.Second) {
		t.Errorf("outgoing calls still up:\n%s", transcript)
	}
	if n := b.rest.Conferences(); n != 0 {
		t.Errorf("%d conferences left behind (VoIPBin deletes none by itself):\n%s", n, transcript)
	}
	return res, transcript
}

func TestHandoffOutcomes(t *testing.T) {
	billing := []voipbintest.Step{{Say: "my invoice shows a double charge"}}
	tests := []struct {
		name    string
		people  map[string]string
		steps   []voipbintest.Step
		reaches string // "": nobody, the caller hung up
		hears   []string
		tries   string // department/outcome of each try, in any order
		account func(*voipbintest.REST)
	}{
		{"accepted", nil, billing, "+14155550102", []string{
			"hears (en-US): Call from +1 415 555 0123, about my invoice shows a double charge. Press 1 to take it.",
			"presses 1", "joins the caller's conference"}, "billing/answered", nil},
		{"unanswered then next", map[string]string{"+14155550102": voipbintest.PersonUnanswered}, billing, "+14155550112", []string{
			"rings on until VoIPBin is told to hang up: cancelled",
			"talk (en-US): Sorry, they could not take your call. Trying someone else, please hold."}, "billing/unanswered billing/answered", nil},
		{"busy then next", map[string]string{"+14155550102": voipbintest.PersonBusy}, billing, "+14155550112", []string{"busy"}, "billing/busy billing/answered", nil},
		{"busy, its events lost", map[string]string{"+14155550102": voipbintest.PersonBusy, "lose events": "yes"}, billing, "+14155550112",
			[]string{"busy"}, "billing/busy billing/answered", nil},
		{"failed then next", map[string]string{"+14155550102": voipbintest.PersonFails}, billing, "+14155550112", []string{"cannot be reached"}, "billing/failed billing/answered", nil},
		{"declined then next", map[string]string{"+14155550102": voipbintest.PersonDeclines}, billing, "+14155550112", []string{"presses 2"}, "billing/declined billing/answered", nil},
		{"no key then next", map[string]string{"+14155550102": voipbintest.PersonSilent}, billing, "+14155550112", []string{"presses nothing in 5000 ms"}, "billing/declined billing/answered", nil},
		{"put down then next", map[string]string{"+14155550102": voipbintest.PersonHangsUp}, billing, "+14155550112", []string{"puts the phone down"}, "billing/declined billing/answered", nil},
		{"all of billing, then the fallback desk", map[string]string{"+14155550102": voipbintest.PersonBusy, "+14155550112": voipbintest.PersonDeclines},
			billing, "+14155550199", []string{"leg to +14155550199:"}, "billing/busy billing/declined fallback/answered", nil},
		{"nobody at all: a plain connect to the fallback desk", map[string]string{"+14155550102": voipbintest.PersonBusy,
			"+14155550112": voipbintest.PersonBusy, "+14155550199": voipbintest.PersonBusy}, billing, "+14155550199",
			[]string{"talk (en-US): Connecting you to our main reception desk.", "connect tel +14155550199"},
			"billing/busy billing/busy fallback/busy billing/last_resort", nil},
		{"every call refused (no whitelisted country): a plain connect", nil, billing, "+14155550199", []string{"connect tel +14155550199"},
			"billing/failed billing/failed fallback/failed billing/last_resort", func(r *voipbintest.REST) { r.Whitelist = []string{} }},
		{"no conference left on the plan: a plain connect", nil, billing, "+14155550199", []string{"connect tel +14155550199"},
			"billing/failed billing/last_resort", func(r *voipbintest.REST) { r.ConferenceLimit = -1 }},
		{"whisper off", nil, []voipbintest.Step{{Say: "I would like a quote for twenty licenses"}}, "+14155550100", nil, "sales/answered", nil},
		{"caller hangs up while it rings", map[string]string{"+14155550102": voipbintest.PersonUnanswered},
			append(billing, voipbintest.Step{Hangup: true, During: "conference_join"}), "", []string{"caller hangs up while on hold", "cancelled"}, "billing/caller_left", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newHandoffBench(t, "routing-handoff.json", tt.people)
			if tt.account != nil {
				tt.account(b.rest)
			}
			res, transcript := b.call(t, "handoff-"+tt.name, tt.steps...)
			if res.Connected != tt.reaches {
				t.Errorf("reached %q, want %q:\n%s", res.Connected, tt.reaches, transcript)
			}
			for _, h := range tt.hears {
				if !strings.Contains(transcript, h) {
					t.Errorf("transcript lacks %q:\n%s", h, transcript)
				}
			}
			if got := tries(b.svc); got != sortedTries(tt.tries) {
				t.Errorf("tries %q, want %q:\n%s", got, sortedTries(tt.tries), transcript)
			}
			if len(res.Unplayed) > 0 {
				t.Errorf("steps not played: %+v\n%s", res.Unplayed, transcript)
			}
		})
	}
}

// TestHoldTalkFailureHurtsNothing: VoIPBin refusing every hold message
// leaves the caller's handoff as it was: the first line rings out, the
// next answers, and the failures are counted.
func TestHoldTalkFailureHurtsNothing(t *testing.T) {
	b := newHandoffBench(t, "routing-handoff.json", map[string]string{"+14155550102": voipbintest.PersonUnanswered})
	b.rest.TalkFails = true
	res, transcript := b.callWith(t, "hold-talk-fails", nil, voipbintest.Step{Say: "my invoice shows a double charge"})
	if res.Connected != "+14155550112" || strings.Contains(transcript, "over the hold") {
		t.Errorf("reached %q, want +14155550112 and no hold message played:\n%s", res.Connected, transcript)
	}
	if got := tries(b.svc); got != "billing/answered billing/unanswered" {
		t.Errorf("tries %q, want billing/answered billing/unanswered", got)
	}
	if n := counterValue(b.svc, "switchboard_hold_talks_total", "failed"); n < 1 {
		t.Errorf("hold talks failed counted %v, want at least 1", n)
	}
}

// counterValue is the value of the counter name with the label value v.
func counterValue(svc *Service, name, v string) float64 {
	fams, _ := svc.metrics.reg.Gather()
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if f.GetName() == name && l.GetValue() == v {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// tries lists the handoff tries the service counted, "dept/outcome" sorted,
// one entry per try.
func tries(svc *Service) string {
	fams, _ := svc.metrics.reg.Gather()
	var out []string
	for _, f := range fams {
		if f.GetName() != "switchboard_transfers_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for range int(m.GetCounter().GetValue()) {
				out = append(out, labels["department"]+"/"+labels["outcome"])
			}
		}
	}
	return sortedTries(strings.Join(out, " "))
}

func sortedTries(s string) string {
	f := strings.Fields(s)
	slices.Sort(f)
	return strings.Join(f, " ")
}

// TestHandoffWhisperSummary: with a model, the person rung hears the model's
// one-line reason, cleaned like any text the caller gave us; the model is
// asked with the caller's words fenced, as for routing.
func TestHandoffWhisperSummary(t *testing.T) {
	model := newModelStandIn(t, []modelReply{
		{Content: "billing", TopLogprobs: map[string]float64{"billing": 0.95, "sales": 0.03}},
		{Content: `a double charge on the <b>last</b> invoice.`},
	})
	rest := voipbintest.NewREST(t)
	rest.Own(voipbintest.DefaultDialled)
	s := Config{FetchToken: testToken, ConfigFile: "../../../../testdata/routing-handoff.json", AccessKey: voipbintest.AccessKey, APIURL: rest.URL, RingSecond: handoffTestSecond,
		OpenAIKey: "test-key", OpenAIURL: model.URL() + "/v1"}
	svc, srv := startService(t, s)
	rest.Bases = []string{srv.URL}
	b := &handoffBench{rest: rest, svc: svc, srv: srv}
	_, transcript := b.call(t, "summary", voipbintest.Step{Say: "hi, so I looked at my account and there is something odd with the money"})
	want := "hears (en-US): Call from +1 415 555 0123, about a double charge on the last invoice. Press 1 to take it."
	if !strings.Contains(transcript, want) {
		t.Errorf("the whisper lacks the model's summary, cleaned; want %q in:\n%s\n%s", want, transcript, strings.Join(model.log(), "\n"))
	}
	asked := strings.Join(model.log(), "\n")
	if strings.Count(asked, "<caller_words>") < 2 {
		t.Errorf("the summary must be asked with the caller's words fenced:\n%s", asked)
	}
}

// TestHandoffWhisperAfterCorrection: a correction said during "Routing you
// to Sales" routes the caller again, and the person rung hears the summary
// of everything they said, not of the line they took back.
func TestHandoffWhisperAfterCorrection(t *testing.T) {
	// The model classifies the first line and summarises each route, on
	// its own goroutine, which asks long before the correction is said; the
	// local classifier is sure of the correction ("a refund").
	model := newModelStandIn(t, []modelReply{
		{Content: "sales", TopLogprobs: map[string]float64{"sales": 0.95, "billing": 0.03}},
		{Content: "twenty more licenses", When: "1. I'd like to buy twenty more licenses | </caller_words>"},
		{Content: "a refund for last month", When: "2. actually no, I need a refund for last month"},
	})
	rest := voipbintest.NewREST(t)
	rest.Own(voipbintest.DefaultDialled)
	s := Config{FetchToken: testToken, ConfigFile: "../../../../testdata/routing-handoff.json", AccessKey: voipbintest.AccessKey, APIURL: rest.URL, RingSecond: handoffTestSecond,
		OpenAIKey: "test-key", OpenAIURL: model.URL() + "/v1"}
	svc, srv := startService(t, s)
	rest.Bases = []string{srv.URL}
	b := &handoffBench{rest: rest, svc: svc, srv: srv}
	_, transcript := b.call(t, "corrected", voipbintest.Step{Say: "I'd like to buy twenty more licenses"},
		voipbintest.Step{Say: "actually no, I need a refund for last month", AfterMS: 800})
	want := "hears (en-US): Call from +1 415 555 0123, about a refund for last month. Press 1 to take it."
	if !strings.Contains(transcript, "Routing you to Sales") || !strings.Contains(transcript, want) {
		t.Errorf("want the announcement of Sales, then billing's whisper %q:\n%s\n%s", want, transcript, strings.Join(model.log(), "\n"))
	}
}

// TestHandoffFetchNeverRefuses: past the token, a handoff fetch always
// answers actions that reach someone (VoIPBin hangs the caller up on
// anything else): without a call id, or on a replica without the REST API,
// a plain connect to the fallback desk; a leg's fetch that cannot be used
// is hung up.
func TestHandoffFetchNeverRefuses(t *testing.T) {
	plain := startServer(t, Config{FetchToken: testToken})
	b := newHandoffBench(t, "routing-handoff.json", nil)
	body := `{"activeflow_id":"` + vid("af") + `","reference_id":"` + vid("c") + `"}`
	for _, tt := range []struct {
		name, base, path, body string
		status                 int
		want                   string
	}{
		{"a replica without the REST API", plain.URL, "/voipbin/handoff?t=" + testToken + "&dept=billing", body, 200, `"connect"`},
		{"no call id", b.srv.URL, "/voipbin/handoff?t=" + testToken + "&dept=billing", `{}`, 200, `"connect"`},
		{"not JSON", b.srv.URL, "/voipbin/handoff?t=" + testToken + "&dept=billing", `nope`, 200, `"connect"`},
		{"a leg's fetch without the caller's call", b.srv.URL, "/voipbin/handoff/agent?t=" + testToken + "&d=1", body, 200, `"hangup"`},
		{"a leg's fetch for no handoff", b.srv.URL, "/voipbin/handoff/agent?t=" + testToken + "&d=1&call=" + vid("nobody"), body, 200, `"hangup"`},
		{"a bad token", b.srv.URL, "/voipbin/handoff?t=wrong", body, 401, "token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, got := post(t, tt.base+tt.path, tt.body)
			if status != tt.status || !strings.Contains(got, tt.want) {
				t.Errorf("%d %s, want %d with %s", status, got, tt.status, tt.want)
			}
		})
	}
}

// TestUnansweredCallerLeavesWord: with messages on, a caller whom nobody
// takes leaves a message that reaches the business (an SMS and an email in
// the REST stand-in's record, with who called and what they said), or books
// a callback that is due at once, the department being open.
func TestUnansweredCallerLeavesWord(t *testing.T) {
	nobody := func(how string) map[string]string {
		return map[string]string{"+14155550102": how, "+14155550112": how, "+14155550199": how}
	}
	t.Run("message", func(t *testing.T) {
		b := newHandoffBench(t, "routing-handoff-messages.json", nobody(voipbintest.PersonUnanswered))
		res, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: "word-msg", Bases: []string{b.srv.URL}, Token: testToken,
			REST: b.rest, Recorder: b.rest}, []voipbintest.Step{
			{Say: "my invoice shows a double charge"}, {Say: "Hi, this is Dana, please call me about the double charge"}, {Press: "#"}})
		transcript := strings.Join(res.Transcript, "\n")
		if err != nil {
			t.Fatalf("%v\n%s", err, transcript)
		}
		b.svc.handoff.Wait()
		if res.Connected != "" || !strings.Contains(transcript, "call you back as soon as they can. Goodbye.") {
			t.Fatalf("the caller reached %q and left no message:\n%s", res.Connected, transcript)
		}
		b.svc.sender.now = func() time.Time { return time.Now().Add(time.Minute) }
		if n := b.svc.sender.drain(context.Background()); n != 1 {
			t.Fatalf("%d messages tried, want 1:\n%s", n, transcript)
		}
		sms, emails := b.rest.Sent()
		if len(sms) != 1 || len(emails) != 1 {
			t.Fatalf("sent %d SMS and %d emails, want one of each: %+v %+v", len(sms), len(emails), sms, emails)
		}
		if got := sms[0]; got.To[0] != "+14155550172" || !strings.Contains(got.Text, "Message for Billing from +14155550123") ||
			!strings.Contains(got.Text, "please call me about the double charge") || !strings.Contains(got.Text, "my invoice shows a double charge") {
			t.Errorf("SMS %+v", got)
		}
		if got := emails[0]; got.To[0] != "billing@acme.example" || len(got.Attachments) != 1 {
			t.Errorf("email %+v, want billing's, with the recording", got)
		}
	})
	t.Run("callback", func(t *testing.T) {
		b := newHandoffBench(t, "routing-handoff-messages.json", nobody(voipbintest.PersonBusy))
		res, transcript := b.callWith(t, "word-cb", nil, voipbintest.Step{Say: "my invoice shows a double charge"}, voipbintest.Step{Press: "2"}, voipbintest.Step{Press: "1"})
		if res.Connected != "" {
			t.Fatalf("the caller reached %q:\n%s", res.Connected, transcript)
		}
		cb, ok, err := b.svc.callbacks.Get(context.Background(), voipbintest.WireID("word-cb"))
		if err != nil || !ok {
			t.Fatalf("no callback booked (%v):\n%s", err, transcript)
		}
		if cb.Number != "+14155550123" || cb.Department != "billing" || time.UnixMilli(cb.DueMS).After(time.Now()) {
			t.Errorf("callback %+v, want +14155550123 for billing, due now", cb)
		}
	})
}

// TestQueueFetchAfterTheWait: the fetch after a queue_join goes on with a
// caller whose wait ended within the department's longest wait (the queue's
// wait_timeout), and hangs up on one whose conversation with the queue's
// agent just ended; on a replica without the REST API, the one who waited
// is connected plainly to the fallback desk.
func TestQueueFetchAfterTheWait(t *testing.T) {
	plain := startServer(t, Config{FetchToken: testToken, ConfigFile: "../../../../testdata/routing-handoff-queue.json"})
	body := `{"activeflow_id":"` + vid("af") + `","reference_id":"` + vid("q") + `"}`
	at := func(ago time.Duration) string {
		return "/voipbin/handoff?t=" + testToken + "&dept=returns&queued=" + strconv.FormatInt(time.Now().Add(-ago).UnixMilli(), 10)
	}
	for _, tt := range []struct {
		name, path, want string
	}{
		{"waited the 2 minutes", at(2 * time.Minute), `"connect"`},
		{"talked to an agent for 10 minutes", at(10 * time.Minute), `"hangup"`},
		{"a time that is none", "/voipbin/handoff?t=" + testToken + "&dept=returns&queued=soon", `"hangup"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, got := post(t, plain.URL+tt.path, body)
			if status != 200 || !strings.Contains(got, tt.want) {
				t.Errorf("%d %s, want 200 with %s", status, got, tt.want)
			}
		})
	}
	if !queueWaitEnded(&flow.Routing{}, "gone", time.Now().Add(-time.Hour), time.Now()) {
		t.Error("a department no longer configured kept the caller from going on")
	}
}

// TestRingTimerOutlivesItsReplica: the ring timers live in the store, so a
// replica that stops looking at them (it died) leaves its callers' ring
// times to another. The destination nobody answers is given up on by the
// other replica, and the caller reaches the next one, although the replica
// that rang never acts on a timer again.
func TestRingTimerOutlivesItsReplica(t *testing.T) {
	redis := redistest.Start(t)
	rest := voipbintest.NewREST(t)
	rest.Own(voipbintest.DefaultDialled)
	rest.People = map[string]string{"+14155550102": voipbintest.PersonUnanswered}
	rest.DialTimeout = 10 * time.Second // only a ring timer ends the leg in time
	s := Config{FetchToken: testToken, ConfigFile: "../../../../testdata/routing-handoff.json", AccessKey: voipbintest.AccessKey,
		APIURL: rest.URL, RingSecond: handoffTestSecond, RedisURL: redis}
	rang, srv := startService(t, s)
	other, _ := startService(t, s)
	rang.handoff.stopTimer() // the replica that rings looks at no timer
	<-rang.handoff.timersRun
	rest.Bases = []string{srv.URL}
	b := &handoffBench{rest: rest, svc: rang, srv: srv}
	res, transcript := b.call(t, "replica-died", voipbintest.Step{Say: "my invoice shows a double charge"})
	other.handoff.Wait()
	if res.Connected != "+14155550112" {
		t.Errorf("reached %q; want the next destination, +14155550112:\n%s", res.Connected, transcript)
	}
	if n := rest.Hangups()["dialout"]; n != 0 {
		t.Errorf("%d legs rang until VoIPBin's dial timeout: no replica ended their ring time\n%s", n, transcript)
	}
}

// TestHandoffFetchWaitsOnASlowAPI: VoIPBin's REST API answering slowly (1 s
// a call) does not hold a handoff fetch, which shares call-manager's 3 s
// window with what VoIPBin does after it: the conference is made beside
// the fetch, the caller pauses and fetches again until it is there, then
// waits in it, and still reaches the person.
func TestHandoffFetchWaitsOnASlowAPI(t *testing.T) {
	b := newHandoffBench(t, "routing-handoff.json", nil)
	b.rest.SetLatency(time.Second)
	res, transcript := b.call(t, "slow-api", voipbintest.Step{Say: "my invoice shows a double charge"})
	if res.Connected != "+14155550102" {
		t.Errorf("reached %q, want +14155550102:\n%s", res.Connected, transcript)
	}
	handoff := transcript[strings.Index(transcript, "fetch /voipbin/handoff"):]
	if !strings.Contains(handoff, "sleep 600\nfetch /voipbin/handoff") {
		t.Errorf("want the caller to pause and fetch again while the conference is made:\n%s", transcript)
	}
}

// TestQueueConversationEndsShort: a queued caller whom the queue's agent
// took (VoIPBin's queuecall_serviced) and let go after a short conversation,
// well within the department's longest wait, stays on the line; the fetch
// after their queue_join ends the call rather than handing them on, which
// the time alone would have taken for a wait that ended.
func TestQueueConversationEndsShort(t *testing.T) {
	b := newHandoffBench(t, "routing-handoff-queue.json", nil)
	for id, q := range b.queues {
		q.AnswerAfter, q.AgentHangsUp = 30*time.Second, true
		b.queues[id] = q
	}
	res, transcript := b.callWith(t, "queue-short", []string{"hi, I want to return a blender"}, voipbintest.Step{Say: "I want to return the blender I bought"})
	if !strings.HasPrefix(res.Connected, "queue ") {
		t.Fatalf("reached %q; want the queue's agent:\n%s", res.Connected, transcript)
	}
	after := transcript[strings.Index(transcript, "the agent hangs up"):]
	if !strings.Contains(after, "hangup") || strings.Contains(after, "conference_join") || strings.Contains(after, "connect") {
		t.Errorf("after the conversation with the queue's agent the call must end, not be handed on:\n%s", transcript)
	}
}
