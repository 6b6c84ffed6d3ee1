package service

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/load"
)

// TestAllocsPerTurn keeps a turn's allocations from creeping up: it counts
// allocations, not time, so it is stable on a busy machine. The ceilings are
// about 1.3 to 1.5 times what a turn allocates today (see BENCHMARKS.md); a change
// that crosses one should say why a turn needs more.
func TestAllocsPerTurn(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	model, err := load.StartModel(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	poster := func(s Config) func(path, body string) *httptest.ResponseRecorder {
		svc, err := New(ctx, s, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.close() })
		h := newServer(svc)
		return func(path, body string) *httptest.ResponseRecorder {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
			return rec
		}
	}
	post := poster(Config{})
	postModel := poster(Config{OpenAIKey: "stand-in", OpenAIURL: model.URL})
	n := 0
	for _, tc := range []struct {
		name string
		max  float64
		turn func() string // sends one turn, returns its answer
		want string
	}{
		// Request and call ids on every log line, the Switchboard-Moves header and
		// the call's summary line: about 83 allocations, 95 under -race (was 65).
		{"priority lane", 110, func() string {
			return post("/webhook/call-handler", `{"speech":{"results":[{"text":"our production system is down"}]}}`).Body.String()
		}, "+14155550911"},
		// Two moves through the machine (classify, route) and the Switchboard-Moves
		// header: about 123 allocations, 136 under -race (was 98 with one move, 118
		// before the priority lane and the person check read every line).
		{"webhook, local classifier", 145, func() string {
			return post("/webhook/call-handler", `{"speech":{"results":[{"text":"I need a refund please"}]}}`).Body.String()
		}, "+14155550102"},
		// The model asked over loopback (the stand-in, in this process, counted
		// too): about 266 allocations, 295 under -race, most of them go-openai's request and
		// answer and net/http's; the local classifier is not asked (was 304).
		{"webhook, model asked", 345, func() string {
			return postModel("/webhook/call-handler", `{"speech":{"results":[{"text":"my invoice shows a double charge"}]}}`).Body.String()
		}, "+14155550102"},
		{"VoIPBin greeting fetch", 150, func() string {
			n++
			return post("/voipbin/fetch", fmt.Sprintf(`{"activeflow_id":"`+vid("af")+`","reference_id":"%s"}`, uuid.NewString())).Body.String()
		}, `"transcribe_start"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.turn(); !strings.Contains(got, tc.want) {
				t.Fatalf("answer %s, want it to contain %s", got, tc.want)
			}
			allocs := testing.AllocsPerRun(200, func() { tc.turn() })
			t.Logf("%.0f allocations per turn (ceiling %.0f)", allocs, tc.max)
			if allocs > tc.max {
				t.Errorf("%.0f allocations per turn, ceiling %.0f", allocs, tc.max)
			}
		})
	}
}
