package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
	"github.com/switchboard/switchboard/flow"
)

const hoursConfig = "../../testdata/routing-hours.json"

func noEnv(string) string { return "" }

// TestCheckShowsTheWeek: check prints every department's week, where its
// callers go when it is closed, and its next opening and closing, in the
// department's zone.
func TestCheckShowsTheWeek(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check", "--config", hoursConfig, "--at", "2026-12-24T19:30"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"sales      America/New_York: mon 09:00-17:00, tue 09:00-17:00, wed 09:00-17:00, thu 09:00-17:00, fri 09:00-17:00, sat 10:00-14:00, sun closed; holidays 2026-12-25 2027-01-01",
		"while closed, its callers go to support",
		// Christmas Day is a holiday: Sales next opens on the Saturday.
		"at Thu 2026-12-24 19:30 EST: closed; opens Sat 2026-12-26 10:00 EST, closes Sat 2026-12-26 14:00 EST",
		// Support keeps no holidays: it opens on Christmas Day.
		"at Thu 2026-12-24 19:30 EST: open; closes Thu 2026-12-24 22:00 EST, opens Fri 2026-12-25 08:00 EST",
		"while closed, its callers go to nobody: they hear texts.closed_all",
		"emergency  always open",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCheckWithoutHours(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "  opening hours:\n    none configured: every department is always open\n") {
		t.Errorf("check of a config without hours:\n%s", out.String())
	}
}

func TestParseAt(t *testing.T) {
	cfg, err := loadConfig(hoursConfig)
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	for _, tt := range []struct {
		in   string
		want time.Time
	}{
		{"2026-12-25T10:00", time.Date(2026, 12, 25, 10, 0, 0, 0, ny)}, // the business's zone
		{"2026-12-25T10:00:30", time.Date(2026, 12, 25, 10, 0, 30, 0, ny)},
		{"2026-12-25T15:00:00Z", time.Date(2026, 12, 25, 10, 0, 0, 0, ny)},
	} {
		got, err := parseAt(tt.in, cfg)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseAt(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if got, err := parseAt("2026-12-25T10:00", flow.ExampleConfig()); err != nil || !got.Equal(time.Date(2026, 12, 25, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("without routing.hours, a wall clock is UTC: got %v, %v", got, err)
	}
	for _, bad := range []string{"tomorrow", "2026-12-25", "25/12/2026 10:00"} {
		if _, err := parseAt(bad, cfg); err == nil {
			t.Errorf("parseAt(%q) accepted", bad)
		}
	}
	if err := run(context.Background(), []string{"simulate", "--url", "http://127.0.0.1:1", "--at", "2026-12-25T10:00", "--say", "hi"}, noEnv, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "--at") {
		t.Errorf("simulate --url --at: %v, want a refusal naming --at (a server keeps its own clock)", err)
	}
}

// TestAfterHoursMetric: a call for a closed department is counted under that
// department and where it went; nobody, when everyone was closed.
func TestAfterHoursMetric(t *testing.T) {
	srv := startServer(t, settings{FetchToken: testToken, ConfigFile: hoursConfig, At: "2026-12-02T19:30"})
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
	svc, srv := startService(t, settings{FetchToken: testToken, ConfigFile: file, At: "2026-12-02T19:30"})
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

// TestEvalAt: eval --at plays every conversation at that moment, so a
// department closed then loses its callers to its after_hours.
func TestEvalAt(t *testing.T) {
	data := filepath.Join(t.TempDir(), "sales.jsonl")
	line := `{"id": "s1", "source": "test", "turns": ["I want to buy twenty more licenses for my team"], "department": "sales"}` + "\n"
	if err := os.WriteFile(data, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	for at, want := range map[string]string{"2026-12-02T10:00": "1.000", "2026-12-02T19:30": "0.000"} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"eval", "--data", data, "--config", hoursConfig, "--at", at}, noEnv, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`accuracy +` + regexp.QuoteMeta(want)).MatchString(out.String()) {
			t.Errorf("eval --at %s: want accuracy %s:\n%s", at, want, out.String())
		}
	}
}

// TestCheckWarns: check prints a warning for a priority signal that is a
// common word, and none for the example config.
func TestCheckWarns(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check", "--config", "../../testdata/routing-caller-id.json"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if want := `  WARNING priority signal "down" is a common word`; !strings.Contains(out.String(), want) {
		t.Errorf("check lacks %q:\n%s", want, out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"check"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "WARNING") {
		t.Errorf("the example config draws a warning:\n%s", out.String())
	}
}
