// Command switchboard answers a business's inbound VoIPBin calls, finds out
// what the caller wants over a few turns and transfers them to the right
// department.
//
//	switchboard [serve]        run the HTTP service (the default)
//	switchboard graph          print the call flow as a Mermaid diagram
//	switchboard check          validate a routing config
//	switchboard eval           measure routing accuracy on labelled conversations
//	switchboard simulate       play a VoIPBin call against a running switchboard
//	switchboard load           drive a switchboard it starts with loopback load
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return // the flag package has printed the usage
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "switchboard:", err)
		os.Exit(1)
	}
}

// run is the whole program behind main, with its environment injected so that
// tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, args, getenv, stdout, stderr)
	case "graph":
		return runGraph(stdout)
	case "check":
		return runCheck(args, stdout, stderr)
	case "eval":
		return runEval(ctx, args, getenv, stdout, stderr)
	case "harvest":
		return runHarvest(args, stdout, stderr)
	case "simulate":
		return runSimulate(ctx, args, getenv, stdout, stderr)
	case "load":
		return runLoad(ctx, args, stdout, stderr)
	case "help":
		_, err := fmt.Fprint(stdout, usage)
		return err
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

const usage = `usage: switchboard [command] [flags]

commands:
  serve     run the HTTP service (default); flags: --addr, --config, --model-conns, --insecure
  graph     print the call flow as a Mermaid state diagram
  check     validate a routing config: --config FILE
  eval      measure routing accuracy: --data FILE.jsonl (see README)
  harvest   turn logs of serve --log-transcripts into labelled conversations: harvest LOG... > calls.jsonl
  simulate  play a VoIPBin call against a running switchboard: --say "..." --press 3
  load      start a switchboard and drive it over loopback: --run voipbin|webhook|compare (see BENCHMARKS.md)
`
