package service

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/flow"
)

// TestFetchBoundUnderSlowModel: a model that takes 2.5 s, and 20 callers at
// once whose second line arrives while the answer to their first waits for
// its fetch, so no decision is on its way for it: every fetch still answers
// within flow.FetchBudget (the model runs in the background, never in a
// fetch), and every caller reaches billing.
func TestFetchBoundUnderSlowModel(t *testing.T) {
	var cfg map[string]any
	if err := json.Unmarshal(flow.ExampleJSON(), &cfg); err != nil {
		t.Fatal(err)
	}
	llm := cfg["routing"].(map[string]any)["llm"].(map[string]any)
	llm["timeout_ms"], llm["budget_ms"], llm["retries"] = 3000, flow.MaxBudgetMS, 0
	b, _ := json.Marshal(cfg)
	file := filepath.Join(t.TempDir(), "routing.json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	replies := make([]modelReply, 100)
	for i := range replies {
		replies[i] = modelReply{Content: "billing", DelayMS: 2500}
	}
	model := newModelStandIn(t, replies)
	srv := startServer(t, Config{FetchToken: testToken, ConfigFile: file, OpenAIKey: "test-key", OpenAIURL: model.URL() + "/v1"})

	const calls = 20
	var mu sync.Mutex
	var took []time.Duration
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			call, tr := uuid.NewString(), uuid.NewString()
			fetch := func() (string, error) {
				start := time.Now()
				resp, err := http.Post(srv.URL+"/voipbin/fetch?t="+testToken, "application/json",
					strings.NewReader(fmt.Sprintf(`{"activeflow_id":%q,"reference_id":%q}`, uuid.NewString(), call)))
				if err != nil {
					return "", err
				}
				defer resp.Body.Close()
				var acts []voipbin.Action
				if err := json.NewDecoder(resp.Body).Decode(&acts); err != nil || resp.StatusCode != http.StatusOK {
					return "", fmt.Errorf("fetch answered %d: %v", resp.StatusCode, err)
				}
				mu.Lock()
				took = append(took, time.Since(start))
				mu.Unlock()
				return spoken(acts), nil
			}
			p := &replicaPair{t: t, events: srv.URL, fetchs: srv.URL, call: call, tr: tr}
			steps := []func() error{
				func() error { _, err := fetch(); return err },
				func() error {
					return p.event(voipbin.EventTranscribeCreated, map[string]any{"id": tr, "reference_type": "call", "reference_id": call, "direction": "in", "language": "en-US"})
				},
				func() error { return p.say("hi") },                                     // decided at once: a clarifying question
				func() error { return p.say("I was charged twice on my last invoice") }, // while that waits for its fetch
			}
			for _, step := range steps {
				if err := step(); err != nil {
					t.Errorf("call %d: %v", i, err)
					return
				}
			}
			var heard []string
			for range 20 {
				got, err := fetch()
				if err != nil {
					t.Errorf("call %d: %v", i, err)
					return
				}
				heard = append(heard, got)
				if strings.Contains(got, "connect") {
					break
				}
				time.Sleep(500 * time.Millisecond) // the pause VoIPBin plays
			}
			if !strings.HasSuffix(heard[len(heard)-1], "connect +14155550102") {
				t.Errorf("call %d heard %q; want billing in the end", i, heard)
			}
		})
	}
	wg.Wait()
	slices.Sort(took)
	p99, worst := took[len(took)*99/100], took[len(took)-1]
	t.Logf("%d calls, %d fetches under a 2.5 s model: p50 %v, p99 %v, max %v (bound %v)", calls, len(took), took[len(took)/2], p99, worst, flow.FetchBudget)
	if worst > flow.FetchBudget {
		t.Errorf("a fetch took %v; want every one within %v", worst, flow.FetchBudget)
	}
}
