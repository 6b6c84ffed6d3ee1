package service

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
)

const hoursConfig = "../../../../testdata/routing-hours.json"

// TestAfterHoursMetric: a call for a closed department is counted under that
// department and where it went; nobody, when everyone was closed.
func TestAfterHoursMetric(t *testing.T) {
	srv := startServer(t, Config{FetchToken: testToken, ConfigFile: hoursConfig, At: "2026-12-02T19:30"})
	for id, say := range map[string]string{
		"ah-sales":   "I want to buy twenty more licenses for my team",
		"ah-billing": "my invoice shows a double charge this month",
		"ah-support": "the app keeps crashing when I open it",
	} {
		if _, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: id, Bases: []string{srv.URL}, Token: testToken}, []voipbintest.Step{{Say: say}}); err != nil {
			t.Fatal(err)
		}
	}
	page := scrape(t, srv.URL)
	for _, want := range []string{
		`switchboard_calls_after_hours_total{department="sales",to="support"} 1`,
		`switchboard_calls_after_hours_total{department="billing",to="nobody"} 1`,
		`switchboard_calls_routed_total{department="support",reason="local"} 2`,
		`switchboard_calls_hung_up_total 0`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(page, "switchboard_calls"))
		}
	}
	if strings.Contains(page, `department="support",to=`) {
		t.Errorf("support was open and is counted after hours:\n%s", grepLines(page, "after_hours"))
	}
}

// TestReloadPicksUpHours: hours are config like the rest; a reload that
// moves Sales's closing time changes where the next call goes.
func TestReloadPicksUpHours(t *testing.T) {
	b, err := os.ReadFile(hoursConfig)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "routing.json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	svc, srv := startService(t, Config{FetchToken: testToken, ConfigFile: file, At: "2026-12-02T19:30"})
	callSales := func(id string) string {
		res, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: id, Bases: []string{srv.URL}, Token: testToken},
			[]voipbintest.Step{{Say: "I want to buy twenty more licenses for my team"}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Connected
	}
	if got := callSales("before"); got != "+14155550101" {
		t.Fatalf("before the reload, at 19:30 Sales is closed: connected %s, want support", got)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	sales := doc["routing"].(map[string]any)["departments"].(map[string]any)["sales"].(map[string]any)
	sales["hours"].(map[string]any)["weekly"].(map[string]any)["wed"] = []string{"09:00-21:00"}
	later, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, later, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := svc.reload(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if got := callSales("after"); got != "+14155550100" {
		t.Errorf("after the reload Sales is open until 21:00: connected %s, want sales", got)
	}
}
