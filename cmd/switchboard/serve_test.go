package main

import (
	"bufio"
	"context"
	"fmt"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/service"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadWatchAndSignal runs serve as main does: a changed file is picked
// up by the watcher, and SIGHUP reloads at once.
func TestReloadWatchAndSignal(t *testing.T) {
	for _, how := range []string{"watch", "sighup"} {
		t.Run(how, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "routing.json")
			writeConfig(t, file, billingBefore)
			every := "20ms"
			if how == "sighup" {
				every = "0"
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pr, pw := io.Pipe()
			errc := make(chan error, 1)
			go func() {
				errc <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--config", file, "--reload-every", every},
					func(k string) string { return map[string]string{"SWITCHBOARD_FETCH_TOKEN": testToken}[k] }, pw, io.Discard)
			}()
			line, err := bufio.NewReader(pr).ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			go io.Copy(io.Discard, pr)
			base := "http://" + strings.TrimSpace(strings.TrimPrefix(line, "switchboard listening on "))
			writeConfig(t, file, billingAfter)
			if how == "sighup" {
				if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
					t.Fatal(err)
				}
			}
			deadline := time.Now().Add(10 * time.Second) // generous: the machine is shared
			for i := 0; ; i++ {
				res, err := billingCall(t, fmt.Sprintf("%s-%d", how, i), []string{base})
				if err != nil {
					t.Fatal(err)
				}
				if res.Connected == billingAfter {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the new config was not picked up (%s)", how)
				}
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
}

func TestModelConnsSetting(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  string
		args []string
		want int
		bad  bool
	}{
		{"default", "", nil, 0, false},
		{"from the environment", "64", nil, 64, false},
		{"flag wins", "64", []string{"--model-conns", "8"}, 8, false},
		{"not a number", "many", nil, 0, true},
		{"zero", "0", nil, 0, true},
		{"negative flag", "", []string{"--model-conns", "-1"}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string { return map[string]string{"SWITCHBOARD_MODEL_CONNS": tc.env}[k] }
			s, err := parseSettings(tc.args, getenv, io.Discard, io.Discard)
			if tc.bad {
				if err == nil {
					t.Fatalf("settings %+v accepted, want an error", s)
				}
				return
			}
			if err != nil || s.ModelConns != tc.want {
				t.Errorf("ModelConns = %d, %v; want %d", s.ModelConns, err, tc.want)
			}
		})
	}
}

// TestServeRefusesOpenRoutes: with REDIS_URL set (production), serve names
// every credential left unset and refuses to start unless told --insecure.
func TestServeRefusesOpenRoutes(t *testing.T) {
	all := map[string]string{
		"REDIS_URL":                 "redis://127.0.0.1:1/0", // never reached: serve stops first, or does not need it to start
		"SWITCHBOARD_FETCH_TOKEN":   "f",
		"VOIPBIN_WEBHOOK_SECRET":    "s",
		"SWITCHBOARD_WEBHOOK_TOKEN": "w",
		"SWITCHBOARD_PUBLIC_URL":    "https://switchboard.example.com",
	}
	without := func(names ...string) func(string) string {
		return func(k string) string {
			for _, n := range names {
				if k == n {
					return ""
				}
			}
			return all[k]
		}
	}
	for _, tt := range []struct {
		name    string
		getenv  func(string) string
		missing []string
	}{
		{"fetch token", without("SWITCHBOARD_FETCH_TOKEN"), []string{"SWITCHBOARD_FETCH_TOKEN"}},
		{"webhook secret", without("VOIPBIN_WEBHOOK_SECRET"), []string{"VOIPBIN_WEBHOOK_SECRET"}},
		{"webhook token", without("SWITCHBOARD_WEBHOOK_TOKEN"), []string{"SWITCHBOARD_WEBHOOK_TOKEN"}},
		// Else the Host header of each fetch would say where VoIPBin fetches next.
		{"public URL", without("SWITCHBOARD_PUBLIC_URL"), []string{"SWITCHBOARD_PUBLIC_URL"}},
		{"all three", without("SWITCHBOARD_FETCH_TOKEN", "VOIPBIN_WEBHOOK_SECRET", "SWITCHBOARD_WEBHOOK_TOKEN"),
			[]string{"SWITCHBOARD_FETCH_TOKEN", "VOIPBIN_WEBHOOK_SECRET", "SWITCHBOARD_WEBHOOK_TOKEN"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// A serve that does not refuse is stopped, so the test fails rather than waits.
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, tt.getenv, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "refusing to start") || !strings.Contains(err.Error(), "--insecure") {
				t.Fatalf("err = %v, want a refusal that mentions --insecure", err)
			}
			for _, name := range tt.missing {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("refusal does not name %s: %v", name, err)
				}
			}
		})
	}
	starts := func(t *testing.T, args []string, getenv func(string) string) string {
		t.Helper()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		pr, pw := io.Pipe()
		var logs strings.Builder
		errc := make(chan error, 1)
		go func() {
			errc <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), getenv, pw, &logs)
		}()
		go func() { _, _ = bufio.NewReader(pr).ReadString('\n'); cancel(); _, _ = io.Copy(io.Discard, pr) }()
		if err := <-errc; err != nil {
			t.Errorf("serve %v: %v, want it to start", args, err)
		}
		return logs.String()
	}
	t.Run("insecure starts", func(t *testing.T) {
		starts(t, []string{"--insecure"}, without("SWITCHBOARD_FETCH_TOKEN", "VOIPBIN_WEBHOOK_SECRET", "SWITCHBOARD_WEBHOOK_TOKEN"))
	})
	t.Run("every credential set starts", func(t *testing.T) { starts(t, nil, without()) })
	t.Run("no Redis starts with warnings", func(t *testing.T) {
		logs := starts(t, nil, func(string) string { return "" })
		warnings := regexp.MustCompile(`(?m)^.*WARN.*$`).FindAllString(logs, -1)
		if len(warnings) != 4 {
			t.Errorf("want four warnings, the open routes, the fetch URL from the Host header, the memory store and the transcription left running, one line each:\n%s", logs)
		}
		if !regexp.MustCompile(`SWITCHBOARD_PUBLIC_URL is not set: .*Host header`).MatchString(logs) {
			t.Errorf("the warning for SWITCHBOARD_PUBLIC_URL does not name its risk, the fetch URL taken from the Host header:\n%s", logs)
		}
		for _, name := range []string{"SWITCHBOARD_FETCH_TOKEN", "VOIPBIN_WEBHOOK_SECRET", "SWITCHBOARD_WEBHOOK_TOKEN", "REDIS_URL", "VOIPBIN_ACCESSKEY", "SWITCHBOARD_PUBLIC_URL"} {
			if !strings.Contains(logs, name) {
				t.Errorf("no warning about %s in:\n%s", name, logs)
			}
		}
	})
}

// TestServeRefusesBlankCredentials: a credential of whitespace only is as
// good as none and is refused, named, whether Redis is set or not.
func TestServeRefusesBlankCredentials(t *testing.T) {
	for _, name := range []string{"SWITCHBOARD_FETCH_TOKEN", "VOIPBIN_WEBHOOK_SECRET", "SWITCHBOARD_WEBHOOK_TOKEN", "VOIPBIN_ACCESSKEY", "OPENAI_API_KEY"} {
		getenv := func(k string) string {
			if k == name {
				return " \t "
			}
			return ""
		}
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--insecure"}, getenv, io.Discard, io.Discard)
		cancel()
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "blank") {
			t.Errorf("%s of whitespace: %v, want a refusal naming it", name, err)
		}
	}
}

// TestServeWarnsOfOpenDebugAddresses: the profiler and /metrics have no
// authentication; on an address other than loopback serve starts, and says
// so (read from its start-up warnings: a test listens on loopback only).
func TestServeWarnsOfOpenDebugAddresses(t *testing.T) {
	warnings := func(debug, metrics string) string {
		var b strings.Builder
		warnOpen(slog.New(slog.NewTextHandler(&b, nil)), settings{DebugAddr: debug, Config: service.Config{MetricsAddr: metrics}})
		return b.String()
	}
	open := warnings(":6060", "0.0.0.0:9090")
	for _, want := range []string{"--debug-addr :6060 is not a loopback address", "--metrics-addr 0.0.0.0:9090 is not a loopback address"} {
		if !strings.Contains(open, want) {
			t.Errorf("no warning %q in:\n%s", want, open)
		}
	}
	for _, addrs := range [][2]string{{"127.0.0.1:6060", "localhost:9090"}, {"[::1]:6060", ""}} {
		if closed := warnings(addrs[0], addrs[1]); strings.Contains(closed, "loopback") {
			t.Errorf("a loopback address is warned about:\n%s", closed)
		}
	}
}

// TestPublicURLChecked: SWITCHBOARD_PUBLIC_URL is the base of every fetch
// URL VoIPBin is given, so it must be an absolute http(s) URL without query.
func TestPublicURLChecked(t *testing.T) {
	for url, ok := range map[string]bool{
		"https://switchboard.example.com": true, "http://127.0.0.1:3000/base": true,
		"switchboard.example.com": false, "ftp://switchboard.example.com": false,
		"https://": false, "https://h/?t=1": false, "https://h/#x": false,
	} {
		_, err := parseSettings(nil, func(k string) string {
			return map[string]string{"SWITCHBOARD_PUBLIC_URL": url}[k]
		}, io.Discard, io.Discard)
		if (err == nil) != ok {
			t.Errorf("SWITCHBOARD_PUBLIC_URL=%q: err %v, want ok=%v", url, err, ok)
		}
	}
}

// TestServeMetricsAddr: serve --metrics-addr serves /metrics there and
// nowhere else, and nothing else there.
func TestServeMetricsAddr(t *testing.T) {
	status := func(t *testing.T, url string) int {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	t.Run("serve --metrics-addr", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		pr, pw := io.Pipe()
		errc := make(chan error, 1)
		go func() {
			errc <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--metrics-addr", addr}, func(string) string { return "" }, pw, io.Discard)
			pw.Close()
		}()
		line, err := bufio.NewReader(pr).ReadString('\n')
		if err != nil {
			t.Fatalf("serve did not start: %v, %v", err, <-errc)
		}
		go func() { _, _ = io.Copy(io.Discard, pr) }()
		public := "http://" + strings.TrimSpace(strings.TrimPrefix(line, "switchboard listening on "))
		if got := status(t, "http://"+addr+"/metrics"); got != http.StatusOK {
			t.Errorf("/metrics on --metrics-addr = %d, want 200", got)
		}
		if got := status(t, "http://"+addr+"/voipbin/fetch"); got == http.StatusOK {
			t.Errorf("the metrics listener serves other routes too")
		}
		if got := status(t, public+"/metrics"); got != http.StatusNotFound {
			t.Errorf("/metrics on the service's address = %d, want 404 with --metrics-addr", got)
		}
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}
