package service

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
)

// scrape returns the /metrics page.
func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics = %d: %s", resp.StatusCode, b)
	}
	return string(b)
}

// TestMetrics plays calls and reads the counters back from /metrics: one call
// the model routes, one that goes through both clarifications and the menu to
// the fallback desk, one whose transcript VoIPBin delivers twice.
func TestMetrics(t *testing.T) {
	model := newModelStandIn(t, []modelReply{{Content: "billing", TopLogprobs: map[string]float64{"billing": 0.9, "sales": 0.05}}})
	srv := startServer(t, Config{FetchToken: testToken, OpenAIKey: "k", OpenAIURL: model.URL() + "/v1"})
	calls := []struct {
		id    string
		steps []voipbintest.Step
		dup   bool
	}{
		{"m1", []voipbintest.Step{{Say: "there is something wrong with what you took from my account last week"}}, false},
		{"m2", []voipbintest.Step{{Say: "hmm"}, {Say: "well"}, {Say: "erm"}, {Press: "9"}}, false},
		{"m3", []voipbintest.Step{{Say: "sales please"}}, true},
	}
	for _, c := range calls {
		if _, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: c.id, Bases: []string{srv.URL}, Token: testToken, DuplicateEvents: c.dup}, c.steps); err != nil {
			t.Fatal(err)
		}
	}
	page := scrape(t, srv.URL)
	for _, want := range []string{
		`switchboard_calls_started_total 3`,
		`switchboard_calls_routed_total{department="billing",reason="model"} 1`,
		`switchboard_calls_routed_total{department="fallback",reason="menu"} 1`,
		`switchboard_calls_routed_total{department="sales",reason="local"} 1`,
		`switchboard_fallbacks_total{cause="menu"} 1`,
		`switchboard_clarifications_total 2`,
		`switchboard_menus_total 1`,
		`switchboard_model_tokens_total 91`,
		`switchboard_model_request_duration_seconds_count{outcome="ok"} 1`,
		`switchboard_model_breaker_state 0`,
		`switchboard_call_voipbin_actions_count 3`,
		// m3's transcribe_created (which tells the call its language) and its transcript
		// delivered twice: the transcription stays linked until the transfer is handed
		// out, so the transcript's second delivery is known for a duplicate.
		`switchboard_inbox_drops_total{reason="duplicate"} 2`,
		`switchboard_http_request_duration_seconds_count{outcome="2xx",route="/voipbin/fetch"}`,
		`switchboard_store_operation_duration_seconds_count{operation="save"}`,
		`switchboard_store_operation_duration_seconds_count{operation="speaking"}`, // every store method is timed
		`go_goroutines`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", grepLines(page, "switchboard_"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") && !strings.Contains(l, "_bucket") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestDashboard checks that the Grafana dashboard queries only series the
// service registers, and shows every one of them.
func TestDashboard(t *testing.T) {
	b, err := os.ReadFile("../../../../testdata/grafana/switchboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	registered := map[string]bool{}
	for _, n := range newMetrics(func() string { return "" }).names {
		registered[n] = true
	}
	used := map[string]bool{}
	name := regexp.MustCompile(`switchboard_[a-z_]+`)
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, tg := range p.Targets {
			for _, n := range name.FindAllString(tg.Expr, -1) {
				base := n
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					if s, ok := strings.CutSuffix(n, suffix); ok && registered[s] {
						base = s
					}
				}
				if !registered[base] {
					t.Errorf("panel %q queries %s, which the service does not register", p.Title, n)
				}
				used[base] = true
			}
		}
	}
	for n := range registered {
		if !used[n] {
			t.Errorf("no panel shows %s", n)
		}
	}
}

// TestMetricsCountTheRouteHandedOut: a correction takes back a decision not
// yet handed out; only the route the caller got is counted.
func TestMetricsCountTheRouteHandedOut(t *testing.T) {
	srv := startServer(t, Config{FetchToken: testToken})
	conv := loadConversation(t, "../../../../testdata/conversations/voipbin-correction-refund.json")
	if _, err := voipbintest.Run(t.Context(), voipbintest.Options{CallID: "mc", Bases: []string{srv.URL}, Token: testToken}, conv.Steps); err != nil {
		t.Fatal(err)
	}
	page := scrape(t, srv.URL)
	if !strings.Contains(page, `switchboard_calls_routed_total{department="billing",reason="local"} 1`) ||
		strings.Contains(page, `switchboard_calls_routed_total{department="sales"`) {
		t.Errorf("/metrics counts a route taken back:\n%s", grepLines(page, "calls_routed"))
	}
}

// TestMetricsOffThePublicListener: in production (Redis) /metrics is not on
// the service's address; --metrics-addr serves it on a listener of its own,
// and then only there. Without Redis (make run) it stays on the service's.
func TestMetricsOffThePublicListener(t *testing.T) {
	status := func(t *testing.T, url string) int {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tt := range []struct {
		name string
		s    Config
		want int
	}{
		{"no Redis", Config{}, http.StatusOK},
		{"production", Config{RedisURL: "redis://127.0.0.1:1/0"}, http.StatusNotFound},
		{"its own listener", Config{MetricsAddr: "127.0.0.1:0"}, http.StatusNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			svc, err := New(context.Background(), Config{}, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			defer svc.close()
			svc.conf.RedisURL, svc.conf.MetricsAddr = tt.s.RedisURL, tt.s.MetricsAddr
			srv := httptest.NewServer(newServer(svc))
			defer srv.Close()
			if got := status(t, srv.URL+"/metrics"); got != tt.want {
				t.Errorf("/metrics on the service's address = %d, want %d", got, tt.want)
			}
		})
	}
}
