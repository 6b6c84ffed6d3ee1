package main

import (
	"bytes"
	"context"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/service"
	"github.com/switchboard/switchboard/flow"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// TestCheckShowsHandoffs: check lists where each department's callers are
// rung in turn, and says what is lost without the REST API.
func TestCheckShowsHandoffs(t *testing.T) {
	var out strings.Builder
	if err := run(t.Context(), []string{"check", "--config", "../../testdata/routing-handoff.json"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"billing    +14155550102 (20 s, whisper), then +14155550112 (20 s, whisper), then +14155550199 (22 s, whisper)",
		"sales      +14155550100 (22 s, no whisper), then +14155550199 (22 s, whisper)",
		"Without\nit a transfer is a plain connect",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check lacks %q:\n%s", want, out.String())
		}
	}
}

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
	cfg, err := service.LoadConfig(hoursConfig)
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
		got, err := service.ParseAt(tt.in, cfg)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("service.ParseAt(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if got, err := service.ParseAt("2026-12-25T10:00", flow.ExampleConfig()); err != nil || !got.Equal(time.Date(2026, 12, 25, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("without routing.hours, a wall clock is UTC: got %v, %v", got, err)
	}
	for _, bad := range []string{"tomorrow", "2026-12-25", "25/12/2026 10:00"} {
		if _, err := service.ParseAt(bad, cfg); err == nil {
			t.Errorf("service.ParseAt(%q) accepted", bad)
		}
	}
	if err := run(context.Background(), []string{"simulate", "--url", "http://127.0.0.1:1", "--at", "2026-12-25T10:00", "--say", "hi"}, noEnv, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "--at") {
		t.Errorf("simulate --url --at: %v, want a refusal naming --at (a server keeps its own clock)", err)
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

// TestCheckExplainsCallerID: `switchboard check` says what caller ID each
// transfer shows and that virtual +899 numbers are never accepted.
func TestCheckExplainsCallerID(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"check", "--config", "../../testdata/routing-caller-id.json"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"config ok", "virtual +899", "sales      tel       +14155550100", "caller ID +14155550160", "caller ID +14155550150"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
	file := t.TempDir() + "/virtual.json"
	if err := os.WriteFile(file, []byte(`{"routing": {"departments": {"fallback": "+14155550199", "emergency": "+14155550911"}, "caller_id": "+899100200300"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"check", "--config", file}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "never accepts as caller ID") {
		t.Errorf("a virtual caller ID must be refused with the reason, got %v", err)
	}
}

// TestCheckListsModes: `switchboard check` names each mode and the numbers it
// answers, and refuses a keypad tree with a loop.
func TestCheckListsModes(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"check", "--config", "../../testdata/modes/multilingual.json"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"mode choose-by-keypad: conversation, transfer, languages en-US/es-ES by keypad (+14155550300)",
		"mode detect-by-speech: conversation, transfer, languages en-US/es-ES by speech (every other number)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
	file := t.TempDir() + "/loop.json"
	if err := os.WriteFile(file, []byte(`{"routing": {"departments": {"fallback": "+14155550199", "emergency": "+14155550911"},
		"modes": {"tree": {"kind": "keypad", "keypad": {"start": "a", "menus": {
			"a": {"prompt": "p", "options": [{"key": "1", "menu": "b"}]},
			"b": {"prompt": "p", "options": [{"key": "1", "menu": "a"}]}}}}}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"check", "--config", file}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "loop: a -> b -> a") {
		t.Errorf("a keypad tree with a loop must be refused, got %v", err)
	}
}

// TestCheckQueueWait: `switchboard check` says how long a queued caller can
// wait, warns when a queue department's wait flow is not described, and
// refuses one whose wait leaves too few actions.
func TestCheckQueueWait(t *testing.T) {
	check := func(sales string) (string, error) {
		file := t.TempDir() + "/queue.json"
		body := `{"routing": {"departments": {"sales": ` + sales + `, "fallback": "+14155550199", "emergency": "+14155550911"}}}`
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		err := run(context.Background(), []string{"check", "--config", file}, func(string) string { return "" }, &out, io.Discard)
		return out.String(), err
	}
	const queue = `"queue": "7f3c2a10-5b1e-4c8a-9d2f-0a1b2c3d4e5f"`
	out, err := check(`{` + queue + `}`)
	if err != nil || !strings.Contains(out, "WARNING queue sales: routing.departments.sales.wait_flow is not set") {
		t.Errorf("no warning for a queue without a described wait flow (%v):\n%s", err, out)
	}
	out, err = check(`{` + queue + `, "wait_flow": {"actions": 1, "loop_ms": 60000}}`)
	if err != nil || strings.Contains(out, "WARNING queue") || !strings.Contains(out, "about 5m0s of waiting") {
		t.Errorf("a described wait flow (%v):\n%s", err, out)
	}
	if _, err := check(`{` + queue + `, "wait_flow": {"actions": 2, "loop_ms": 5000}}`); err == nil || !strings.Contains(err.Error(), "make the wait flow's loop longer") {
		t.Errorf("a 5 s loop cannot last 5 minutes in 100 actions; got %v", err)
	}
	// The longest wait: check says what the queue's wait_timeout must be.
	out, err = check(`{` + queue + `, "wait_flow": {"actions": 1, "loop_ms": 60000}, "max_wait_seconds": 90}`)
	if err != nil || !strings.Contains(out, "after 1m30s (max_wait_seconds) the caller goes on to the fallback desk: set the queue's wait_timeout in VoIPBin to at most 90000 ms") {
		t.Errorf("a queue's longest wait (%v):\n%s", err, out)
	}
	for _, bad := range []string{`{` + queue + `, "max_wait_seconds": 5}`, `{` + queue + `, "max_wait_seconds": 3600}`, `{"number": "+14155550100", "max_wait_seconds": 60}`} {
		if _, err := check(bad); err == nil || !strings.Contains(err.Error(), "max_wait_seconds") {
			t.Errorf("%s: got %v, want max_wait_seconds refused", bad, err)
		}
	}
}
