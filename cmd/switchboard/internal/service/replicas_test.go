package service

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
	"github.com/switchboard/switchboard/store/redistest"
)

// buildBinary builds switchboard once per test binary run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "switchboard-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "switchboard")
	out, err := exec.Command("go", "build", "-o", bin, "../..").CombinedOutput()
	if err != nil {
		return "", &buildError{out: string(out), err: err}
	}
	return bin, nil
})

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// startProcess runs `switchboard serve` as its own process on a free port and
// returns its base URL. It is stopped with SIGTERM when the test ends.
func startProcess(t *testing.T, s Config, flags ...string) string {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"serve", "--addr", "127.0.0.1:0"}
	if s.ConfigFile != "" {
		args = append(args, "--config", s.ConfigFile)
	}
	args = append(args, flags...)
	if s.At != "" {
		args = append(args, "--at", s.At)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(),
		"REDIS_URL="+s.RedisURL, "SWITCHBOARD_FETCH_TOKEN="+s.FetchToken,
		"VOIPBIN_WEBHOOK_SECRET="+s.Secret, "SWITCHBOARD_WEBHOOK_TOKEN="+s.WebhookToken,
		"OPENAI_API_KEY="+s.OpenAIKey, "OPENAI_BASE_URL="+s.OpenAIURL,
		"VOIPBIN_ACCESSKEY="+s.AccessKey, "VOIPBIN_API_URL="+s.APIURL,
		// The simulator sends every request to the process, whatever host a fetch URL names.
		"SWITCHBOARD_PUBLIC_URL=https://switchboard.test")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("switchboard did not stop on SIGTERM; stderr:\n%s", stderr.String())
		}
		if t.Failed() {
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			t.Logf("switchboard's last log lines:\n%s", strings.Join(lines[max(0, len(lines)-15):], "\n"))
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("switchboard did not start: %v\n%s", err, stderr.String())
	}
	return "http://" + strings.TrimSpace(strings.TrimPrefix(line, "switchboard listening on "))
}

// TestReplicasShareRedis plays every VoIPBin golden conversation against three
// switchboard processes sharing one Redis, each fetch and event going to the
// next process in turn: the transcript must equal the single-process golden.
func TestReplicasShareRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	redisURL := redistest.Start(t)
	files, err := filepath.Glob("../../../../testdata/conversations/voipbin-*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no conversations: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			conv := loadConversation(t, file)
			if conv.OneProcess != "" {
				t.Skip("one process only: " + conv.OneProcess)
			}
			s, model := conv.settings(t)
			s.RedisURL = redisURL
			bases := make([]string, 3)
			for i := range bases {
				bases[i] = startProcess(t, s, "--insecure") // the conversations' events are unsigned
			}
			got := record(t, "call-"+name+"-"+randomID(), conv, bases, model)
			checkExpect(t, name, conv, got)
			// The golden's audit lines come from one process's log (the
			// audit record across replicas is flow's TestHybridAuditAcrossReplicas).
			if diff := cmp.Diff(withoutLogs(readGolden(t, file)), got); diff != "" {
				t.Errorf("three replicas on one Redis differ from one process (-want +got):\n%s", diff)
			}
		})
	}
}

// withoutLogs drops a transcript's log lines.
func withoutLogs(transcript string) string {
	var keep []string
	for _, l := range strings.SplitAfter(transcript, "\n") {
		if !strings.HasPrefix(l, "log: ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}

func randomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TestCallerCasesOnTwoReplicas plays the conversations that protect what the
// caller says (priority signals, corrections, asking for a person, Spanish
// detected from speech) through two `serve` processes on one Redis, every
// event to one and every fetch to the other: the turn on the caller's words
// decides on one replica, the fetch hands it out from the other. Each must
// reach what its expectation says.
func TestCallerCasesOnTwoReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	redisURL := redistest.Start(t)
	var files []string
	for _, pattern := range []string{"voipbin-priority-*", "voipbin-correction-*", "voipbin-person-*", "voipbin-spanish-detected-*", "voipbin-mode-spanish-detected"} {
		matched, err := filepath.Glob("../../../../testdata/conversations/" + pattern + ".json")
		if err != nil || len(matched) == 0 {
			t.Fatalf("%s: no conversations (%v)", pattern, err)
		}
		files = append(files, matched...)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			conv := loadConversation(t, file)
			s, model := conv.settings(t)
			s.RedisURL = redisURL
			// --insecure: the conversations' events are unsigned
			events, fetches := startProcess(t, s, "--insecure"), startProcess(t, s, "--insecure")
			cfg, err := LoadConfig(s.ConfigFile)
			if err != nil {
				t.Fatal(err)
			}
			res, err := voipbintest.Run(t.Context(), voipbintest.Options{
				CallID: "call-" + name + "-" + randomID(), Bases: []string{fetches}, EventBases: []string{events}, Token: testToken,
				Language: conv.Language, Dialled: conv.Dialled, Owned: conv.Owned, Flow: conv.numberFlow(t), Queues: voipbintest.Queues(cfg),
			}, conv.Steps)
			if err != nil {
				t.Fatal(err)
			}
			transcript := strings.Join(append(res.Transcript, res.Summary()), "\n") + "\n"
			if model != nil {
				transcript += strings.Join(model.log(), "\n") + "\n"
			}
			checkExpect(t, name, conv, transcript)
		})
	}
}

// TestCorrectionsInRealTime plays two corrections in real time, events
// posted at their moments on goroutines of their own as VoIPBin's webhook
// service does, racing the fetches, through two replicas on one Redis.
func TestCorrectionsInRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("plays calls in real time")
	}
	redisURL := redistest.Start(t)
	for _, name := range []string{"voipbin-correction-outage", "voipbin-correction-refund"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			conv := loadConversation(t, "../../../../testdata/conversations/"+name+".json")
			s, _ := conv.settings(t)
			s.RedisURL = redisURL
			events, fetches := startProcess(t, s, "--insecure"), startProcess(t, s, "--insecure")
			res, err := voipbintest.Run(t.Context(), voipbintest.Options{
				CallID: "call-rt-" + name + "-" + randomID(), Bases: []string{fetches}, EventBases: []string{events},
				Token: testToken, RealTime: true,
			}, conv.Steps)
			if err != nil {
				t.Fatal(err)
			}
			checkExpect(t, name, conv, strings.Join(append(res.Transcript, res.Summary()), "\n")+"\n")
		})
	}
}
