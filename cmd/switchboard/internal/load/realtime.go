package load

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
)

// RealTime plays VoIPBin calls in real time against one switchboard, or two
// on one Redis (Replicas 2: events to the first, fetches to the second), the
// way VoIPBin runs them: the caller answers each question a moment after it
// ends and speaks 1 to 4 s, the streaming speech events come as they speak,
// each on its own goroutine, and the final words last. It reports the
// caller's wait (final words sent to the answer that acts on them), the fetch
// time VoIPBin sees, VoIPBin actions per call, and per caller turn the
// server's CPU and Redis commands. ModelMS < 0 runs the local classifier alone.
func RealTime(ctx context.Context, o Options) error {
	dir, ctx, redis, redisURL, done, err := scratchRedis(ctx, "switchboard-realtime-")
	if err != nil {
		return err
	}
	defer done()
	var model *Model
	modelMS := -1
	if len(o.ModelMS) > 0 {
		modelMS = o.ModelMS[0]
	}
	if modelMS >= 0 {
		if model, err = StartModel(ctx, time.Duration(modelMS)*time.Millisecond); err != nil {
			return err
		}
	}
	replicas := max(o.Replicas, 1)
	var servers []*Process
	for i := range replicas {
		srv, err := startServeExe(ctx, o, o.Exe, fmt.Sprint("switchboard-", i+1), dir, model, redisURL)
		if err != nil {
			return err
		}
		defer srv.Stop()
		servers = append(servers, srv)
	}
	eventBase, fetchBase := "http://"+servers[0].Addr, "http://"+servers[len(servers)-1].Addr
	inFlight := o.InFlight[0]
	client := Client(inFlight*4, nil)

	var mu sync.Mutex
	var waits, fetches Latencies
	var actions []int
	var calls, turns, failed atomic.Int64
	var firstErr, slowest atomic.Value
	call := func(ctx context.Context) {
		id := fmt.Sprintf("rt-%d-%d", time.Now().UnixNano(), calls.Add(1))
		steps := make([]voipbintest.Step, len(callSteps))
		for i, s := range callSteps {
			s.SpeakMS = 1000 + rand.IntN(3001) // callers speak 1 to 4 s
			steps[i] = s
		}
		res, err := voipbintest.Run(ctx, voipbintest.Options{CallID: id, Bases: []string{fetchBase}, EventBases: []string{eventBase},
			Client: client, Token: fetchToken, Secret: eventSecret, RealTime: true, Holding: "One moment, please."}, steps)
		if err == nil && res.Connected != callEnd {
			err = fmt.Errorf("call %s ended connected to %q, want %s:\n%s", id, res.Connected, callEnd, strings.Join(res.Transcript, "\n"))
		}
		if err != nil {
			failed.Add(1)
			firstErr.CompareAndSwap(nil, err.Error())
			return
		}
		for _, w := range res.Waits {
			waits.Add(w)
			if w > 3*time.Second && slowest.CompareAndSwap(nil, id) {
				fmt.Fprintf(o.Out, "a wait of %v, call %s:\n%s\n", w.Round(time.Millisecond), id, strings.Join(res.Transcript, "\n"))
			}
		}
		for _, f := range res.FetchTimes {
			fetches.Add(f)
		}
		turns.Add(int64(len(res.Waits))) // the caller turns answered
		mu.Lock()
		actions = append(actions, res.Actions)
		mu.Unlock()
	}
	model0 := "the local classifier alone"
	if model != nil {
		model0 = fmt.Sprintf("a model answering in %d ms", modelMS)
	}
	fmt.Fprintf(o.Out, "real-time VoIPBin calls (3 caller turns, 1-4 s each) on %d replica(s), %d calls in flight, %s, %v\n",
		replicas, inFlight, model0, o.Duration)
	cpu0 := cpuOf(servers)
	cmds0, err := redisCommands(redis.Addr)
	if err != nil {
		return err
	}
	n, took := Drive(ctx, Plan{InFlight: inFlight, Duration: o.Duration, Max: o.Max, Ramp: 5 * time.Second}, call)
	cpu1 := cpuOf(servers)
	cmds1, _ := redisCommands(redis.Addr)
	w, f := waits.Summary(), fetches.Summary()
	fmt.Fprintf(o.Out, "calls %d in %.0f s, %d failed\n", n, took.Seconds(), failed.Load())
	fmt.Fprintf(o.Out, "wait (final words -> the answer acting on them): p50 %s, p95 %s, max %s (%d)\n",
		ms(w.P50), ms(w.P95), ms(w.Max), w.N)
	fmt.Fprintf(o.Out, "fetch: p50 %s, p99 %s, max %s (%d)\n", ms(f.P50), ms(f.P99), ms(f.Max), f.N)
	if len(actions) > 0 {
		slices.Sort(actions)
		sum := 0
		for _, a := range actions {
			sum += a
		}
		fmt.Fprintf(o.Out, "VoIPBin actions per call: mean %.1f, p50 %d, max %d\n",
			float64(sum)/float64(len(actions)), actions[len(actions)/2], actions[len(actions)-1])
	}
	if t := turns.Load(); t > 0 {
		fmt.Fprintf(o.Out, "per caller turn: server CPU %.2f ms, Redis commands %.1f\n",
			float64((cpu1-cpu0).Microseconds())/1000/float64(t), float64(cmds1-cmds0)/float64(t))
	}
	if v := firstErr.Load(); v != nil {
		return fmt.Errorf("%d calls failed; first: %s", failed.Load(), v)
	}
	return nil
}

func cpuOf(ps []*Process) time.Duration {
	var sum time.Duration
	for _, p := range ps {
		d, _ := ProcCPU(p.PID())
		sum += d
	}
	return sum
}

// redisCommands is how many commands the Redis at addr has processed.
func redisCommands(addr string) (int64, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "INFO stats\r\n"); err != nil {
		return 0, err
	}
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0, fmt.Errorf("redis INFO stats: %w", err)
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_commands_processed:"); ok {
			// INFO itself is one of them.
			n, err := strconv.ParseInt(v, 10, 64)
			return n - 1, err
		}
	}
}
