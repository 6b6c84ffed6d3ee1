package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/eval"
	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store"
)

// The router's log, with transcripts on, is what harvest reads: a call routed
// by the server comes back as a labelled conversation with its words.
func TestHarvestReadsTheRoutersLog(t *testing.T) {
	var logBuf bytes.Buffer
	cfg := flow.ExampleConfig()
	r := flow.NewRouter(cfg, store.NewMemory(store.DefaultExpiry), flow.NewLocal(cfg), nil, slog.New(slog.NewJSONHandler(&logBuf, nil)))
	r.LogTranscripts = true
	ctx := context.Background()
	for _, words := range []string{"hello", "my invoice shows a double charge"} {
		r.Next(ctx, flow.Turn{CallID: "h1", Channel: flow.Webhook, Words: words})
	}
	logFile := filepath.Join(t.TempDir(), "serve.log")
	if err := os.WriteFile(logFile, logBuf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"harvest", logFile}, os.Getenv, &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	convs, err := eval.Load(&out)
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, logBuf.String())
	}
	if len(convs) != 1 || convs[0].Department != "billing" || strings.Join(convs[0].Turns, "|") != "hello|my invoice shows a double charge" {
		t.Errorf("harvested %+v", convs)
	}

	// Without transcripts the log says how many turns, not what was said.
	logBuf.Reset()
	r.LogTranscripts = false
	r.Next(ctx, flow.Turn{CallID: "h2", Channel: flow.Webhook, Words: "my invoice shows a double charge"})
	if strings.Contains(logBuf.String(), "invoice") {
		t.Errorf("words logged without --log-transcripts: %s", logBuf.String())
	}
}
