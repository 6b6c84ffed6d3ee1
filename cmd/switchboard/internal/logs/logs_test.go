package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestContextAttributes(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, Options{Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := With(context.Background(), slog.String("req", "r1"))
	ctx = With(ctx, slog.String("call", "c1"))
	log.InfoContext(ctx, "one")
	log.InfoContext(ctx, "two", "call", "own") // the record's own value wins
	log.Info("three")                          // no context, no attributes
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []map[string]string{{"req": "r1", "call": "c1"}, {"req": "r1", "call": "own"}, {}}
	for i, line := range lines {
		var got map[string]any
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"req", "call"} {
			if w := want[i][k]; got[k] != nil != (w != "") || w != "" && got[k] != w {
				t.Errorf("line %d: %s = %v, want %q (%s)", i, k, got[k], w, line)
			}
		}
	}
}

func TestRedaction(t *testing.T) {
	for _, keep := range []bool{false, true} {
		var buf bytes.Buffer
		log, err := New(&buf, Options{Format: "text", Transcripts: keep, Level: slog.LevelDebug})
		if err != nil {
			t.Fatal(err)
		}
		log.Info("summary", "turns", []string{"hello", "my card number is 4111"}, "to", "+14155550102",
			"err", errors.New("connect +14155550199: refused"), "call", "0f2a4b6c-1234-4d5e-8f90-123456789012")
		log.Debug("model classify", AnswerKey, "The caller says their pin is 4321, so billing")
		log.Info("model classify", AnswerKey, "billing")
		log.Info("audit", "said", []string{"my date of birth is the first of May"})
		out := buf.String()
		for _, secret := range []string{"my card number", "+14155550102", "+14155550199", "pin is 4321", "date of birth"} {
			if strings.Contains(out, secret) != keep {
				t.Errorf("transcripts=%v: %q shown=%v in %s", keep, secret, !keep, out)
			}
		}
		if !strings.Contains(out, "0f2a4b6c-1234-4d5e-8f90-123456789012") {
			t.Errorf("a call id is not a phone number: %s", out)
		}
		if !strings.Contains(out, "answer=billing") {
			t.Errorf("a one-word answer is a label, kept: %s", out)
		}
		if !keep && !strings.Contains(out, "turns=2") {
			t.Errorf("redacted turns should be their count: %s", out)
		}
		if !keep && !strings.Contains(out, "+***02") {
			t.Errorf("a redacted number keeps its last two digits: %s", out)
		}
	}
}

func TestBadOptions(t *testing.T) {
	if _, err := ParseLevel("loud"); err == nil {
		t.Error("level loud accepted")
	}
	if l, err := ParseLevel("debug"); err != nil || l != slog.LevelDebug {
		t.Errorf("debug = %v, %v", l, err)
	}
	if _, err := New(&bytes.Buffer{}, Options{Format: "xml"}); err == nil {
		t.Error("format xml accepted")
	}
	var buf bytes.Buffer // not a terminal: JSON
	log, _ := New(&buf, Options{})
	log.Info("x")
	if !strings.HasPrefix(buf.String(), "{") {
		t.Errorf("default format off a terminal should be JSON: %s", buf.String())
	}
}
