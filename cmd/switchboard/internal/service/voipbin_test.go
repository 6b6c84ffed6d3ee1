package service

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
	"github.com/switchboard/switchboard/store/redistest"
)

// TestSeedEndpointCannotTouchVoipbinCalls: anyone can post to the seed's
// webhook; a call_id equal to a live VoIPBin call's id must not read, change
// or end that call.
func TestSeedEndpointCannotTouchVoipbinCalls(t *testing.T) {
	srv := startServer(t, Config{})
	live := vid("call-live")
	fetch := func() []voipbin.Action {
		t.Helper()
		_, body := post(t, srv.URL+"/voipbin/fetch", `{"activeflow_id":"`+vid("af")+`","reference_id":"`+live+`"}`)
		var acts []voipbin.Action
		if err := json.Unmarshal([]byte(body), &acts); err != nil {
			t.Fatalf("fetch: %s", body)
		}
		return acts
	}
	types := func(acts []voipbin.Action) []string {
		var s []string
		for _, a := range acts {
			s = append(s, a.Type)
		}
		return s
	}
	if got := types(fetch()); !slices.Equal(got, []string{"transcribe_start", "talk", "sleep", "fetch"}) {
		t.Fatalf("greeting = %v", got)
	}
	// The seed's turns under the live call's id: a route, and turns after it
	// (which on a shared call would answer the VoIPBin caller with hangup).
	for _, words := range []string{"I would like a quote for your enterprise plan", "billing please", "our site is down"} {
		status, body := post(t, srv.URL+"/webhook/call-handler", `{"call_id":"`+live+`","speech":{"results":[{"text":"`+words+`"}]}}`)
		if status != http.StatusOK || !strings.Contains(body, `"transfer"`) {
			t.Fatalf("seed turn %q: %d %s", words, status, body)
		}
	}
	// The VoIPBin call is where it was: still listening, nothing heard, no route.
	if got := types(fetch()); !slices.Equal(got, []string{"sleep", "fetch"}) {
		t.Errorf("after seed requests the VoIPBin call answered %v, want it still listening", got)
	}
	// And a VoIPBin fetch cannot reach a seed call either: it names no call
	// we keep, so its caller goes to reception, and the seed call is left as it was.
	if status, body := post(t, srv.URL+"/voipbin/fetch", `{"reference_id":"seed:`+live+`"}`); status != http.StatusOK || !strings.Contains(body, "+14155550199") {
		t.Errorf("a fetch for a seed call id = %d %s, want reception", status, body)
	}
	if status, body := post(t, srv.URL+"/webhook/call-handler", `{"call_id":"`+live+`","speech":{"results":[{"text":"hello"}]}}`); status != http.StatusOK || !strings.Contains(body, `"transfer"`) {
		t.Errorf("the seed call after a fetch for its id = %d %s, want its ended call's answer", status, body)
	}
}

// TestModelNeverAnswers plays whole calls over HTTP against a model that never
// answers, on the default config: every fetch is answered within the budget
// (2 s) plus a margin, and every caller reaches a human (local classifier,
// clarification and menu, reception). The bound is generous: the machine is
// shared; the figures are logged.
func TestModelNeverAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("plays calls that wait out the 2 s budget")
	}
	model := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so the server notices the client leaving
		<-r.Context().Done()
	}))
	t.Cleanup(model.Close)
	calls := map[string][]voipbintest.Step{
		"clear request": {{Say: "I want to buy twenty more licenses for my team"}},
		"vague, then the menu": {{Say: "I am calling about something"}, {Say: "it is about the thing I have with you"},
			{Say: "I would rather explain it to a person"}, {Press: "2"}},
		"silent": nil,
	}
	var slowest time.Duration
	for _, store := range []string{"memory", "redis"} {
		t.Run(store, func(t *testing.T) {
			s := Config{OpenAIKey: "test-key", OpenAIURL: model.URL + "/v1"}
			if store == "redis" {
				s.RedisURL = redistest.Start(t)
			}
			srv := startServer(t, s)
			for name, steps := range calls {
				t.Run(name, func(t *testing.T) {
					res, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: uuid.NewString(), Bases: []string{srv.URL}}, steps)
					if err != nil || res.Connected == "" {
						t.Fatalf("connected %q, err %v\n%s", res.Connected, err, strings.Join(res.Transcript, "\n"))
					}
					for i, d := range res.FetchTimes {
						slowest = max(slowest, d)
						if d > 2600*time.Millisecond {
							t.Errorf("fetch %d answered after %v; the budget is 2 s", i+1, d)
						}
					}
					t.Logf("connected %s; fetch times %v", res.Connected, res.FetchTimes)
				})
			}
		})
	}
	t.Logf("slowest fetch: %v", slowest)
}

// TestFetchBudgetFromArrival: a turn's budget runs from when its request
// arrived, not from when its body was read. A body that trickles in for
// longer than the budget (300 ms here) leaves nothing for the model: the
// local classifier answers and the model is never asked. The same request
// sent at once asks the model, so the test can tell the two apart. (A
// VoIPBin call's words are decided on when they arrive, in the event; the
// seed's webhook carries them in the request, so the budget is seen there.)
func TestFetchBudgetFromArrival(t *testing.T) {
	for _, tt := range []struct {
		name      string
		bodyAfter time.Duration
		wantAsked int
	}{
		{"body at once", 0, 1},
		{"body after the budget", 500 * time.Millisecond, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			model := newModelStandIn(t, []modelReply{{Content: "billing"}})
			srv := startServer(t, Config{OpenAIKey: "test-key", OpenAIURL: model.URL() + "/v1",
				ConfigFile: "../../../../testdata/routing-budget-300ms.json"})
			body := `{"speech":{"results":[{"text":"something on my statement this month looks odd to me"}]}}`
			pr, pw := io.Pipe()
			go func() {
				time.Sleep(tt.bodyAfter)
				_, _ = pw.Write([]byte(body))
				_ = pw.Close()
			}()
			resp, err := http.Post(srv.URL+"/webhook/call-handler", "application/json", pr)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("webhook = %d: not an answer", resp.StatusCode)
			}
			if got := len(model.log()); got != tt.wantAsked {
				t.Errorf("the model was asked %d times, want %d: %v", got, tt.wantAsked, model.log())
			}
		})
	}
}

// TestFetchURL: the next fetch goes to SWITCHBOARD_PUBLIC_URL when it is
// set; only without it (a laptop, --insecure) is it built from the request.
func TestFetchURL(t *testing.T) {
	for _, tt := range []struct {
		name, public, target string
		proto                string // X-Forwarded-Proto
		want                 string
	}{
		{"public URL", "https://sb.example.com/", "/voipbin/fetch?t=tok", "", "https://sb.example.com/voipbin/fetch?t=tok"},
		{"public URL wins over the Host header", "https://sb.example.com", "/voipbin/fetch?lang=es-ES", "https", "https://sb.example.com/voipbin/fetch?t=tok&lang=es-ES"},
		{"from the request", "", "/voipbin/fetch", "", "http://req.example/voipbin/fetch?t=tok"},
		{"from the request, behind TLS", "", "/voipbin/fetch", "https", "https://req.example/voipbin/fetch?t=tok"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "http://req.example"+tt.target, nil)
			if tt.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			if got := fetchURL(Config{PublicURL: tt.public, FetchToken: "tok"}, r, r.URL.Query().Get("lang")).String(); got != tt.want {
				t.Errorf("fetchURL = %s, want %s", got, tt.want)
			}
		})
	}
}
