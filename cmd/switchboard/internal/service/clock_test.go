package service

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/store/redistest"
)

// replicaPair is two services on one Redis, one taking VoIPBin's events and
// the other its fetches, whose own clocks disagree.
type replicaPair struct {
	t              *testing.T
	events, fetchs string
	call, tr       string
}

func (p *replicaPair) fetch() []voipbin.Action {
	p.t.Helper()
	status, body := post(p.t, p.fetchs+"/voipbin/fetch?t="+testToken, fmt.Sprintf(`{"activeflow_id":%q,"reference_id":%q}`, uuid.NewString(), p.call))
	acts, err := voipbin.Actions([]byte(body))
	if status != http.StatusOK || err != nil {
		p.t.Fatalf("fetch: %d %s (%v)", status, body, err)
	}
	return acts
}

// event posts an event to the events replica; it returns its error, so that
// it may be posted from another goroutine.
func (p *replicaPair) event(typ string, data map[string]any) error {
	if data["id"] == nil {
		data["id"] = uuid.NewString()
	}
	b, _ := json.Marshal(map[string]any{"type": typ, "data": data})
	resp, err := http.Post(p.events+"/voipbin/events", "application/json", strings.NewReader(string(b)))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("event %s answered %d", typ, resp.StatusCode)
	}
	return nil
}

func (p *replicaPair) say(words string) error {
	return p.event(voipbin.EventTranscriptCreated, map[string]any{"transcribe_id": p.tr, "direction": "in", "message": words})
}

// greet starts a call: its greeting, and its transcription known.
func (p *replicaPair) greet() {
	p.t.Helper()
	p.call, p.tr = uuid.NewString(), uuid.NewString()
	p.fetch()
	if err := p.event(voipbin.EventTranscribeCreated, map[string]any{"id": p.tr, "reference_type": "call", "reference_id": p.call, "direction": "in", "language": "en-US"}); err != nil {
		p.t.Fatal(err)
	}
}

// spoken is what the caller hears of acts, and where they are connected.
func spoken(acts []voipbin.Action) string {
	var parts []string
	for _, a := range acts {
		b, _ := json.Marshal(a.Option)
		var o struct {
			Text         string
			Duration     int
			Destinations []struct{ Target string }
		}
		json.Unmarshal(b, &o)
		switch a.Type {
		case voipbin.TypeTalk:
			parts = append(parts, voipbin.Spoken(o.Text))
		case voipbin.TypeSleep:
			parts = append(parts, fmt.Sprint("sleep ", o.Duration))
		case voipbin.TypeConnect:
			parts = append(parts, "connect "+o.Destinations[0].Target)
		}
	}
	return strings.Join(parts, " | ")
}

// TestReplicaClocksDisagree: two services on one Redis, one taking the
// events and the other the fetches, their own clocks 30 s apart either way.
// The call's times are the store's, so: a caller who says "outage" while a
// clarifying question waits for its fetch reaches on-call at the next fetch;
// a caller whose speech started and never ended is asked whether they are
// still there; a fetch while the model decides on the caller's words pauses,
// and the model's decision is handed out, not thrown away and asked again.
func TestReplicaClocksDisagree(t *testing.T) {
	url := redistest.Start(t)
	for _, skew := range []struct {
		name           string
		events, fetchs time.Duration
	}{{"events 30 s fast", 30 * time.Second, 0}, {"events 30 s slow", -30 * time.Second, 0},
		{"fetches 30 s fast", 0, 30 * time.Second}, {"fetches 30 s slow", 0, -30 * time.Second}} {
		t.Run(skew.name, func(t *testing.T) {
			model := newModelStandIn(t, []modelReply{{Content: "billing", DelayMS: 900}})
			s := Config{FetchToken: testToken, RedisURL: url, OpenAIKey: "test-key", OpenAIURL: model.URL() + "/v1"}
			events, esrv := startService(t, s)
			fetchs, fsrv := startService(t, s)
			events.routing().router.Now = func() time.Time { return time.Now().Add(skew.events) }
			fetchs.routing().router.Now = func() time.Time { return time.Now().Add(skew.fetchs) }
			p := &replicaPair{t: t, events: esrv.URL, fetchs: fsrv.URL}

			// "outage" said while the clarifying question waits for an answer.
			p.greet()
			if err := p.say("hi"); err != nil {
				t.Fatal(err)
			}
			if got := spoken(p.fetch()); !strings.Contains(got, "Sorry, could you tell me") {
				t.Fatalf("first fetch after the words: %s; want the clarifying question", got)
			}
			if err := p.say("our production site has an outage"); err != nil {
				t.Fatal(err)
			}
			if got := spoken(p.fetch()); !strings.HasSuffix(got, "connect +14155550911") {
				t.Errorf("next fetch: %s; want on-call at once", got)
			}

			// Speech that started and never ended, then nothing.
			p.greet()
			if err := p.event(voipbin.EventSpeechStarted, map[string]any{"transcribe_id": p.tr, "direction": "in"}); err != nil {
				t.Fatal(err)
			}
			asked := false
			for range 20 {
				if got := spoken(p.fetch()); strings.Contains(got, "Are you still there?") {
					asked = true
					break
				}
			}
			if !asked {
				t.Error("a silent caller was never asked whether they are still there")
			}

			// A fetch while the model decides (900 ms) on the caller's words.
			p.greet()
			// The words come after the call began waiting for them: a later
			// millisecond of the store's clock.
			time.Sleep(2 * time.Millisecond)
			decided := make(chan error, 1)
			go func() { decided <- p.say("I was charged twice on my last invoice") }()
			time.Sleep(300 * time.Millisecond)
			if got := spoken(p.fetch()); !strings.HasPrefix(got, "sleep ") {
				t.Errorf("fetch while the model decides: %s; want a short pause", got)
			}
			if err := <-decided; err != nil {
				t.Fatal(err)
			}
			if got := spoken(append(p.fetch(), p.fetch()...)); !strings.HasSuffix(got, "connect +14155550102") { // the announcement, then the connect
				t.Errorf("fetch after the decision: %s; want billing", got)
			}
			if asked := model.log(); len(asked) != 1 {
				t.Errorf("model asked %d times; want once, its decision kept:\n%s", len(asked), strings.Join(asked, "\n"))
			}
		})
	}
}
