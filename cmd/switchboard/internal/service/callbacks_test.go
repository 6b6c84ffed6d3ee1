package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store/redistest"
)

// ownsDialled makes the simulator's dialled number one of the account's: the callbacks show it.
func ownsDialled(rest *voipbintest.REST) {
	rest.Numbers = append(rest.Numbers, voipbintest.Number{ID: voipbintest.ID(2), Number: voipbintest.DefaultDialled, Type: "normal",
		CallFlowID: voipbintest.NilID, MessageFlowID: voipbintest.NilID, Status: "active"})
}

// askCallback plays a caller who asks billing for a callback at 23:30 on the number they call from.
func askCallback(t *testing.T, srv string, id string) string {
	t.Helper()
	res, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: id, Bases: []string{srv}, Token: testToken},
		[]voipbintest.Step{{Say: "my invoice shows a double charge this month"}, {Press: "2"}, {Press: "1"}})
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(res.Transcript, "\n"))
	}
	return strings.Join(res.Transcript, "\n")
}

// legFetch is the department's leg fetching after the whisper, with key.
func legFetch(t *testing.T, srv string, d voipbintest.CallbackDial, key string) []voipbin.Action {
	t.Helper()
	var opt voipbin.FetchOption
	b, _ := json.Marshal(d.Actions[len(d.Actions)-1].Option)
	_ = json.Unmarshal(b, &opt)
	u := strings.Replace(opt.EventURL, voipbin.Var(voipbin.VarDigits), key, 1)
	u = srv + u[strings.Index(u, "/voipbin/"):]
	body, _ := json.Marshal(map[string]string{"activeflow_id": voipbintest.ID(77), "reference_id": d.ID})
	resp, err := http.Post(u, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var acts []voipbin.Action
	if err := json.NewDecoder(resp.Body).Decode(&acts); err != nil || resp.StatusCode != 200 {
		t.Fatalf("leg fetch %s: %d %v", u, resp.StatusCode, err)
	}
	return acts
}

func kinds(acts []voipbin.Action) string {
	var k []string
	for _, a := range acts {
		k = append(k, a.Type)
	}
	return strings.Join(k, " ")
}

// TestCallbackDialledAtOpening: a caller at 23:30 asks for a callback; at
// billing's opening (09:00) the dialler calls billing once, which hears who
// called, when and why and presses 1; its leg is connected to the caller,
// showing the business's number; the callback is connected for good.
func TestCallbackDialledAtOpening(t *testing.T) {
	rest := voipbintest.NewREST(t)
	ownsDialled(rest)
	svc, srv := messagesService(t, rest, &business{})
	transcript := askCallback(t, srv.URL, "cb-1")
	for _, want := range []string{
		"talk (en-US) [async]: We will call you back on 1 4 1 5 5 5 5 0 1 2 3. Press 1 if that is right, or 2 to give another number.\n  digits_receive 12000 ms, length 1\n",
		"talk (en-US): Thank you. Billing & Accounts will call you back on 1 4 1 5 5 5 5 0 1 2 3 when we open. Goodbye.",
	} {
		if !strings.Contains(transcript, want) {
			t.Errorf("the call lacks %q:\n%s", want, transcript)
		}
	}
	ny, _ := time.LoadLocation("America/New_York")
	svc.conf.PublicURL = srv.URL
	svc.dialler.now = func() time.Time { return time.Date(2026, 12, 3, 8, 59, 0, 0, ny) }
	if n := svc.dialler.drain(context.Background()); n != 0 {
		t.Fatalf("%d callbacks dialled before billing opens", n)
	}
	svc.dialler.now = func() time.Time { return time.Date(2026, 12, 3, 9, 0, 0, 0, ny) }
	svc.dialler.drain(context.Background())
	svc.dialler.drain(context.Background())
	dials := rest.Dials()
	if len(dials) != 1 {
		t.Fatalf("%d dials, want 1: %+v", len(dials), dials)
	}
	d := dials[0]
	whisper := d.Actions[0].Option.(map[string]any)["text"]
	if d.To.Target != "+14155550102" || d.From != voipbintest.DefaultDialled ||
		whisper != "Callback to 1 4 1 5 5 5 5 0 1 2 3, who called at 23:30 about: my invoice shows a double charge this month. Press 1 to call them now." {
		t.Errorf("dial %+v, whisper %q", d, whisper)
	}
	acts := legFetch(t, srv.URL, d, "1")
	if kinds(acts) != "talk conference_join fetch" {
		t.Fatalf("billing pressed 1: %+v, want it put in a conference", acts)
	}
	if said := fmt.Sprint(acts[0].Option); !strings.Contains(said, "Calling them now.") { // texts callback_calling
		t.Errorf("billing hears %s, want the default callback_calling", said)
	}
	// The customer is called, showing the business's number, and hears who
	// is calling back before their fetch joins them to billing.
	dials = rest.Dials()
	if len(dials) != 2 {
		t.Fatalf("%d dials after billing pressed 1, want the customer's too: %+v", len(dials), dials)
	}
	c := dials[1]
	intro := c.Actions[0].Option.(map[string]any)["text"]
	if c.To.Target != "+14155550123" || c.From != voipbintest.DefaultDialled || kinds(c.Actions) != "talk fetch" ||
		intro != "Hello, this is Billing &amp; Accounts calling you back about your call at 23:30." {
		t.Errorf("the customer's call %+v, intro %q: want the intro, then the fetch", c, intro)
	}
	if other := legFetch(t, srv.URL, voipbintest.CallbackDial{ID: d.ID, Actions: c.Actions}, ""); kinds(other) != "talk hangup" {
		t.Errorf("another call fetched the customer's join: %s, want it ended", kinds(other))
	}
	join := legFetch(t, srv.URL, c, "")
	if kinds(join) != "conference_join fetch" || fmt.Sprint(join[0].Option) != fmt.Sprint(acts[1].Option) {
		t.Errorf("the customer's fetch after the intro: %+v, want to join billing's conference %+v", join, acts[1].Option)
	}
	if rest.Conferences() != 1 {
		t.Errorf("%d conferences, want billing's", rest.Conferences())
	}
	// The conversation over, whichever side goes on first deletes the
	// conference; the other finds it gone.
	for _, after := range [][]voipbin.Action{acts, join} {
		if end := legFetch(t, srv.URL, voipbintest.CallbackDial{ID: c.ID, Actions: after}, ""); kinds(end) != "hangup" {
			t.Errorf("the fetch after the conversation: %s, want hangup", kinds(end))
		}
	}
	if rest.Conferences() != 0 {
		t.Errorf("%d conferences left after the callback, want none", rest.Conferences())
	}
	if again := legFetch(t, srv.URL, d, "1"); kinds(again) != "talk hangup" {
		t.Errorf("the leg fetched again: %s, want it told the callback was taken", kinds(again))
	}
	cb, _, _ := svc.callbacks.Get(context.Background(), voipbintest.WireID("cb-1"))
	if cb.State != flow.CallbackConnected || cb.Attempts != 1 || len(cb.Outcomes) != 1 {
		t.Errorf("callback %+v, want connected on its first attempt", cb)
	}
	page := scrape(t, srv.URL)
	for _, want := range []string{`switchboard_callbacks_total{outcome="dialled"} 1`, `switchboard_callbacks_total{outcome="connected"} 1`,
		`switchboard_nobody_reached_total{outcome="callback"} 1`} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(page, "callback"))
		}
	}
}

// TestCallbackRetried: declined, then not taken within the window: each an
// outcome, each tried again after its pause at an opening; after the last
// attempt the callback has failed and is never dialled again.
func TestCallbackRetried(t *testing.T) {
	rest := voipbintest.NewREST(t)
	ownsDialled(rest)
	svc, srv := messagesService(t, rest, &business{})
	askCallback(t, srv.URL, "cb-retry")
	svc.conf.PublicURL = srv.URL
	ny, _ := time.LoadLocation("America/New_York")
	clock := time.Date(2026, 12, 3, 9, 0, 0, 0, ny)
	svc.dialler.now = func() time.Time { return clock }
	ctx := context.Background()
	svc.dialler.drain(ctx)
	legFetch(t, srv.URL, rest.Dials()[0], "2") // declined
	clock = clock.Add(10 * time.Minute)
	if svc.dialler.drain(ctx); len(rest.Dials()) != 1 {
		t.Fatalf("dialled again before the 15 min pause")
	}
	clock = clock.Add(6 * time.Minute)
	svc.dialler.drain(ctx) // second attempt: nobody takes it
	clock = clock.Add(3 * time.Minute)
	svc.dialler.drain(ctx) // the window ran out: not taken
	clock = clock.Add(time.Hour)
	svc.dialler.drain(ctx) // third attempt
	clock = clock.Add(3 * time.Minute)
	svc.dialler.drain(ctx)
	clock = clock.Add(3 * time.Hour)
	svc.dialler.drain(ctx) // fourth and last attempt
	clock = clock.Add(3 * time.Minute)
	svc.dialler.drain(ctx)
	clock = clock.Add(24 * time.Hour)
	svc.dialler.drain(ctx)
	cb, _, _ := svc.callbacks.Get(ctx, voipbintest.WireID("cb-retry"))
	if got := len(rest.Dials()); got != 4 || cb.State != flow.CallbackFailed || len(cb.Outcomes) != 4 ||
		!strings.HasSuffix(cb.Outcomes[0], "declined by Billing & Accounts") || !strings.HasSuffix(cb.Outcomes[1], "not taken by Billing & Accounts") {
		t.Errorf("%d dials, callback %+v; want 4 attempts, then failed", got, cb)
	}
}

// TestCallbackRefused: what VoIPBin refuses (here, an account whose identity
// is not verified) fails the callback at once, loudly, and is not retried.
func TestCallbackRefused(t *testing.T) {
	rest := voipbintest.NewREST(t)
	ownsDialled(rest)
	svc, srv := messagesService(t, rest, &business{})
	askCallback(t, srv.URL, "cb-refused")
	rest.Customer.IdentityVerificationStatus = "pending"
	ny, _ := time.LoadLocation("America/New_York")
	svc.dialler.now = func() time.Time { return time.Date(2026, 12, 3, 9, 0, 0, 0, ny) }
	svc.dialler.drain(context.Background())
	svc.dialler.now = func() time.Time { return time.Date(2026, 12, 4, 9, 0, 0, 0, ny) }
	svc.dialler.drain(context.Background())
	cb, _, _ := svc.callbacks.Get(context.Background(), voipbintest.WireID("cb-refused"))
	if cb.State != flow.CallbackFailed || len(rest.Refused()) != 1 || !strings.Contains(cb.Outcomes[0], "IDENTITY_VERIFICATION_REQUIRED") {
		t.Errorf("callback %+v, refusals %v", cb, rest.Refused())
	}
}

// TestCallbacksDialledOnce: 500 callbacks due at once, two replicas on one
// Redis dialling them together: each is dialled exactly once.
func TestCallbacksDialledOnce(t *testing.T) {
	url := redistest.Start(t)
	rest := voipbintest.NewREST(t)
	ownsDialled(rest)
	var replicas []*Service
	for range 2 {
		svc, _ := messagesServiceOn(t, rest, url, "2026-12-03T09:30")
		replicas = append(replicas, svc)
	}
	ctx := context.Background()
	prefix := fmt.Sprint(time.Now().UnixNano())
	now := time.Now()
	const n = 500
	for i := range n {
		cb := flow.Callback{ID: voipbintest.WireID(fmt.Sprint(prefix, "-", i)), Number: "+14155550123", Dialled: voipbintest.DefaultDialled,
			Department: "billing", Label: "Billing & Accounts", Language: "en-US", AtMS: now.UnixMilli(), State: flow.CallbackWaiting}
		if _, err := replicas[i%2].callbacks.Book(ctx, cb, now); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	handled := make([]int, 2)
	for i, svc := range replicas {
		svc.dialler.now = func() time.Time { return now.Add(time.Second) }
		wg.Go(func() { handled[i] = svc.dialler.drain(ctx) })
	}
	wg.Wait()
	took := time.Since(start)
	per := map[string]int{}
	for _, d := range rest.Dials() {
		var opt voipbin.FetchOption
		b, _ := json.Marshal(d.Actions[2].Option)
		_ = json.Unmarshal(b, &opt)
		_, after, _ := strings.Cut(opt.EventURL, "&cb=")
		id, _, _ := strings.Cut(after, "&")
		per[id]++
	}
	twice := 0
	for _, k := range per {
		if k != 1 {
			twice++
		}
	}
	t.Logf("500 callbacks over two replicas: %d and %d dialled, %d distinct, %d more than once, in %v", handled[0], handled[1], len(per), twice, took)
	if len(per) != n || twice != 0 || handled[0]+handled[1] != n {
		t.Errorf("%d callbacks dialled (%d more than once, replicas %v), want each of %d exactly once", len(per), twice, handled, n)
	}
}

// messagesServiceOn is messagesService on a Redis.
func messagesServiceOn(t *testing.T, rest *voipbintest.REST, redisURL string, at string) (*Service, string) {
	t.Helper()
	svc, srv := startService(t, Config{FetchToken: testToken, ConfigFile: messagesConfig, At: at, RedisURL: redisURL,
		Secret: "s", WebhookToken: "w", PublicURL: "http://127.0.0.1", AccessKey: voipbintest.AccessKey, APIURL: rest.URL, MessagesSecret: "m"})
	return svc, srv.URL
}

// TestReturningCallerCounted: a number's flow that brings the caller's
// number (from=${voipbin.call.source.target}) lets a caller who calls again
// within a day be asked about their last call, and the repeat is counted.
func TestReturningCallerCounted(t *testing.T) {
	rest := voipbintest.NewREST(t)
	rest.Own(voipbintest.DefaultDialled) // with the access key a routed caller is handed over: its legs are placed from the number dialled
	_, srv := startService(t, Config{FetchToken: testToken, ConfigFile: messagesConfig, At: "2026-12-02T11:00",
		AccessKey: voipbintest.AccessKey, APIURL: rest.URL, MessagesSecret: "m", RingSecond: handoffTestSecond})
	rest.Bases = []string{srv.URL}
	numberFlow := []json.RawMessage{json.RawMessage(`{"id":"6f2c1a3e-0b9d-4c1e-9a6b-2f3d4e5f6a70","type":"answer"}`),
		json.RawMessage(`{"id":"6f2c1a3e-0b9d-4c1e-9a6b-2f3d4e5f6a71","type":"fetch","option":{"event_url":"/voipbin/fetch?t=` + testToken +
			`&to=${voipbin.call.destination.target}&from=${voipbin.call.source.target}","event_method":"POST"}}`)}
	play := func(id string, steps ...voipbintest.Step) *voipbintest.Result {
		res, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: id, Bases: []string{srv.URL}, Token: testToken, Flow: numberFlow, REST: rest}, steps)
		if err != nil {
			t.Fatalf("%v\n%s", err, strings.Join(res.Transcript, "\n"))
		}
		return res
	}
	if res := play("ret-1", voipbintest.Step{Say: "my refund has not arrived yet"}); res.Connected != "+14155550102" {
		t.Fatalf("first call went to %q (refused: %v)\n%s", res.Connected, rest.Refused(), strings.Join(res.Transcript, "\n"))
	}
	res := play("ret-2", voipbintest.Step{Say: "yes"})
	transcript := strings.Join(res.Transcript, "\n")
	if !strings.Contains(transcript, "talk (en-US): Welcome back. Are you calling about your refund has not arrived yet again?") || res.Connected != "+14155550102" {
		t.Errorf("second call: connected %q\n%s", res.Connected, transcript)
	}
	if page := scrape(t, srv.URL); !strings.Contains(page, `switchboard_calls_repeat_total{department="billing"} 1`) {
		t.Errorf("/metrics lacks the repeat:\n%s", grepLines(page, "repeat"))
	}
}

// TestCallbackIntroInCallersLanguage: a Spanish caller is told in Spanish
// who is calling back; a customer VoIPBin will not call (outside the
// outbound whitelist) is an outcome, the department is told, nobody waits
// in a conference, and the callback is tried again.
func TestCallbackIntroInCallersLanguage(t *testing.T) {
	rest := voipbintest.NewREST(t)
	ownsDialled(rest)
	svc, srv := messagesService(t, rest, &business{})
	svc.conf.PublicURL = srv.URL
	ctx := context.Background()
	ny, _ := time.LoadLocation("America/New_York")
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, ny)
	svc.dialler.now = func() time.Time { return at }
	for _, cb := range []flow.Callback{
		{ID: voipbintest.WireID("cb-es"), Number: "+14155550123", Dialled: voipbintest.DefaultDialled, Department: "billing", Label: "Facturación", Language: "es-ES",
			AtMS: time.Date(2026, 12, 2, 19, 40, 0, 0, ny).UnixMilli(), State: flow.CallbackWaiting},
		{ID: voipbintest.WireID("cb-far"), Number: "+61255550123", Dialled: voipbintest.DefaultDialled, Department: "billing", Label: "Billing & Accounts", Language: "en-US",
			AtMS: at.UnixMilli(), State: flow.CallbackWaiting},
	} {
		if _, err := svc.callbacks.Book(ctx, cb, at); err != nil {
			t.Fatal(err)
		}
		svc.dialler.drain(ctx)
		dials := rest.Dials()
		if len(dials) == 0 {
			got, _, _ := svc.callbacks.Get(ctx, cb.ID)
			t.Fatalf("not dialled: %+v, refused %v", got, rest.Refused())
		}
		legFetch(t, srv.URL, dials[len(dials)-1], "1")
	}
	dials := rest.Dials()
	if len(dials) != 3 {
		t.Fatalf("%d dials, want billing twice and the Spanish customer: %+v", len(dials), dials)
	}
	intro := dials[1].Actions[0].Option.(map[string]any)
	if intro["text"] != "Hola, le llama Facturación para devolverle su llamada de las 19:40." || intro["language"] != "es-ES" {
		t.Errorf("the Spanish customer hears %v", intro)
	}
	far, _, _ := svc.callbacks.Get(ctx, voipbintest.WireID("cb-far"))
	if far.State != flow.CallbackWaiting || len(far.Outcomes) != 1 || !strings.Contains(far.Outcomes[0], "customer not called") ||
		!strings.Contains(far.Outcomes[0], "whitelist") {
		t.Errorf("callback %+v, want an outcome and another try", far)
	}
	if rest.Conferences() != 1 { // the Spanish one's, still talking
		t.Errorf("%d conferences, want the one of the callback connected", rest.Conferences())
	}
	if page := scrape(t, srv.URL); !strings.Contains(page, `switchboard_callbacks_total{outcome="customer_not_called"} 1`) {
		t.Errorf("/metrics lacks the customer not called:\n%s", grepLines(page, "callback"))
	}
}
