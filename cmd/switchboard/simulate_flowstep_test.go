package main

import (
	"bytes"
	"encoding/json"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/service"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
)

// exampleFetchURL is the fetch URL shown in the README's example flow.
const exampleFetchURL = "https://YOUR.HOST/voipbin/fetch?t=YOUR_TOKEN&to=" + voipbin.DialledNumber + "&from=${voipbin.call.source.target}"

// renderFlow writes a flow's actions one to a line, as the README shows them.
func renderFlow(acts []voipbin.Action) string {
	lines := make([]string, len(acts))
	for i, a := range acts {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(a); err != nil {
			panic(err)
		}
		lines[i] = "  " + strings.TrimSpace(b.String())
	}
	return "[\n" + strings.Join(lines, ",\n") + "\n]\n"
}

// TestCustomerFlow checks the example customer flow for flow-step.json: every
// department the branch names leads to its own number, anything else to
// reception, and the README shows exactly this flow.
func TestCustomerFlow(t *testing.T) {
	cfg, err := service.LoadConfig("../../testdata/modes/flow-step.json")
	if err != nil {
		t.Fatal(err)
	}
	acts := voipbin.CustomerFlow(cfg, exampleFetchURL)
	got := renderFlow(acts)
	const golden = "../../testdata/flows/flow-step.json"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("customer flow differs from %s (-want +got):\n%s", golden, diff)
	}
	readme, err := os.ReadFile("../../flow/README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), got) {
		t.Errorf("flow/README.md does not show the example customer flow; paste %s into it", golden)
	}

	byID := map[string]int{}
	for i, a := range acts {
		byID[a.ID] = i
	}
	var branch struct {
		Variable  string            `json:"variable"`
		TargetIDs map[string]string `json:"target_ids"`
		Default   string            `json:"default_target_id"`
	}
	b, _ := json.Marshal(acts[2].Option)
	if acts[2].Type != "branch" || json.Unmarshal(b, &branch) != nil || branch.Variable != "switchboard.department" {
		t.Fatalf("third action %+v, want a branch on switchboard.department", acts[2])
	}
	reaches := func(id string) string { // the number the section starting at id connects to
		for i := byID[id]; i < len(acts); i++ {
			if acts[i].Type == "connect" {
				return acts[i].Option.(voipbin.ConnectOption).Destinations[0].Target
			}
		}
		return ""
	}
	for _, name := range cfg.Routing.DepartmentNames(true) {
		d, _ := cfg.Routing.Department(name)
		id, ok := branch.TargetIDs[name]
		if name == cfg.Routing.Fallback.Destination {
			id, ok = branch.Default, !ok
		}
		if !ok || reaches(id) != d.Number {
			t.Errorf("%s: branch target %q reaches %q, want %s", name, id, reaches(id), d.Number)
		}
	}
}
