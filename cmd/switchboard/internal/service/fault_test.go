package service

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/redistest"
)

var faultFor = flag.Duration("fault", 0, "run the fault run for this long (make fault); 0: its short form")

// TestFaultRun is the fault run: two switchboard processes on one Redis, with
// every credential set, take simulated VoIPBin calls from several callers at
// once while Redis is killed and restarted and the model flaps between
// healthy, slow (5 s), failing (500) and refusing connections. Every call must
// reach a human, every fetch must be answered with a valid action list within
// 2 s, and every line a caller said must be found in what the router decided
// on: the call's stored turns (or, for a call sent to reception because the
// store was down, its stored inbox). make fault runs it for a minute and
// prints the figures; make test runs a short form.
func TestFaultRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and runs for several seconds")
	}
	run := faultPlan{length: 12 * time.Second, callers: 6, outage: 3 * time.Second, outages: 1, phase: 1500 * time.Millisecond}
	if *faultFor > 0 {
		run = faultPlan{length: *faultFor, callers: 16, outage: 3 * time.Second, outages: 2, phase: 4 * time.Second}
	}
	redis := redistest.StartServer(t, redistest.Durable...)
	model := startFlappingModel(t, run.phase)
	api := voipbintest.NewREST(t) // VoIPBin's REST API: it knows which transcriptions were stopped
	s := Config{
		RedisURL: redis.URL(), FetchToken: "fault-fetch", Secret: "fault-secret", WebhookToken: "fault-hook",
		OpenAIKey: "sk-fault", OpenAIURL: model.url() + "/v1", ConfigFile: faultConfig(t, run.phase),
		AccessKey: voipbintest.AccessKey, APIURL: api.URL,
	}
	bases := []string{startProcess(t, s), startProcess(t, s)}
	// With the access key a routed caller is handed over: the account owns
	// the number called, so the legs can be placed, and each leg's person
	// (who takes the call) fetches from either replica.
	api.Own(voipbintest.DefaultDialled)
	api.Bases = bases
	calls, err := store.OpenRedis(t.Context(), redis.URL(), store.DefaultExpiry)
	if err != nil {
		t.Fatal(err)
	}
	defer calls.Close()

	var fig faultFigures
	ctx, cancel := context.WithTimeout(t.Context(), run.length)
	defer cancel()

	// Redis goes down at evenly spaced moments, each time for run.outage.
	outages := make(chan string, run.outages)
	go func() {
		defer close(outages)
		start := time.Now()
		for i := range run.outages {
			at := start.Add(run.length * time.Duration(i+1) / time.Duration(run.outages+1))
			select {
			case <-time.After(time.Until(at)):
			case <-ctx.Done():
				return
			}
			redis.Stop()
			time.Sleep(run.outage)
			redis.Restart()
			outages <- fmt.Sprintf("Redis killed at %v and restarted %v later", at.Sub(start).Round(time.Second), run.outage)
		}
	}()

	var wg sync.WaitGroup
	for caller := range run.callers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(caller), 9))
			for n := 0; ctx.Err() == nil; n++ {
				script := faultScripts[rng.IntN(len(faultScripts))]
				// The simulator paces events as VoIPBin does (3 attempts, 1 s
				// apart), gives up on a fetch after VoIPBin's 3 s, and plays
				// the call in real time: the caller's speech events race the
				// fetches, each on its own goroutine.
				opt := voipbintest.Options{
					CallID: fmt.Sprintf("fault-%s-%d-%d", randomID(), caller, n), Bases: bases,
					Token: s.FetchToken, Secret: s.Secret, RealTime: true, REST: api,
					// VoIPBin goes on transcribing after the transfer; Switchboard must take it and keep nothing.
					ToHuman: []string{"hi, I was just put through to you"},
				}
				// A call in progress is finished even when the run's time is up.
				res, err := voipbintest.Run(context.WithoutCancel(ctx), opt, script)
				fig.add(res, err)
				fig.checkWords(t.Context(), calls, voipbintest.WireID(opt.CallID), res)
				fig.reached(voipbintest.WireID(opt.CallID), res)
			}
		})
	}
	wg.Wait()
	happened := 0
	for o := range outages {
		t.Log(o)
		happened++
	}
	fig.checkLeft(t.Context(), calls, api)
	fig.modelRequests = model.requests.Load()
	t.Logf("fault run: %v, %d callers at once, 2 replicas, Redis down %d x %v, model phases of %v (healthy, slow 5 s, 500, refusing)",
		run.length, run.callers, run.outages, run.outage, run.phase)
	for _, line := range fig.report() {
		t.Log(line)
	}
	for _, e := range fig.errorList() {
		t.Error(e)
	}
	if fig.started.Load() < int64(run.callers) {
		t.Errorf("only %d calls started", fig.started.Load())
	}
	if fig.human.Load() != fig.started.Load() {
		t.Errorf("%d of %d calls reached a human", fig.human.Load(), fig.started.Load())
	}
	if fig.lost.Load() > 0 {
		t.Errorf("%d caller lines lost", fig.lost.Load())
	}
	if fig.unheard.Load() > 0 {
		t.Errorf("%d caller lines are not in what the router decided on", fig.unheard.Load())
	}
	if fig.stillLive+fig.stillLinked+fig.unstopped > 0 {
		t.Errorf("calls that reached a human: %d still live in Redis, %d transcriptions still linked, %d not stopped",
			fig.stillLive, fig.stillLinked, fig.unstopped)
	}
	if fig.slowFetches > 0 {
		t.Errorf("%d fetches answered after more than 2 s (slowest %v)", fig.slowFetches, fig.maxFetch)
	}
	if happened != run.outages || fig.modelRequests == 0 {
		t.Errorf("the faults did not happen (%d of %d Redis outages, %d model requests): the run proves nothing",
			happened, run.outages, fig.modelRequests)
	}
}

// faultConfig is the example config with the circuit breaker's open period
// shorter than a model phase, so that every phase of the model is met.
func faultConfig(t *testing.T, phase time.Duration) string {
	t.Helper()
	var cfg map[string]any
	if err := json.Unmarshal(flow.ExampleJSON(), &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["routing"].(map[string]any)["llm"].(map[string]any)["breaker_open_ms"] = phase.Milliseconds() / 2
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "routing.json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

type faultPlan struct {
	length  time.Duration
	callers int
	outage  time.Duration
	outages int
	phase   time.Duration
}

// faultScripts are the callers of the fault run: each ends with a human.
// Some speak during the greeting too, so that a fetch finds two lines unread.
var faultScripts = [][]voipbintest.Step{
	{{Say: "hello I am calling about my account", During: "talk"}, {Say: "my invoice shows a double charge this month"}},
	{{Say: "hi there", During: "talk"}, {Say: "our production site is down"}},
	{{Say: "hi"}, {Say: "my invoice shows a double charge this month"}},
	{{Say: "I want to buy twenty more licenses for my team"}},
	{{Say: "the app keeps crashing when I open it on my phone"}},
	{{Say: "our production site is down"}},
	{{Silent: true}, {Say: "hello"}, {Say: "I have a question"}, {Say: "um"}, {Press: "3"}},
	{{Say: "hello"}, {Say: "I was charged twice for the premium plan and want a refund"}},
}

type faultFigures struct {
	started, human, reception, retried, lost, otherLost, badFetches atomic.Int64
	toHuman, afterLost                                              atomic.Int64
	// heard and unheard count the caller lines found, and not found, in what
	// the router decided on.
	heard, unheard       atomic.Int64
	late                 atomic.Int64
	mu                   sync.Mutex
	errs                 []string
	fetches, slowFetches int64
	maxFetch             time.Duration
	modelRequests        int64
	// humans are the calls that reached a human, by wire id, with their
	// transcriptions; after the run none may be live, linked or running.
	humans                            map[string][]string
	stillLive, stillLinked, unstopped int
}

// reached notes a call that reached a human, for checkLeft.
func (f *faultFigures) reached(callID string, res *voipbintest.Result) {
	if res == nil || res.Connected == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.humans == nil {
		f.humans = map[string][]string{}
	}
	f.humans[callID] = res.Transcribes
}

// checkLeft reads back, after the run, every call that reached a human: it
// must have left us in Redis (or be gone), each of its transcriptions
// unlinked, and stopped at VoIPBin. Stops and stores that waited out an
// outage are given 15 s to land.
func (f *faultFigures) checkLeft(ctx context.Context, calls *store.Redis, api *voipbintest.REST) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var bad []string
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		f.stillLive, f.stillLinked, f.unstopped, bad = 0, 0, 0, nil
		for id, trs := range f.humans {
			c, _, err := calls.Load(ctx, id)
			if err != nil || c.Version > 0 && !c.Left() {
				f.stillLive++
				bad = append(bad, fmt.Sprintf("call %s: %s (%v)", id, c.State, err))
			}
			for _, tr := range trs {
				if link, err := calls.Resolve(ctx, tr); err == nil && link != "" {
					f.stillLinked++
					bad = append(bad, fmt.Sprintf("call %s: transcription %s still linked", id, tr))
				}
				if api.Status(tr) != "done" {
					f.unstopped++
					bad = append(bad, fmt.Sprintf("call %s: transcription %s %s", id, tr, api.Status(tr)))
				}
			}
		}
		if len(bad) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, b := range bad[:min(len(bad), 5)] {
		if len(f.errs) < 10 {
			f.errs = append(f.errs, b)
		}
	}
}

func (f *faultFigures) add(res *voipbintest.Result, err error) {
	f.started.Add(1)
	if res != nil && res.Connected != "" {
		f.human.Add(1)
		if res.Connected == flow.ExampleConfig().Routing.Departments[flow.Fallback].Number {
			f.reception.Add(1)
		}
	}
	if res != nil {
		failed := "" // the event whose attempt failed on the line before
		for _, line := range res.Transcript {
			switch {
			case strings.HasPrefix(line, "EVENT transcript_created LOST") && strings.HasSuffix(line, "(after the transfer)"):
				f.afterLost.Add(1) // words for a call no longer ours, lost in an outage: nothing to keep
			case strings.HasPrefix(line, "EVENT transcript_created LOST"):
				f.lost.Add(1)
			case strings.HasPrefix(line, "EVENT ") && strings.Contains(line, " LOST"):
				f.otherLost.Add(1)
			case strings.HasPrefix(line, "caller (to the human"):
				f.toHuman.Add(1)
			case strings.HasPrefix(line, "(event "):
				// "(event <type> answered 503)": the first failed attempt of an event
				if typ := strings.Fields(line)[1]; typ != failed {
					f.retried.Add(1)
					failed = typ
				}
				continue
			}
			failed = ""
		}
		f.mu.Lock()
		f.fetches += int64(res.Fetches)
		for _, d := range res.FetchTimes {
			f.maxFetch = max(f.maxFetch, d)
			if d > 2*time.Second {
				f.slowFetches++
			}
		}
		f.mu.Unlock()
	}
	if err != nil {
		// The simulator stops a call at the first answer VoIPBin would not take.
		if strings.HasPrefix(err.Error(), "fetch") || strings.HasPrefix(err.Error(), "action") {
			f.badFetches.Add(1)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.errs) < 10 {
			f.errs = append(f.errs, err.Error())
		}
	}
}

// checkWords finds every line the caller said in the call as stored: in its
// turns, or, when its last fetch was sent to reception because the store was
// down (no moves), in its unread inbox. Redis may be down itself: it is asked
// again until it answers.
func (f *faultFigures) checkWords(ctx context.Context, calls *store.Redis, callID string, res *voipbintest.Result) {
	if res == nil {
		return
	}
	var said []string
	failedOver := false
	for i, line := range res.Transcript {
		// Words said while no transcription runs (a first fetch sent to
		// reception) reach nobody, on VoIPBin too.
		transcribed := i+1 >= len(res.Transcript) || !strings.HasPrefix(res.Transcript[i+1], "(not transcribed")
		if w, ok := strings.CutPrefix(line, "caller: "); ok && transcribed {
			w, _, _ = strings.Cut(w, " (during the ")
			said = append(said, w)
		}
		if strings.HasPrefix(line, "fetch ") {
			failedOver = i+1 >= len(res.Transcript) || !strings.HasPrefix(strings.TrimSpace(res.Transcript[i+1]), "moves:")
		}
	}
	if len(said) == 0 {
		return
	}
	var c flow.Call
	var inbox []flow.Input
	var err error
	for try := 0; try < 100; try++ {
		if c, inbox, err = calls.Load(ctx, callID); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	found := map[string]bool{}
	for _, w := range c.Turns {
		found[w] = true
	}
	if failedOver {
		for _, in := range inbox {
			found[in.Text] = true
		}
	}
	for _, w := range said {
		if found[w] {
			f.heard.Add(1)
			continue
		}
		if slices.Contains(res.Late, w) {
			f.late.Add(1) // taken after the fetch that decided the call was sent: nobody could hear it
			continue
		}
		f.unheard.Add(1)
		f.mu.Lock()
		if len(f.errs) < 10 {
			f.errs = append(f.errs, fmt.Sprintf("call %s: %q is not in its turns %q (load error %v)\n%s",
				callID, w, c.Turns, err, strings.Join(res.Transcript, "\n")))
		}
		f.mu.Unlock()
	}
}

func (f *faultFigures) errorList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.errs...)
}

func (f *faultFigures) report() []string {
	invalid := f.badFetches.Load()
	f.mu.Lock()
	defer f.mu.Unlock()
	return []string{
		fmt.Sprintf("calls started:                       %d", f.started.Load()),
		fmt.Sprintf("calls that reached a human:          %d (%d of them the reception desk)", f.human.Load(), f.reception.Load()),
		fmt.Sprintf("fetches answered with a valid action list: %d of %d (slowest %v, %d over 2 s)",
			f.fetches-invalid, f.fetches, f.maxFetch.Round(time.Millisecond), f.slowFetches),
		fmt.Sprintf("events that needed VoIPBin's retry:  %d", f.retried.Load()),
		fmt.Sprintf("transcripts lost:                    %d (other events lost: %d)", f.lost.Load(), f.otherLost.Load()),
		fmt.Sprintf("transcripts after a transfer:        %d sent, every one answered 200 but %d lost in an outage", f.toHuman.Load(), f.afterLost.Load()),
		fmt.Sprintf("caller lines in what the router decided on: %d of %d (%d more landed after the deciding fetch was sent)", f.heard.Load(), f.heard.Load()+f.unheard.Load(), f.late.Load()),
		fmt.Sprintf("calls that reached a human and are still ours: %d live, %d transcriptions linked, %d not stopped (of %d calls)",
			f.stillLive, f.stillLinked, f.unstopped, len(f.humans)),
		fmt.Sprintf("model requests seen by the stand-in: %d", f.modelRequests),
	}
}

// flappingModel is an OpenAI chat-completions stand-in that cycles through
// healthy, slow (5 s), failing (500) and refusing connections, one phase at a
// time, on one loopback port.
type flappingModel struct {
	addr     string
	srv      *http.Server
	requests atomic.Int64
	mode     atomic.Int32
}

const (
	modelHealthy = iota
	modelSlow
	modelFailing
	modelRefusing
	modelModes
)

func startFlappingModel(t *testing.T, phase time.Duration) *flappingModel {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &flappingModel{addr: l.Addr().String()}
	m.srv = &http.Server{Handler: http.HandlerFunc(m.serve)}
	go m.srv.Serve(l)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(phase):
			}
			next := (m.mode.Load() + 1) % modelModes
			switch next {
			case modelRefusing:
				_ = l.Close() // new connections are refused; Serve returns
				m.srv.SetKeepAlivesEnabled(false)
			case modelHealthy:
				var err error
				if l, err = net.Listen("tcp", m.addr); err == nil {
					m.srv.SetKeepAlivesEnabled(true)
					go m.srv.Serve(l)
				}
			}
			m.mode.Store(next)
		}
	}()
	t.Cleanup(func() { close(done); _ = m.srv.Close() })
	return m
}

func (m *flappingModel) url() string { return "http://" + m.addr }

func (m *flappingModel) serve(w http.ResponseWriter, r *http.Request) {
	m.requests.Add(1)
	body, _ := io.ReadAll(r.Body)
	switch m.mode.Load() {
	case modelSlow:
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
			return
		}
	case modelFailing:
		http.Error(w, `{"error":{"message":"stand-in failure"}}`, http.StatusInternalServerError)
		return
	case modelRefusing: // a connection kept from before: drop it
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		http.Error(w, "refusing", http.StatusServiceUnavailable)
		return
	}
	text := strings.ToLower(string(body))
	answer := "unknown"
	for word, dept := range map[string]string{"invoice": "billing", "refund": "billing", "licenses": "sales", "crashing": "support"} {
		if strings.Contains(text, word) {
			answer = dept
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-fault", "object": "chat.completion", "model": "stand-in",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]string{"role": "assistant", "content": answer}}},
		"usage": map[string]int{"prompt_tokens": 90, "completion_tokens": 1, "total_tokens": 91},
	})
}
