package flow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store"
)

func modeConfig(t *testing.T, name string) *flow.Config {
	t.Helper()
	f, err := os.Open("../testdata/modes/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := flow.ParseConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func kinds(acts []flow.Action) string {
	var k []string
	for _, a := range acts {
		k = append(k, string(a.Kind))
	}
	return strings.Join(k, " ")
}

// TestHybridAuditAcrossReplicas plays a hybrid call whose turns alternate
// between two routers sharing one store, as two replicas would: the audit
// record travels with the call, and the replica that ends it logs it once.
func TestHybridAuditAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	cfg := modeConfig(t, "hybrid.json")
	st := store.NewMemory(store.DefaultExpiry)
	var logs [2]bytes.Buffer
	replicas := [2]*flow.Router{}
	for i := range replicas {
		replicas[i] = flow.NewRouter(cfg, st, flow.NewLocal(cfg), nil, slog.New(slog.NewJSONHandler(&logs[i], nil)))
		replicas[i].LogTranscripts = true // what was said is in the audit line (TestNoCallerWordsInLogs: not without)
	}
	turn := flow.Turn{CallID: "h1", Channel: flow.Voice, Dialled: "+14155550300"}

	acts := replicas[0].Next(ctx, turn).Actions
	if got, want := kinds(acts), "forget_keys talk menu"; got != want || acts[2].Length != 12 {
		t.Fatalf("first turn %s (length %d), want %s of 12 keys", got, acts[1].Length, want)
	}
	turn.HasDigits, turn.Digits = true, "123456789012"
	if got, want := kinds(replicas[1].Next(ctx, turn).Actions), "transcribe talk listen"; got != want {
		t.Fatalf("after the entry %s, want %s", got, want)
	}
	call, _, _ := st.Load(ctx, "h1")
	if call.Audit == nil || !cmp.Equal(call.Audit.Pressed, []string{"XXXXXXXXXXXX"}) {
		t.Fatalf("stored audit %+v, want the entry masked whole", call.Audit)
	}
	turn.HasDigits, turn.Digits = false, ""
	st.Append(ctx, "h1", "t1", flow.Input{Text: "my card 4111 1111 1111 1234 was charged twice on the invoice"})
	replicas[0].Next(ctx, flow.Turn{CallID: "h1", Channel: flow.Voice, OnWords: true}) // the words' own turn
	acts = handedOut(ctx, replicas[0], turn)
	if lastConnect(acts) != "billing" {
		t.Fatalf("got %+v, want a transfer to billing", acts)
	}
	if logs[1].Len() > 0 && strings.Contains(logs[1].String(), `"msg":"audit"`) {
		t.Errorf("the replica that did not end the call logged an audit line")
	}
	var line map[string]any
	for _, l := range strings.Split(logs[0].String(), "\n") {
		if strings.Contains(l, `"msg":"audit"`) {
			if line != nil {
				t.Fatalf("two audit lines")
			}
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	if line == nil {
		t.Fatalf("no audit line in:\n%s", logs[0].String())
	}
	delete(line, "time")
	want := map[string]any{
		"level": "INFO", "msg": "audit", "call": "h1", "mode": "hybrid", "language": "en-US", "state": "transferred",
		"pressed":  []any{"XXXXXXXXXXXX"},
		"said":     []any{"my card XXXX XXXX XXXX 1234 was charged twice on the invoice"},
		"decision": "billing", "decided_by": "local", "department": "billing", "destination": "+14155550102", "reason": "local",
	}
	conf, _ := line["confidence"].(float64)
	delete(line, "confidence")
	if diff := cmp.Diff(want, line); diff != "" {
		t.Errorf("audit line (-want +got):\n%s", diff)
	}
	if conf < cfg.Routing.LLM.MinConfidence || conf > 1 {
		t.Errorf("audit confidence %v, want the classifier's (at least min_confidence)", conf)
	}
}

// TestFlowStepHandsBack checks the end of a flow-step call: the decision as
// four variables and nothing that would stop the customer's flow.
func TestFlowStepHandsBack(t *testing.T) {
	ctx := context.Background()
	cfg := modeConfig(t, "flow-step.json")
	st := store.NewMemory(store.DefaultExpiry)
	r := flow.NewRouter(cfg, st, flow.NewLocal(cfg), nil, quiet)
	turn := flow.Turn{CallID: "f1", Channel: flow.Voice}
	r.Next(ctx, turn)
	st.Append(ctx, "f1", "t1", flow.Input{Text: "I want to buy twenty more licenses"})
	r.Next(ctx, flow.Turn{CallID: "f1", Channel: flow.Voice, OnWords: true}) // the words' own turn
	acts := r.Next(ctx, turn).Actions
	got := map[string]string{}
	for _, a := range acts {
		if a.Kind != flow.ActSet {
			t.Errorf("a flow-step answer holds only variables, got %+v", a)
			continue
		}
		got[a.Variable] = a.Value
	}
	if got[flow.VarConfidence] == "" || got[flow.VarConfidence] == "0.00" {
		t.Errorf("confidence %q, want the classifier's", got[flow.VarConfidence])
	}
	delete(got, flow.VarConfidence)
	want := map[string]string{flow.VarDepartment: "sales", flow.VarDestination: "+14155550100", flow.VarReason: "local", flow.VarOpen: "true"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("variables (-want +got):\n%s", diff)
	}
	if call, _, _ := st.Load(ctx, "f1"); call.State != flow.StateHandedBack {
		t.Errorf("state %s, want %s", call.State, flow.StateHandedBack)
	}
	// The customer's flow may come back to the same fetch: it gets the same answer.
	if again := r.Next(ctx, turn).Actions; kinds(again) != "set set set set set" {
		t.Errorf("a fetch after the hand-back got %s, want the variables again", kinds(again))
	}
}

// TestModePerDialledNumber: the number the caller dialled picks the mode on
// the first turn, and the mode stays with the call.
func TestModePerDialledNumber(t *testing.T) {
	ctx := context.Background()
	cfg := modeConfig(t, "multilingual.json")
	st := store.NewMemory(store.DefaultExpiry)
	r := flow.NewRouter(cfg, st, flow.NewLocal(cfg), nil, quiet)
	tests := []struct {
		call, dialled, want string
	}{
		{"k", " 14155550300", "forget_keys talk talk menu"},             // choose by keypad; "+" arrived as a space
		{"s", "+14155550999", "transcribe transcribe talk talk listen"}, // detect from speech: a transcription per language
	}
	for _, tt := range tests {
		if got := kinds(r.Next(ctx, flow.Turn{CallID: tt.call, Channel: flow.Voice, Dialled: tt.dialled}).Actions); got != tt.want {
			t.Errorf("%s: first turn %s, want %s", tt.dialled, got, tt.want)
		}
	}
	// A number whose flow names its language (?lang=) is not offered languages.
	acts := r.Next(ctx, flow.Turn{CallID: "l", Channel: flow.Voice, Dialled: "+14155550300", Language: "es-ES"}).Actions
	if got := kinds(acts); got != "transcribe talk listen" || acts[0].Language != "es-ES" {
		t.Errorf("with ?lang=es-ES: %+v, want Spanish at once", acts)
	}
	acts = r.Next(ctx, flow.Turn{CallID: "k", Channel: flow.Voice, HasDigits: true, Digits: "2"}).Actions
	if got := kinds(acts); got != "transcribe talk listen" || acts[0].Language != "es-ES" || acts[1].Language != "es-ES" {
		t.Errorf("after pressing 2: %+v, want Spanish transcription and greeting", acts)
	}
}

// TestAuditOnHangup: a caller who hangs up in the middle of a hybrid call
// still leaves one audit line, with what they pressed and no destination.
func TestAuditOnHangup(t *testing.T) {
	ctx := context.Background()
	cfg := modeConfig(t, "hybrid.json")
	st := store.NewMemory(store.DefaultExpiry)
	var log bytes.Buffer
	r := flow.NewRouter(cfg, st, flow.NewLocal(cfg), nil, slog.New(slog.NewJSONHandler(&log, nil)))
	turn := flow.Turn{CallID: "h2", Channel: flow.Voice}
	r.Next(ctx, turn)
	r.Next(ctx, flow.Turn{CallID: "h2", Channel: flow.Voice, HasDigits: true, Digits: "4111111111111111"})
	st.Append(ctx, "h2", "bye", flow.Input{Hangup: true})
	r.Next(ctx, turn)
	r.Next(ctx, turn) // a late fetch on an ended call logs nothing more
	lines := strings.Count(log.String(), `"msg":"audit"`)
	if lines != 1 || !strings.Contains(log.String(), `"pressed":["XXXXXXXXXXXXXXXX"]`) || !strings.Contains(log.String(), `"state":"ended"`) ||
		!strings.Contains(log.String(), `"said":0`) {
		t.Errorf("want one audit line for the ended call with the masked entry, got %d in:\n%s", lines, log.String())
	}
}
