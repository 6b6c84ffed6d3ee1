package store

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

// TestRedisLoggerIsOurs: a go-redis message becomes one JSON line of our log.
func TestRedisLoggerIsOurs(t *testing.T) {
	var buf bytes.Buffer
	l := redisLogger{slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v", 3, "connection refused")
	var line struct{ Level, Msg string }
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q: %v", buf.String(), err)
	}
	if line.Level != "DEBUG" || line.Msg != "redis: connection pool: failed to dial after 3 attempts: connection refused" {
		t.Errorf("got %+v", line)
	}
}
