package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
)

// Options configure a run; each run reads the ones it needs.
type Options struct {
	Exe  string // the switchboard binary, started as `serve`
	Seed string // the seed's compiled server (dist/server.js), started with node
	// Baseline is another switchboard binary (an older build) that Compare
	// measures beside the others; empty: none.
	Baseline string

	Rate       float64 // VoIPBin: turns/s; webhook: requests/s; 0: back to back
	InFlight   []int   // calls or requests in flight; Compare runs one scenario per entry
	ModelMS    []int   // the stand-in model's latency, one per InFlight entry (the last repeats)
	Duration   time.Duration
	Max        int64
	ModelConns int           // serve's --model-conns; 0: its default
	Sample     time.Duration // how often a VoIPBin run samples the server's memory
	Rounds     int           // Compare: measured phases per server and scenario
	Words      string        // webhook: what the caller says
	Want       string        // webhook: the number the answer must transfer to
	ServeEnv   []string      // more KEY=value for every switchboard started (GOGC=400, say)
	Replicas   int           // RealTime: switchboards on one Redis (2: events to one, fetches to the other)
	APIMS      int           // handoff: how late VoIPBin's REST API (its stand-in) answers, in ms

	Out io.Writer // the report
}

// The VoIPBin run's call: three caller turns, the first two too vague to
// route (the model stand-in answers "unknown" to the second), the third
// routed by the model to billing.
var (
	// Each said in a second, so that on the simulator's own clock its final
	// words are in before the pause after the question ends (the real-time
	// run draws how long callers speak).
	callSteps = []voipbintest.Step{{Say: "hello", SpeakMS: 1000}, {Say: "I have a question about my account", SpeakMS: 1000},
		{Say: "my invoice shows a double charge", SpeakMS: 1000}}
	callEnd = "+14155550102"
)

// turnsPerCall is the fetches of one such call: the greeting, one per caller
// turn, and the one that hands out the connect after the transfer's
// announcement.
const turnsPerCall = 5

// The credentials every server the runs start is configured with, as in
// production: the fetch token, the signing secret of VoIPBin's events (the
// simulator signs them) and the seed webhook's bearer token.
const (
	fetchToken    = "load-fetch-token"
	eventSecret   = "load-event-secret"
	webhookBearer = "Bearer load-webhook-token"
)

func (o Options) modelLatency(i int) time.Duration {
	if len(o.ModelMS) == 0 {
		return 0
	}
	return time.Duration(o.ModelMS[min(i, len(o.ModelMS)-1)]) * time.Millisecond
}

// startServe starts `switchboard serve` on a free port, on the model stand-in
// and on Redis when redisURL is set, logging to a file in dir.
func startServe(ctx context.Context, o Options, dir string, model *Model, redisURL string) (*Process, error) {
	return startServeExe(ctx, o, o.Exe, "switchboard", dir, model, redisURL)
}

func startServeExe(ctx context.Context, o Options, exe, name, dir string, model *Model, redisURL string) (*Process, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(dir + "/" + name + ".log")
	if err != nil {
		return nil, err
	}
	env := []string{"SWITCHBOARD_FETCH_TOKEN=" + fetchToken,
		"VOIPBIN_WEBHOOK_SECRET=" + eventSecret, "SWITCHBOARD_WEBHOOK_TOKEN=" + strings.TrimPrefix(webhookBearer, "Bearer "),
		"SWITCHBOARD_PUBLIC_URL=http://127.0.0.1:" + strconv.Itoa(port)}
	if model != nil { // else the local classifier alone
		env = append(env, "OPENAI_API_KEY=stand-in", "OPENAI_BASE_URL="+model.URL)
	}
	if redisURL != "" {
		env = append(env, "REDIS_URL="+redisURL)
	}
	if o.ModelConns > 0 {
		env = append(env, "SWITCHBOARD_MODEL_CONNS="+strconv.Itoa(o.ModelConns))
	}
	env = append(env, o.ServeEnv...)
	return Start(ctx, name, port, env, log, exe, "serve", "--addr", "127.0.0.1:"+strconv.Itoa(port))
}

// VoIPBin plays simulated VoIPBin calls against serve on a private Redis:
// every call must end connected to billing. It reports turns/s, the fetch
// latency VoIPBin would see, errors, the server's CPU time per turn, the
// model connections opened, and the server's memory over the run.
func VoIPBin(ctx context.Context, o Options) error {
	dir, ctx, _, redisURL, done, err := scratchRedis(ctx, "switchboard-load-")
	if err != nil {
		return err
	}
	defer done()
	model, err := StartModel(ctx, o.modelLatency(0))
	if err != nil {
		return err
	}
	srv, err := startServe(ctx, o, dir, model, redisURL)
	if err != nil {
		return err
	}
	defer srv.Stop()

	inFlight := o.InFlight[0]
	var fetches Latencies
	client := Client(inFlight*2, &Timing{Path: voipbin.FetchPath, Lat: &fetches})
	base := "http://" + srv.Addr
	var calls, failed, wrongEnd atomic.Int64
	var firstErr atomic.Value
	call := func(ctx context.Context) {
		id := fmt.Sprintf("load-%d-%d", time.Now().UnixNano(), calls.Add(1))
		res, err := voipbintest.Run(ctx, voipbintest.Options{CallID: id, Bases: []string{base}, Client: client, Token: fetchToken, Secret: eventSecret}, callSteps)
		switch {
		case err != nil:
			failed.Add(1)
			firstErr.CompareAndSwap(nil, err.Error())
		case res.Connected != callEnd || res.Fetches != turnsPerCall:
			wrongEnd.Add(1)
			firstErr.CompareAndSwap(nil, fmt.Sprintf("call %s ended connected to %q after %d fetches, want %s after %d:\n%s",
				id, res.Connected, res.Fetches, callEnd, turnsPerCall, strings.Join(res.Transcript, "\n")))
		}
	}
	// One call first: its transcript shows a broken setup at once.
	call(ctx)
	if v := firstErr.Load(); v != nil {
		return fmt.Errorf("first call: %s", v)
	}
	fetches.Reset()

	fmt.Fprintf(o.Out, "VoIPBin calls on Redis: %d turns per call (3 caller turns), %.0f turns/s wanted, %d calls in flight at most, model %v, %v at most\n",
		turnsPerCall, o.Rate, inFlight, o.modelLatency(0), o.Duration)
	cpu0, _ := ProcCPU(srv.PID())
	rss0, _, _ := ProcMem(srv.PID())
	stopSampling := sampleMemory(o, srv.PID(), &calls)
	n, took := Drive(ctx, Plan{Rate: o.Rate / turnsPerCall, InFlight: inFlight, Duration: o.Duration, Max: o.Max / turnsPerCall}, call)
	stopSampling()
	cpu1, _ := ProcCPU(srv.PID())
	rss1, hwm, _ := ProcMem(srv.PID())
	s := fetches.Summary()
	fmt.Fprintf(o.Out, "calls %d in %.1f s: %.0f turns/s (%d fetches)\n", n, took.Seconds(), float64(s.N)/took.Seconds(), s.N)
	sayShortfall(o.Out, o.Rate, float64(s.N)/took.Seconds(), "turns/s", inFlight, "calls")
	fmt.Fprintf(o.Out, "fetch latency: %s\n", s)
	fmt.Fprintf(o.Out, "errors %d, calls ended elsewhere %d\n", failed.Load(), wrongEnd.Load())
	if s.N > 0 {
		fmt.Fprintf(o.Out, "server CPU per turn %.3f ms; model: %d requests over %d connections in the whole run\n",
			float64((cpu1-cpu0).Microseconds())/1000/float64(s.N), model.Requests(), model.Conns())
	}
	fmt.Fprintf(o.Out, "server memory: RSS %s at start, %s at end, peak %s\n", mib(rss0), mib(rss1), mib(hwm))
	if v := firstErr.Load(); v != nil {
		return fmt.Errorf("%d calls failed, %d ended elsewhere; first: %s", failed.Load(), wrongEnd.Load(), v)
	}
	return nil
}

// sampleMemory prints the server's resident memory every o.Sample, beside the
// calls made so far, until the returned func is called.
func sampleMemory(o Options, pid int, calls *atomic.Int64) func() {
	if o.Sample <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		start := time.Now()
		t := time.NewTicker(o.Sample)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				rss, _, _ := ProcMem(pid)
				fmt.Fprintf(o.Out, "  %4.0f s: %d calls, RSS %s\n", time.Since(start).Seconds(), calls.Load(), mib(rss))
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// target is a server answering the seed's speech webhook, or (proc nil) the
// model stand-in alone.
type target struct {
	name  string
	proc  *Process
	model *Model
}

// standInRequest is a chat completion as Switchboard asks it, in brief.
var standInRequest = []byte(`{"model":"stand-in","messages":[{"role":"user","content":"Caller turns:\n1. my invoice shows a double charge"}]}`)

// request returns the URL, body and expected answer of one request to t.
func (t target) request(body []byte, want string) (string, []byte, string) {
	if t.proc == nil {
		return t.model.URL + "/chat/completions", standInRequest, "billing"
	}
	return "http://" + t.proc.Addr + "/webhook/call-handler", body, want
}

func (t target) cpu() time.Duration {
	if t.proc == nil {
		return 0
	}
	d, _ := ProcCPU(t.proc.PID())
	return d
}

// webhookRequest is the seed's request body: a transcript of what the caller said.
func webhookRequest(words string) []byte {
	return fmt.Appendf(nil, `{"speech":{"results":[{"text":%q}]}}`, words)
}

// phase is one measured stretch of webhook load on one server.
type phase struct {
	n, errs  int64
	took     time.Duration
	cpu      time.Duration
	conns    int64
	asked    int64 // requests that reached the model: fewer than n when the local classifier answered
	lat      Summary
	firstErr string
}

// hit sends webhook requests to t as p plans and measures them.
func hit(ctx context.Context, t target, p Plan, body []byte, want string) phase {
	var lat Latencies
	client := Client(p.InFlight, nil)
	url, body, want := t.request(body, want)
	var errs atomic.Int64
	var firstErr atomic.Value
	fail := func(msg string) {
		errs.Add(1)
		firstErr.CompareAndSwap(nil, msg)
	}
	cpu0 := t.cpu()
	conns0, asked0 := t.model.Conns(), t.model.Requests()
	n, took := Drive(ctx, p, func(ctx context.Context) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", webhookBearer) // the seed's server ignores it
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			fail(err.Error())
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		lat.Add(time.Since(start))
		if err != nil || resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(want)) {
			fail(fmt.Sprintf("%d %s (want a transfer to %s)", resp.StatusCode, b, want))
		}
	})
	cpu1 := t.cpu()
	ph := phase{n: n, errs: errs.Load(), took: took, cpu: cpu1 - cpu0, conns: t.model.Conns() - conns0,
		asked: t.model.Requests() - asked0, lat: lat.Summary()}
	if v := firstErr.Load(); v != nil {
		ph.firstErr = v.(string)
	}
	return ph
}

// rate is the phase's achieved requests per second.
func (ph phase) rate() float64 { return float64(ph.n) / ph.took.Seconds() }

// sayShortfall says plainly when a run reached less than the rate asked for
// (by more than 5%): its latency figures are then for the rate reached.
func sayShortfall(w io.Writer, wanted, got float64, unit string, inFlight int, what string) {
	if wanted <= 0 || got >= 0.95*wanted {
		return
	}
	fmt.Fprintf(w, "SHORT OF THE RATE ASKED: %.0f of %.0f %s (%.0f%%); with %d %s in flight at most the server "+
		"(or this machine) kept up with no more: raise -inflight or lower -rate; the latency above is at the rate reached\n",
		got, wanted, unit, 100*got/wanted, inFlight, what)
}

func (ph phase) report(w io.Writer, name string) {
	cpu := "" // the stand-in alone has no server process
	if ph.cpu > 0 {
		cpu = fmt.Sprintf("  CPU/req %.3f ms", cpuPerReq(ph))
	}
	fmt.Fprintf(w, "%-12s %8.0f req/s  %s  errors %d%s  model asked %d, conns %d\n", name,
		ph.rate(), ph.lat, ph.errs, cpu, ph.asked, ph.conns)
	if ph.firstErr != "" {
		fmt.Fprintf(w, "             first error: %s\n", ph.firstErr)
	}
}

func cpuPerReq(ph phase) float64 {
	if ph.n == 0 {
		return 0
	}
	return float64(ph.cpu.Microseconds()) / 1000 / float64(ph.n)
}

// scratch gives a run its own folder (servers' sockets, logs, Redis files)
// and a context that stops every process it starts; done removes both.
func scratch(ctx context.Context, prefix string) (string, context.Context, func(), error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	return dir, ctx, func() { cancel(); os.RemoveAll(dir) }, nil
}

// scratchRedis is scratch with a private redis-server started in its
// folder; done stops it, then removes the folder.
func scratchRedis(ctx context.Context, prefix string) (string, context.Context, *Process, string, func(), error) {
	dir, ctx, done, err := scratch(ctx, prefix)
	if err != nil {
		return "", nil, nil, "", nil, err
	}
	redis, redisURL, err := StartRedis(ctx, dir)
	if err != nil {
		done()
		return "", nil, nil, "", nil, err
	}
	return dir, ctx, redis, redisURL, func() { redis.Stop(); done() }, nil
}

// Webhook sends the seed's speech webhook to serve (memory store) on the
// model stand-in, at o.Rate requests/s or back to back, and reports latency,
// errors and the server's CPU time per request.
func Webhook(ctx context.Context, o Options) error {
	dir, ctx, done, err := scratch(ctx, "switchboard-load-")
	if err != nil {
		return err
	}
	defer done()
	model, err := StartModel(ctx, o.modelLatency(0))
	if err != nil {
		return err
	}
	srv, err := startServe(ctx, o, dir, model, "")
	if err != nil {
		return err
	}
	defer srv.Stop()
	t := target{name: "switchboard", proc: srv, model: model}
	body := webhookRequest(o.Words)
	// Warm up, unmeasured: connections, caches, the runtime's heap.
	hit(ctx, t, Plan{InFlight: o.InFlight[0], Duration: time.Second, Max: 5000, Ramp: o.modelLatency(0)}, body, o.Want)
	fmt.Fprintf(o.Out, "seed webhook %q: %.0f req/s wanted, %d in flight at most, model %v, %v at most\n",
		o.Words, o.Rate, o.InFlight[0], o.modelLatency(0), o.Duration)
	ph := hit(ctx, t, Plan{Rate: o.Rate, InFlight: o.InFlight[0], Duration: o.Duration, Max: o.Max, Ramp: o.modelLatency(0)}, body, o.Want)
	ph.report(o.Out, t.name)
	sayShortfall(o.Out, o.Rate, ph.rate(), "req/s", o.InFlight[0], "requests")
	if rss, hwm, err := ProcMem(srv.PID()); err == nil {
		fmt.Fprintf(o.Out, "server memory: RSS %s at end, peak %s\n", mib(rss), mib(hwm))
	}
	if ph.errs > 0 {
		return fmt.Errorf("%d requests failed", ph.errs)
	}
	return nil
}

// Compare runs the seed's own server and Switchboard side by side on the
// seed's webhook, each on its own model stand-in with the same latency: for
// each scenario (in flight, model latency), o.Rounds measured phases per
// server, alternating which goes first. It reports each server's requests/s,
// latency, CPU time per request, model connections and peak memory, and the
// CPU ratio.
func Compare(ctx context.Context, o Options) error {
	if o.Seed == "" {
		return errors.New("no seed server: build one with seedserver.sh and pass its dist/server.js")
	}
	dir, ctx, done, err := scratch(ctx, "switchboard-compare-")
	if err != nil {
		return err
	}
	defer done()
	seedModel, err := StartModel(ctx, 0)
	if err != nil {
		return err
	}
	sbModel, err := StartModel(ctx, 0)
	if err != nil {
		return err
	}
	port, err := FreePort()
	if err != nil {
		return err
	}
	seedLog, err := os.Create(dir + "/seed.log")
	if err != nil {
		return err
	}
	seed, err := Start(ctx, "seed", port, []string{"PORT=" + strconv.Itoa(port), "NODE_ENV=production",
		"OPENAI_API_KEY=stand-in", "OPENAI_BASE_URL=" + seedModel.URL}, seedLog, "node", o.Seed)
	if err != nil {
		return err
	}
	defer seed.Stop()
	sb, err := startServe(ctx, o, dir, sbModel, "")
	if err != nil {
		return err
	}
	defer sb.Stop()
	targets := []target{{"seed (node)", seed, seedModel}, {"switchboard", sb, sbModel}}
	if o.Baseline != "" {
		baseModel, err := StartModel(ctx, 0)
		if err != nil {
			return err
		}
		base, err := startServeExe(ctx, o, o.Baseline, "baseline", dir, baseModel, "")
		if err != nil {
			return err
		}
		defer base.Stop()
		targets = append(targets, target{"baseline", base, baseModel})
	}
	// The stand-in alone is measured in the same rounds: the latency no server can go below on this machine now.
	floorModel, err := StartModel(ctx, 0)
	if err != nil {
		return err
	}
	targets = append(targets, target{"stand-in", nil, floorModel})
	body := webhookRequest(o.Words)
	failed := false
	for i, inFlight := range o.InFlight {
		lat := o.modelLatency(i)
		for _, t := range targets {
			t.model.SetLatency(lat)
		}
		fmt.Fprintf(o.Out, "\nscenario: model %v, %d requests in flight, %d rounds of %v per server\n", lat, inFlight, o.Rounds, o.Duration)
		for _, t := range targets {
			hit(ctx, t, Plan{InFlight: inFlight, Duration: 2 * time.Second, Max: o.Max, Ramp: lat}, body, o.Want) // warm up
		}
		sums := make([]phase, len(targets))
		for round := range o.Rounds {
			for k := range targets {
				j := k
				if round%2 == 1 {
					j = len(targets) - 1 - k
				}
				ph := hit(ctx, targets[j], Plan{InFlight: inFlight, Duration: o.Duration, Max: o.Max, Ramp: lat}, body, o.Want)
				fmt.Fprintf(o.Out, "  round %d ", round+1)
				ph.report(o.Out, targets[j].name)
				s := &sums[j]
				s.n, s.errs, s.took, s.cpu = s.n+ph.n, s.errs+ph.errs, s.took+ph.took, s.cpu+ph.cpu
				s.conns, s.asked = s.conns+ph.conns, s.asked+ph.asked
				// Percentiles do not add up: keep each phase's, and report their worst.
				s.lat.P50 = max(s.lat.P50, ph.lat.P50)
				s.lat.P99 = max(s.lat.P99, ph.lat.P99)
				s.lat.Max = max(s.lat.Max, ph.lat.Max)
				if s.firstErr == "" {
					s.firstErr = ph.firstErr
				}
			}
		}
		fmt.Fprintf(o.Out, "all rounds (latency: the worst round's):\n")
		for j, t := range targets {
			fmt.Fprintf(o.Out, "  ")
			sums[j].report(o.Out, t.name)
			// The seed's own failures are a finding, not a broken run.
			failed = failed || t.name == "switchboard" && sums[j].errs > 0
		}
		if c := cpuPerReq(sums[0]); c > 0 {
			for j := 1; j < len(targets)-1; j++ {
				fmt.Fprintf(o.Out, "  CPU per request, %s / seed: %.3f (1/%.1f)\n", targets[j].name, cpuPerReq(sums[j])/c, c/cpuPerReq(sums[j]))
			}
		}
	}
	fmt.Fprintln(o.Out)
	for _, t := range targets[:len(targets)-1] {
		_, hwm, _ := ProcMem(t.proc.PID())
		cpu, _ := ProcCPU(t.proc.PID())
		fmt.Fprintf(o.Out, "%-12s peak memory (VmHWM) %s, CPU time %.1f s, model: %d requests over %d connections, over the whole run\n",
			t.name, mib(hwm), cpu.Seconds(), t.model.Requests(), t.model.Conns())
	}
	if failed {
		return errors.New("switchboard failed some requests")
	}
	return nil
}

// Floor drives the model stand-in alone, as the webhook run drives a server:
// the latency the load generator and the stand-in add by themselves on this
// machine, the floor under every other run's figures.
func Floor(ctx context.Context, o Options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	model, err := StartModel(ctx, o.modelLatency(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "model stand-in alone: %.0f req/s wanted, %d in flight at most, model %v, %v at most\n",
		o.Rate, o.InFlight[0], o.modelLatency(0), o.Duration)
	t := target{name: "stand-in", model: model}
	plan := Plan{Rate: o.Rate, InFlight: o.InFlight[0], Duration: o.Duration, Max: o.Max, Ramp: o.modelLatency(0)}
	// Warm up, unmeasured, as the webhook run does.
	hit(ctx, t, Plan{InFlight: plan.InFlight, Duration: time.Second, Max: 5000, Ramp: plan.Ramp}, nil, "")
	ph := hit(ctx, t, plan, nil, "")
	ph.report(o.Out, "stand-in")
	sayShortfall(o.Out, o.Rate, ph.rate(), "req/s", plan.InFlight, "requests")
	return nil
}
