package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/load"
)

// runLoad drives a switchboard it starts itself with traffic over loopback;
// see the load package and BENCHMARKS.md.
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("load", stdout, stderr)
	kind := fs.String("run", "voipbin", "voipbin: 3-turn VoIPBin calls on Redis; realtime: the same calls in real time, speech events and all; handoff: calls handed over through two switchboards, every person rung behaving at random (--max calls); webhook: the seed's webhook; compare: the seed's server beside switchboard; floor: the model stand-in alone")
	o := load.Options{Out: stdout}
	fs.Float64Var(&o.Rate, "rate", 0, "voipbin: turns/s, webhook: requests/s (0: back to back)")
	inFlight := fs.String("inflight", "64", "calls or requests in flight at most; compare: a comma list, one scenario each")
	modelMS := fs.String("model-ms", "0", "the model stand-in's latency in ms; compare: a comma list, one per scenario; realtime: local for no model")
	fs.IntVar(&o.APIMS, "api-ms", 0, "handoff: how late VoIPBin's REST API answers, in ms (a slow API)")
	fs.IntVar(&o.Replicas, "replicas", 1, "realtime: switchboards on one Redis; 2 sends events to one and fetches to the other")
	fs.DurationVar(&o.Duration, "duration", 20*time.Second, "how long to run (each phase, for compare)")
	fs.Int64Var(&o.Max, "max", 10_000_000, "turns or requests at most")
	fs.IntVar(&o.ModelConns, "model-conns", 0, "serve's --model-conns (0: its default)")
	fs.DurationVar(&o.Sample, "sample", 0, "voipbin: print the server's memory this often (0: never)")
	fs.IntVar(&o.Rounds, "rounds", 2, "compare: measured phases per server and scenario")
	fs.StringVar(&o.Words, "words", "my invoice shows a double charge", "webhook, compare: what the caller says")
	fs.StringVar(&o.Want, "want", "+14155550102", "webhook, compare: the number every answer must transfer to")
	fs.StringVar(&o.Baseline, "baseline", "", "compare: another switchboard binary (an older build) to measure beside the others")
	fs.StringVar(&o.Seed, "seed", "", "compare: the seed's server, dist/server.js as built by internal/load/seedserver.sh")
	serveEnv := fs.String("serve-env", "", "more KEY=value, comma-separated, in the environment of every switchboard started")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	for kv := range strings.SplitSeq(*serveEnv, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		if !strings.Contains(kv, "=") {
			return fmt.Errorf("--serve-env %q: want KEY=value", kv)
		}
		o.ServeEnv = append(o.ServeEnv, kv)
	}
	var err error
	if o.InFlight, err = ints(*inFlight); err != nil {
		return fmt.Errorf("--inflight: %w", err)
	}
	if *kind == "realtime" && *modelMS == "local" {
		o.ModelMS = []int{-1}
	} else if o.ModelMS, err = ints(*modelMS); err != nil {
		return fmt.Errorf("--model-ms: %w", err)
	}
	if o.Duration <= 0 || o.Duration > time.Hour || o.Max <= 0 {
		return errors.New("--duration must be within (0, 1h] and --max positive: a load run is bounded")
	}
	// The load generator's own garbage collection pauses its clients and its
	// model stand-in: at Go's default, on 2 cores, they alone set a p99 of
	// 2 to 3 ms at 5,000 requests/s (0.6 ms at 800). Its heap is small, so
	// collect rarely, unless the operator chose with GOGC.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(800)
	}
	if o.Exe, err = os.Executable(); err != nil {
		return err
	}
	switch *kind {
	case "voipbin":
		return load.VoIPBin(ctx, o)
	case "realtime":
		return load.RealTime(ctx, o)
	case "handoff":
		return load.Handoff(ctx, o)
	case "webhook":
		return load.Webhook(ctx, o)
	case "compare":
		return load.Compare(ctx, o)
	case "floor":
		return load.Floor(ctx, o)
	}
	return fmt.Errorf("--run %q: want voipbin, realtime, handoff, webhook, compare or floor", *kind)
}

// ints parses a comma-separated list of non-negative integers.
func ints(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q: want non-negative numbers, comma-separated", s)
		}
		out = append(out, n)
	}
	return out, nil
}
