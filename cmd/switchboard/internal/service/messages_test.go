package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
	"github.com/switchboard/switchboard/store/redistest"
)

const messagesConfig = "../../../../testdata/routing-messages.json"

// business is the business's own webhook endpoint: it keeps what it was
// sent, checks each signature, and fails while told to.
type business struct {
	mu      sync.Mutex
	hooks   []messageHook
	bad     int // requests with a wrong signature
	failing bool
}

func (b *business) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.Header.Get(SignatureHeader) != SignMessage("hook-secret", body) {
		b.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if b.failing {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	var h messageHook
	_ = json.Unmarshal(body, &h)
	b.hooks = append(b.hooks, h)
}

// messagesService serves the messages config at 23:30, nobody open, with the
// REST stand-in as VoIPBin and biz as the business's webhook.
func messagesService(t *testing.T, rest *voipbintest.REST, biz *business) (*Service, *httptest.Server) {
	t.Helper()
	hook := httptest.NewServer(biz)
	t.Cleanup(hook.Close)
	b, err := os.ReadFile(messagesConfig)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "routing.json")
	b = []byte(strings.ReplaceAll(string(b), "https://hooks.acme.example/switchboard", hook.URL+"/switchboard"))
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return startService(t, Config{FetchToken: testToken, ConfigFile: file, At: "2026-12-02T23:30",
		AccessKey: voipbintest.AccessKey, APIURL: rest.URL, MessagesSecret: "hook-secret", RingSecond: handoffTestSecond})
}

// leaveMessage plays a caller who asks for billing at 23:30 and leaves a message.
func leaveMessage(t *testing.T, srv *httptest.Server, rest *voipbintest.REST, id string) *voipbintest.Result {
	t.Helper()
	res, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: id, Bases: []string{srv.URL}, Token: testToken, Recorder: rest},
		[]voipbintest.Step{
			{Say: "my invoice shows a double charge this month"},
			{Say: "Hi, this is Dana. My card four one one one one one one one one one one one one two three four was charged twice, please call me back"},
			{Press: "#"},
		})
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(res.Transcript, "\n"))
	}
	return res
}

// TestMessageReachesTheBusiness: a caller who reaches nobody leaves a
// message, hears what happens next, and the business is told once, by SMS,
// email with the recording and a signed webhook, with who called, when, for
// whom, what they told us and what they said in the message, card numbers
// hidden however they were said.
func TestMessageReachesTheBusiness(t *testing.T) {
	rest := voipbintest.NewREST(t)
	biz := &business{}
	svc, srv := messagesService(t, rest, biz)
	res := leaveMessage(t, srv, rest, "msg-1")
	transcript := strings.Join(res.Transcript, "\n")
	for _, want := range []string{
		"talk (en-US) [async]: We are closed now. To leave a message for Billing & Accounts, stay on the line. To be called back when we open, press 2.",
		"digits_receive 6000 ms, length 1\nfetch /voipbin/fetch?t=TOKEN&to=+14155550000&from=+14155550123&d=\n",
		"talk (en-US): Please leave your message after the tone",
		"  beep\n  recording_start wav, ends on \"#\", 5 s of silence or 120 s",
		"caller (into the recording): Hi, this is Dana.",
		"(the recording ends: its end key)",
		"  recording_stop",
		"talk (en-US): Thank you. Billing & Accounts will get your message and call you back when we open. Goodbye.",
		"hangup normal",
	} {
		if !strings.Contains(transcript, want) {
			t.Errorf("the call lacks %q:\n%s", want, transcript)
		}
	}
	// Nothing is sent before the recording's files can be transcribed.
	if n := svc.sender.drain(context.Background()); n != 0 {
		t.Errorf("%d messages tried before they were due", n)
	}
	svc.sender.now = func() time.Time { return time.Now().Add(time.Minute) }
	if n := svc.sender.drain(context.Background()); n != 1 {
		t.Fatalf("%d messages tried, want 1", n)
	}
	svc.sender.drain(context.Background()) // nothing more: never twice
	sms, emails := rest.Sent()
	if len(sms) != 1 || len(emails) != 1 || len(biz.hooks) != 1 {
		t.Fatalf("sent %d SMS, %d emails, %d webhooks; want one of each:\n%+v\n%+v\n%+v", len(sms), len(emails), len(biz.hooks), sms, emails, biz.hooks)
	}
	said := "Hi, this is Dana. My card [number] was charged twice, please call me back"
	if got := sms[0]; got.From != voipbintest.DefaultDialled || got.To[0] != "+14155550172" ||
		!strings.Contains(got.Text, "Message for Billing & Accounts from +14155550123, Wed 2 Dec 23:30 EST: \""+said+"\"") ||
		!strings.Contains(got.Text, "my invoice shows a double charge this month") {
		t.Errorf("SMS %+v", got)
	}
	rec := rest.Recordings[0].ID
	if got := emails[0]; got.To[0] != "billing@acme.example" || got.Subject != "Message for Billing & Accounts from +14155550123" ||
		!strings.Contains(got.Content, said) || len(got.Attachments) != 1 || got.Attachments[0] != "recording "+rec {
		t.Errorf("email %+v, want the message's words and recording %s", got, rec)
	}
	if got := biz.hooks[0]; got.Caller != "+14155550123" || got.Department != "billing" || got.Words != said ||
		got.Recording != rec || got.At != "2026-12-03T04:30:00Z" || len(got.Said) != 1 {
		t.Errorf("webhook %+v", got)
	}
	for _, text := range []string{sms[0].Text, emails[0].Content} {
		if strings.Contains(text, "four one one one") {
			t.Errorf("a card number spoken as words was sent: %s", text)
		}
	}
}

// TestMessageRetried: while VoIPBin is down, or the business's URL fails,
// the message waits and is tried again after the configured pause; what was
// delivered is not sent again.
func TestMessageRetried(t *testing.T) {
	rest := voipbintest.NewREST(t)
	biz := &business{failing: true}
	svc, srv := messagesService(t, rest, biz)
	leaveMessage(t, srv, rest, "msg-retry")
	clock := time.Now().Add(time.Minute)
	svc.sender.now = func() time.Time { return clock }
	ctx := context.Background()

	rest.Down = true
	svc.sender.drain(ctx)
	if sms, emails := rest.Sent(); len(sms)+len(emails)+len(biz.hooks) != 0 {
		t.Fatalf("sent while VoIPBin was down: %v %v %v", sms, emails, biz.hooks)
	}
	rest.Down = false
	clock = clock.Add(10 * time.Second)
	if n := svc.sender.drain(ctx); n != 0 {
		t.Errorf("tried again before the pause (30 s) was over")
	}
	clock = clock.Add(30 * time.Second)
	svc.sender.drain(ctx) // SMS and email go; the webhook fails
	biz.failing = false
	clock = clock.Add(3 * time.Minute)
	svc.sender.drain(ctx) // the webhook only
	clock = clock.Add(time.Hour)
	svc.sender.drain(ctx)
	sms, emails := rest.Sent()
	if len(sms) != 1 || len(emails) != 1 || len(biz.hooks) != 1 {
		t.Errorf("sent %d SMS, %d emails, %d webhooks; want one of each", len(sms), len(emails), len(biz.hooks))
	}
	page := scrape(t, srv.URL)
	for _, want := range []string{`switchboard_message_notices_total{kind="transcribe",result="failed"} 1`,
		`switchboard_message_notices_total{kind="webhook",result="failed"} 1`, `switchboard_message_notices_total{kind="webhook",result="ok"} 1`,
		`switchboard_message_notices_total{kind="sms",result="ok"} 1`, `switchboard_nobody_reached_total{outcome="message"} 1`} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(page, "switchboard_message"))
		}
	}
	msgs, err := svc.outbox.Messages(ctx, 10)
	if err != nil || len(msgs) != 1 || msgs[0].DoneMS == 0 || msgs[0].Attempts != 3 {
		t.Errorf("outbox %+v, %v; want one message, delivered on its third attempt", msgs, err)
	}
}

// TestMessageWhenTheCallerHangsUp: a caller who hangs up instead of pressing
// the pound key gets no fetch after the recording, and their message reaches
// the business all the same, with the numbers VoIPBin knows.
func TestMessageWhenTheCallerHangsUp(t *testing.T) {
	rest := voipbintest.NewREST(t)
	svc, srv := messagesService(t, rest, &business{})
	res, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: "msg-hangup", Bases: []string{srv.URL}, Token: testToken, Recorder: rest},
		[]voipbintest.Step{
			{Say: "my invoice shows a double charge this month"},
			{Say: "It's Sam, call me back about the refund"},
			{Hangup: true},
		})
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(res.Transcript, "\n"))
	}
	svc.sender.now = func() time.Time { return time.Now().Add(time.Minute) }
	if n := svc.sender.drain(context.Background()); n != 1 {
		t.Fatalf("%d messages tried, want 1\n%s", n, strings.Join(res.Transcript, "\n"))
	}
	sms, _ := rest.Sent()
	if len(sms) != 1 || sms[0].From != voipbintest.DefaultDialled ||
		!strings.Contains(sms[0].Text, `from +14155550123, Wed 2 Dec 23:30 EST: "It's Sam, call me back about the refund"`) {
		t.Errorf("SMS %+v", sms)
	}
}

// TestMessageEndedBySilence: a caller who stops speaking after their
// message, without the pound key, is not left in VoIPBin's wait until the
// longest message: silence ends the recording, and the service says goodbye
// over the wait and hangs up. The message reaches the business all the same.
func TestMessageEndedBySilence(t *testing.T) {
	rest := voipbintest.NewREST(t)
	svc, srv := messagesService(t, rest, &business{})
	res, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: "msg-silence", Bases: []string{srv.URL}, Token: testToken,
		Recorder: rest, REST: rest},
		[]voipbintest.Step{
			{Say: "my invoice shows a double charge this month"},
			{Say: "It's Sam, call me back about the refund"},
			{Silent: true},
		})
	transcript := strings.Join(res.Transcript, "\n")
	if err != nil {
		t.Fatalf("%v\n%s", err, transcript)
	}
	want := "(the recording ends: silence)\n  talk (en-US), over the wait: Thank you. Billing &amp; Accounts will get your message and call you back when we open. Goodbye.\n  (hung up by the account"
	if !strings.Contains(transcript, want) || strings.Contains(transcript, "waits out its") {
		t.Errorf("want the goodbye said over the wait and the call hung up, not the longest message waited out:\n%s", transcript)
	}
	svc.WaitHandoffs()
	svc.sender.now = func() time.Time { return time.Now().Add(time.Minute) }
	if n := svc.sender.drain(context.Background()); n != 1 {
		t.Fatalf("%d messages tried, want 1\n%s", n, transcript)
	}
}

// TestMessageOnRedisTwoReplicas: through two replicas on one Redis, a
// message left on one is delivered once, whichever sender claims it.
func TestMessageOnRedisTwoReplicas(t *testing.T) {
	url := redistest.Start(t)
	rest := voipbintest.NewREST(t)
	a, srvA := messagesServiceOn(t, rest, url, "2026-12-02T23:30")
	b, _ := messagesServiceOn(t, rest, url, "2026-12-02T23:30")
	res, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: fmt.Sprint("redis-msg-", time.Now().UnixNano()),
		Bases: []string{srvA}, Token: testToken, Recorder: rest, Secret: "s"},
		[]voipbintest.Step{{Say: "my invoice shows a double charge this month"}, {Say: "please call me back about the refund"}, {Press: "#"}})
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(res.Transcript, "\n"))
	}
	later := func() time.Time { return time.Now().Add(time.Minute) }
	a.sender.now, b.sender.now = later, later
	var wg sync.WaitGroup
	for _, svc := range []*Service{a, b} {
		wg.Go(func() { svc.sender.drain(context.Background()) })
	}
	wg.Wait()
	if sms, emails := rest.Sent(); len(sms) != 1 || len(emails) != 1 || !strings.Contains(sms[0].Text, "please call me back about the refund") {
		t.Errorf("sent %d SMS %v, %d emails; want one of each with the message", len(sms), sms, len(emails))
	}
}
