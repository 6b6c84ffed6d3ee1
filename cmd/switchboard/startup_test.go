package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"strings"
	"testing"
)

// TestStartupSaysWhatIsWrong: a newcomer's usual first mistakes each get one
// plain sentence saying what to do.
func TestStartupSaysWhatIsWrong(t *testing.T) {
	t.Run("bare switchboard shows usage", func(t *testing.T) {
		var out strings.Builder
		err := run(t.Context(), nil, noEnv, io.Discard, &out)
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "usage: switchboard") {
			t.Errorf("err %v, output %q: want the usage and no server", err, out.String())
		}
	})
	t.Run("port in use", func(t *testing.T) {
		taken, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer taken.Close()
		err = run(t.Context(), []string{"serve", "--addr", taken.Addr().String()}, noEnv, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "--addr") ||
			!strings.Contains(err.Error(), "make run ADDR=") {
			t.Errorf("err = %v, want it to say the port is in use and how to pick another", err)
		}
	})
	t.Run("a bad address", func(t *testing.T) {
		err := run(t.Context(), []string{"serve", "--addr", "localhost"}, noEnv, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "want HOST:PORT, :PORT or a port number") {
			t.Errorf("err = %v, want the forms --addr takes", err)
		}
	})
	for addr, want := range map[string]string{"3001": ":3001", ":3001": ":3001", "127.0.0.1:3001": "127.0.0.1:3001"} {
		if got, err := listenAddr(addr); got != want || err != nil {
			t.Errorf("listenAddr(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
	t.Run("unreachable Redis said at start", func(t *testing.T) {
		closed, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		url := "redis://:secret@" + closed.Addr().String()
		closed.Close() // nobody listens there now
		getenv := func(k string) string {
			if k == "REDIS_URL" {
				return url
			}
			return ""
		}
		logs := serveUntilListening(t, []string{"--insecure", "--log-format", "text", "--log-level", "debug"}, getenv)
		var lines []string
		for _, l := range strings.Split(logs, "\n") {
			if strings.Contains(l, "REDIS_URL") && strings.Contains(l, "cannot be reached") {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 || strings.Contains(lines[0], "secret") {
			t.Errorf("want one line saying Redis cannot be reached, without its password:\n%s", logs)
		}
		// go-redis's own complaint is a line of our log, not its plain text.
		if !strings.Contains(logs, `level=DEBUG msg="redis: `) || strings.Contains(logs, "\nredis: ") {
			t.Errorf("go-redis's messages are not routed through our logger:\n%s", logs)
		}
	})
}

// serveUntilListening starts serve on a free loopback port, stops it once it
// listens and returns its logs.
func serveUntilListening(t *testing.T, args []string, getenv func(string) string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	var logs strings.Builder
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), getenv, pw, &logs)
		pw.Close()
	}()
	go func() { _, _ = bufio.NewReader(pr).ReadString('\n'); cancel(); _, _ = io.Copy(io.Discard, pr) }()
	if err := <-errc; err != nil {
		t.Fatalf("serve %v: %v, want it to start", args, err)
	}
	return logs.String()
}

// TestCheckSaysTheRuleOnce: check takes several configs, names each, and
// explains VoIPBin's caller-ID rule once under them all.
func TestCheckSaysTheRuleOnce(t *testing.T) {
	var out strings.Builder
	err := run(t.Context(), []string{"check", "--config", "../../flow/example.json", "--config", "../../testdata/modes/keypad.json"}, noEnv, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for text, n := range map[string]int{"Caller ID: VoIPBin places": 1, "* fine when callers dial": 1, "config ok": 2,
		"../../testdata/modes/keypad.json: config ok": 1} {
		if c := strings.Count(got, text); c != n {
			t.Errorf("%q said %d times, want %d:\n%s", text, c, n, got)
		}
	}
}

// TestCommandsRefuseStrayArguments: a word left over after the flags (a
// typo, a flag without its dash) is refused, never silently ignored, by
// every command that takes no positional arguments.
func TestCommandsRefuseStrayArguments(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--addr", "127.0.0.1:0", "stray"}, {"check", "stray"}, {"graph", "stray"}, {"eval", "stray"},
		{"load", "stray"}, {"simulate", "stray"}, {"provision", "stray"}, {"callbacks", "--redis", "redis://127.0.0.1:1", "stray"},
	} {
		err := run(t.Context(), args, noEnv, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "unexpected arguments") {
			t.Errorf("switchboard %s: err %v, want unexpected arguments", strings.Join(args, " "), err)
		}
	}
}
