package load

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
)

// handoffRouting routes the run's callers to billing, which has two lines
// and then the fallback desk, each rung 5 s (the shortest ring time a config
// allows), with the whisper.
const handoffRouting = `{"routing": {"departments": {
  "billing": {"number": "+14155550102", "keywords": ["invoice", "charge"], "handoff": {"then": ["+14155550112"], "ring_seconds": 5}},
  "fallback": {"number": "+14155550199", "handoff": {"ring_seconds": 5}},
  "emergency": {"number": "+14155550911"}}}}`

// people are the ways a person rung behaves, with their weights: most
// answer and take the call; the rest do not answer, are busy, cannot be
// reached, say no, press nothing or put the phone down.
var people = []struct {
	person string
	weight int
}{
	{voipbintest.PersonAccepts, 40}, {voipbintest.PersonUnanswered, 15}, {voipbintest.PersonBusy, 15},
	{voipbintest.PersonDeclines, 10}, {voipbintest.PersonSilent, 7}, {voipbintest.PersonFails, 7}, {voipbintest.PersonHangsUp, 6},
}

func drawPerson() string {
	n := rand.IntN(100)
	for _, p := range people {
		if n < p.weight {
			return p.person
		}
		n -= p.weight
	}
	return voipbintest.PersonAccepts
}

// callerLeaves is the share of callers who hang up while on hold.
const callerLeaves = 0.05

// Handoff plays o.Max calls routed to billing through two switchboards on
// one Redis (fetches and events to either, in turn), with VoIPBin's REST
// API stood in in this process: every person rung behaves at random, and 5%
// of callers hang up on hold. When the calls are over, no conference and no
// outgoing call may be left in the stand-in, and no caller may have been
// left waiting: each reached a person or hung up.
func Handoff(ctx context.Context, o Options) error {
	dir, ctx, _, redisURL, done, err := scratchRedis(ctx, "switchboard-handoff-")
	if err != nil {
		return err
	}
	defer done()
	rest := voipbintest.StartREST()
	defer rest.Close()
	rest.Own(voipbintest.DefaultDialled)
	rest.Secret = eventSecret
	rest.Person = func(string) string { return drawPerson() }
	rest.SetLatency(time.Duration(o.APIMS) * time.Millisecond)
	config := dir + "/routing.json"
	if err := os.WriteFile(config, []byte(handoffRouting), 0o600); err != nil {
		return err
	}
	var bases []string
	for i := range 2 {
		port, err := FreePort()
		if err != nil {
			return err
		}
		log, err := os.Create(fmt.Sprintf("%s/switchboard-%d.log", dir, i+1))
		if err != nil {
			return err
		}
		env := append([]string{"SWITCHBOARD_FETCH_TOKEN=" + fetchToken, "VOIPBIN_WEBHOOK_SECRET=" + eventSecret,
			"SWITCHBOARD_WEBHOOK_TOKEN=" + strings.TrimPrefix(webhookBearer, "Bearer "),
			"SWITCHBOARD_PUBLIC_URL=http://127.0.0.1:" + strconv.Itoa(port), "REDIS_URL=" + redisURL,
			"VOIPBIN_ACCESSKEY=" + voipbintest.AccessKey, "VOIPBIN_API_URL=" + rest.URL}, o.ServeEnv...)
		srv, err := Start(ctx, fmt.Sprint("switchboard-", i+1), port, env, log, o.Exe, "serve", "--addr", "127.0.0.1:"+strconv.Itoa(port), "--config", config)
		if err != nil {
			return err
		}
		defer srv.Stop()
		bases = append(bases, "http://"+srv.Addr)
	}
	rest.Bases = bases
	inFlight := o.InFlight[0]
	// The handoff's own fetches are timed: they answer within 0.5 s, as every fetch does.
	var fetches Latencies
	client := Client(inFlight*4, &Timing{Path: voipbin.HandoffPath, Lat: &fetches})

	var mu sync.Mutex
	reached := map[string]int{}
	var held Latencies
	var actions []int
	var calls, failed, stranded atomic.Int64
	var firstErr atomic.Value
	call := func(ctx context.Context) {
		id := fmt.Sprintf("handoff-%d-%d", time.Now().UnixNano(), calls.Add(1))
		steps := []voipbintest.Step{{Say: "my invoice shows a double charge", SpeakMS: 1000}}
		leaves := rand.Float64() < callerLeaves
		if leaves {
			steps = append(steps, voipbintest.Step{Hangup: true, During: "conference_join"})
		}
		start := time.Now()
		res, err := voipbintest.Run(ctx, voipbintest.Options{CallID: id, Bases: bases, Client: client, Token: fetchToken,
			Secret: eventSecret, REST: rest}, steps)
		took := time.Since(start)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
			failed.Add(1)
			firstErr.CompareAndSwap(nil, fmt.Sprintf("call %s: %v\n%s", id, err, strings.Join(res.Transcript, "\n")))
		case res.Connected == "" && !leaves:
			stranded.Add(1)
			firstErr.CompareAndSwap(nil, fmt.Sprintf("call %s reached nobody:\n%s", id, strings.Join(res.Transcript, "\n")))
		case res.Connected == "":
			reached["(caller hung up on hold)"]++
		default:
			who := res.Connected
			if slices.ContainsFunc(res.Transcript, func(l string) bool { return strings.Contains(l, "  connect tel") }) {
				who += " (plain connect, the last resort)"
			}
			reached[who]++
			held.Add(took)
		}
		actions = append(actions, res.Actions)
	}
	fmt.Fprintf(o.Out, "handoffs: %d calls to billing (two lines, then the fallback desk; 5 s ring time each), %d in flight at most, two switchboards on one Redis, VoIPBin's REST API answering %d ms late\n",
		o.Max, inFlight, o.APIMS)
	n, took := Drive(ctx, Plan{InFlight: inFlight, Duration: o.Duration, Max: o.Max, Ramp: time.Second}, call)
	// What is left when every call is over: the stand-in deletes nothing by itself.
	rest.WaitCalls(10 * time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for (rest.Conferences() > 0 || rest.LiveCalls() > 0) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Fprintf(o.Out, "calls %d in %.1f s; errors %d; callers stranded %d\n", n, took.Seconds(), failed.Load(), stranded.Load())
	for _, who := range slices.Sorted(maps.Keys(reached)) {
		fmt.Fprintf(o.Out, "  %-52s %d\n", who, reached[who])
	}
	hang := rest.Hangups()
	fmt.Fprintf(o.Out, "legs placed %d, by how they ended:", func() int {
		t := 0
		for _, v := range hang {
			t += v
		}
		return t
	}())
	for _, r := range slices.Sorted(maps.Keys(hang)) {
		fmt.Fprintf(o.Out, " %s %d", r, hang[r])
	}
	fmt.Fprintln(o.Out)
	slices.Sort(actions)
	if len(actions) > 0 {
		fmt.Fprintf(o.Out, "VoIPBin actions per call: p50 %d, max %d (limit 100)\n", actions[len(actions)/2], actions[len(actions)-1])
	}
	fmt.Fprintf(o.Out, "handoff fetches answered (%d): %s\n", fetches.Summary().N, fetches.Summary())
	fmt.Fprintf(o.Out, "time to reach someone (the hold is real time, the rest on the simulator's clock): %s\n", held.Summary())
	confs, live := rest.Conferences(), rest.LiveCalls()
	fmt.Fprintf(o.Out, "left behind in VoIPBin: %d conferences, %d outgoing calls\n", confs, live)
	if v := firstErr.Load(); v != nil {
		return fmt.Errorf("%d calls failed, %d callers stranded; first: %s", failed.Load(), stranded.Load(), v)
	}
	if confs > 0 || live > 0 {
		return fmt.Errorf("%d conferences and %d outgoing calls left behind", confs, live)
	}
	return nil
}
