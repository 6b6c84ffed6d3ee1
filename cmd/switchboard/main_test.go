package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, c := range commands() {
		if !strings.Contains(out.String(), "  "+c.name+" ") {
			t.Errorf("help does not list %s:\n%s", c.name, out.String())
		}
		if c.name == "help" {
			continue
		}
		// -h is help asked for: on stdout, and never an environment's
		// secret shown as a flag's default.
		secrets := func(k string) string {
			return map[string]string{"VOIPBIN_PASSWORD": "hunter2", "VOIPBIN_ACCESSKEY": "k3y-abc", "PORT": "8080"}[k]
		}
		var flags, errOut bytes.Buffer
		err := run(context.Background(), []string{c.name, "-h"}, secrets, &flags, &errOut)
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(flags.String(), c.summary) || !strings.Contains(flags.String(), "-") || errOut.Len() > 0 {
			t.Errorf("%s -h: err %v, stdout:\n%s\nstderr:\n%s", c.name, err, flags.String(), errOut.String())
		}
		for _, line := range strings.Split(flags.String(), "\n") {
			if strings.Count(line, "(default") > 1 || strings.Contains(line, "hunter2") || strings.Contains(line, "k3y-abc") {
				t.Errorf("%s -h: %q", c.name, line)
			}
		}
		// A bad flag is an error: said on stderr, with the usage after it.
		flags.Reset()
		errOut.Reset()
		if err := run(context.Background(), []string{c.name, "--no-such-flag"}, secrets, &flags, &errOut); err == nil || flags.Len() > 0 ||
			!strings.Contains(errOut.String(), "flag provided but not defined") || !strings.Contains(errOut.String(), c.summary) {
			t.Errorf("%s --no-such-flag: err %v, stdout:\n%s\nstderr:\n%s", c.name, err, flags.String(), errOut.String())
		}
	}
	var top bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, func(string) string { return "" }, &top, io.Discard); err != nil || !strings.Contains(top.String(), "simulate") {
		t.Errorf("switchboard -h should list the commands: %v\n%s", err, top.String())
	}
}

// TestRun drives the binary's run as main does: it serves on a free port,
// answers health checks and stops when its context ends.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	getenv := func(k string) string {
		return map[string]string{"SWITCHBOARD_FETCH_TOKEN": "tok"}[k]
	}
	go func() { errc <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, getenv, pw, io.Discard) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	addr := strings.TrimSpace(strings.TrimPrefix(line, "switchboard listening on "))
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s = %d", path, resp.StatusCode)
		}
	}
	if got, _ := post(t, "http://"+addr+"/voipbin/fetch?t=tok", `{"reference_id":"`+vid("c1")+`"}`); got != http.StatusOK {
		t.Errorf("fetch = %d", got)
	}
	var out strings.Builder
	if err := run(ctx, []string{"simulate", "--url", "http://" + addr, "--say", "billing please"}, getenv, &out, io.Discard); err != nil {
		t.Errorf("simulate: %v", err)
	}
	if !strings.Contains(out.String(), `connected="+14155550102"`) {
		t.Errorf("simulate should show the call routed to billing:\n%s", out.String())
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("run returned %v after shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after its context ended")
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	file := t.TempDir() + "/bad.json"
	if err := os.WriteFile(file, []byte(`{"routing": {"departments": {"sales": "555"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"serve", "--config", file, "--addr", "127.0.0.1:0"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not a phone number") || !strings.Contains(err.Error(), "fallback: missing") {
		t.Fatalf("want every problem named, got %v", err)
	}
}
