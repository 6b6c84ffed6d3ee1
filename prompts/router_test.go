package prompts_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/prompts"
	"github.com/switchboard/switchboard/store"
)

// TestRouterBudget runs the real router against a model that takes 5 s with a
// 200 ms budget: the caller must still be connected promptly, by the local
// classifier, which proves the budget holds from fetch to model and back.
func TestRouterBudget(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		// Reading the body lets the server notice the client leaving, so Close
		// does not wait out the 5 s.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-time.After(5 * time.Second):
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"choices":[{"index":0,"message":{"role":"assistant","content":"billing"}}],"usage":{"total_tokens":1}}`))
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)

	cfg := flow.ExampleConfig()
	cfg.Routing.LLM.BudgetMS = 200
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	model, err := prompts.NewClassifier(cfg, prompts.Options{APIKey: "sk-test", BaseURL: srv.URL + "/v1", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	router := flow.NewRouter(cfg, store.NewMemory(store.DefaultExpiry), flow.NewLocal(cfg), model, log)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	// The model would answer billing, the local classifier sales: a sales
	// transfer proves the router did not wait the model's 5 s, without a
	// clock in the test (a slow machine cannot fail it, nor hide a regression).
	acts := router.Next(ctx, flow.Turn{CallID: "c1", Channel: flow.Webhook, Words: "I'd like a quote for your enterprise plan please"}).Actions
	if requests.Load() == 0 {
		t.Errorf("the model was never asked; the test proves nothing")
	}
	var connect *flow.Action
	for i := range acts {
		if acts[i].Kind == flow.ActConnect {
			connect = &acts[i]
		}
	}
	if connect == nil || connect.Department != "sales" {
		t.Fatalf("actions = %+v, want a connect to sales (the local classifier's answer)", acts)
	}
}
