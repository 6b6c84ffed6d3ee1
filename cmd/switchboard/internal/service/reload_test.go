package service

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/testkit"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
)

// Billing's number in the example config, and the one the tests move it to.
const billingBefore, billingAfter = testkit.BillingBefore, testkit.BillingAfter

// writeConfig writes the example config with billing at number.
func writeConfig(t *testing.T, file, number string) { testkit.WriteConfig(t, file, number) }

func billingCall(_ *testing.T, id string, bases []string) (*voipbintest.Result, error) {
	return testkit.BillingCall(id, bases, testToken)
}

// TestReloadUnderLoad keeps calls going while the config is reloaded over and
// over, a broken config among them: no call fails, each ends at one of the
// two billing numbers, and calls after the last reload reach the new one.
func TestReloadUnderLoad(t *testing.T) {
	file := filepath.Join(t.TempDir(), "routing.json")
	writeConfig(t, file, billingBefore)
	svc, srv := startService(t, Config{FetchToken: testToken, ConfigFile: file})

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var calls, failed atomic.Int64
	var mu sync.Mutex
	reached := map[string]int{}
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				res, err := billingCall(t, fmt.Sprintf("load-%d-%d", w, i), []string{srv.URL})
				calls.Add(1)
				if err != nil || res.Connected != billingBefore && res.Connected != billingAfter {
					failed.Add(1)
					t.Errorf("call failed during reloads: %v, connected %q", err, res.Connected)
					continue
				}
				mu.Lock()
				reached[res.Connected]++
				mu.Unlock()
			}
		}()
	}
	reloads, refused := 0, 0
	for i := range 40 {
		switch {
		case i%10 == 5:
			if err := os.WriteFile(file, []byte(`{"routing": {"departments": {"sales": "555"}}}`), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := svc.reload(context.Background(), false); err == nil || !strings.Contains(err.Error(), "fallback: missing") {
				t.Errorf("a broken config must be refused with its problems, got %v", err)
			}
			refused++
		default:
			writeConfig(t, file, []string{billingBefore, billingAfter}[i%2])
			if err := svc.reload(context.Background(), false); err != nil {
				t.Errorf("reload %d: %v", i, err)
			}
			reloads++
		}
		time.Sleep(5 * time.Millisecond)
	}
	writeConfig(t, file, billingAfter)
	if err := svc.reload(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if res, err := billingCall(t, "after-reloads", []string{srv.URL}); err != nil || res.Connected != billingAfter {
		t.Errorf("after the last reload billing is %s, want %s (%v)", res.Connected, billingAfter, err)
	}
	t.Logf("%d calls during %d reloads and %d refused configs: %d failed, reached %v", calls.Load(), reloads, refused, failed.Load(), reached)
	if calls.Load() < 8 {
		t.Errorf("only %d calls ran during the reloads; the test shows nothing", calls.Load())
	}
}

// TestReloadNextTurn changes the routing in the middle of a call: the call
// was greeted under the old config and is routed by the new one.
func TestReloadNextTurn(t *testing.T) {
	file := filepath.Join(t.TempDir(), "routing.json")
	writeConfig(t, file, billingBefore)
	svc, srv := startService(t, Config{FetchToken: testToken, ConfigFile: file})
	reloaded := false
	res, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: "mid-call", Bases: []string{srv.URL}, Token: testToken,
		OnLine: func(line string) {
			if strings.HasPrefix(line, "caller: I was charged") && !reloaded {
				reloaded = true
				writeConfig(t, file, billingAfter)
				if err := svc.reload(context.Background(), false); err != nil {
					t.Error(err)
				}
			}
		}}, []voipbintest.Step{{Say: "hello"}, {Say: "I was charged twice on my invoice"}})
	if err != nil || res.Connected != billingAfter {
		t.Fatalf("connected %q, want the new billing number %s (%v)", res.Connected, billingAfter, err)
	}
}

// reloadable builds a service on a config file of its own (billing's first
// number), logging JSON into the buffer it returns.
func reloadable(t *testing.T) (string, *Service, *syncBuffer) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "routing.json")
	writeConfig(t, file, billingBefore)
	buf := &syncBuffer{}
	log, err := jsonLog(buf, "info", false)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(context.Background(), Config{ConfigFile: file}, log)
	if err != nil {
		t.Fatal(err)
	}
	return file, svc, buf
}

// TestReloadRefusedIsLogged names each problem of a refused config in the log
// and keeps routing with the old config.
func TestReloadRefusedIsLogged(t *testing.T) {
	file, svc, buf := reloadable(t)
	old := svc.routing()
	if err := os.WriteFile(file, []byte(`{"routing": {"departments": {"sales": "555"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := svc.reload(context.Background(), false); err == nil {
		t.Fatal("a broken config was accepted")
	}
	if svc.routing() != old {
		t.Error("a refused config replaced the routing in use")
	}
	var problems []string
	for _, l := range buf.lines(t) {
		if l["msg"] == "config reload refused; still routing with the previous config" {
			joined, _ := l["problems"].(string)
			problems = strings.Split(joined, "; ")
		}
	}
	if len(problems) < 3 {
		t.Errorf("want each problem logged, got %v", problems)
	}
}

// TestReloadMissingFileSaidOnce: a config file that goes away is an ERROR
// once, not at every check; once it is back, its going is said again.
func TestReloadMissingFileSaidOnce(t *testing.T) {
	file, svc, buf := reloadable(t)
	old := svc.routing()
	errors := func() int {
		n := 0
		for _, l := range buf.lines(t) {
			if l["level"] == "ERROR" {
				n++
			}
		}
		return n
	}
	for round := 1; round <= 2; round++ {
		if err := os.Remove(file); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			if err := svc.reload(context.Background(), false); err == nil {
				t.Fatal("a missing config file was read")
			}
		}
		if got := errors(); got != round {
			t.Errorf("round %d: %d ERROR lines in all, want %d (one each time the file went)", round, got, round)
		}
		if svc.routing() != old {
			t.Error("a missing file replaced the routing in use")
		}
		writeConfig(t, file, billingBefore)
		if err := svc.reload(context.Background(), false); err != nil {
			t.Fatalf("round %d: the file back: %v", round, err)
		}
	}
}
