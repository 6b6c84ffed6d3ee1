// Command switchboard answers a business's inbound VoIPBin calls, finds out
// what the caller wants over a few turns and transfers them to the right
// department.
//
//	switchboard serve          run the HTTP service (the default when only flags are given)
//	switchboard check          validate a routing config
//	switchboard graph          print the call flow as a Mermaid or Graphviz diagram
//	switchboard eval           measure routing accuracy on labelled conversations
//	switchboard harvest        turn logs of serve --log-transcripts into labelled conversations
//	switchboard provision      wire a VoIPBin number to the service, with a preflight
//	switchboard simulate       play a VoIPBin call, in process or against a server
//	switchboard callbacks      list or cancel the callbacks callers asked for
//	switchboard load           drive a switchboard it starts with loopback load
//	switchboard help           list the commands
//
// Package main is the commands only: main.go holds run and the command
// table (commands), and each command is the file of its name (serve.go,
// check.go, ...; width_*.go measure simulate's terminal). A new command is a
// file and a row of commands. The HTTP service serve runs is package
// internal/service; VoIPBin's wire and its stand-ins are internal/voipbin.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	_ "time/tzdata" // opening hours' zones, for a container without zoneinfo
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
	if len(args) == 0 { // a newcomer's first try: say what there is, start nothing
		fmt.Fprint(stderr, usage())
		return flag.ErrHelp
	}
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		cmd, args = "help", nil
	}
	if cmd == "help" {
		if len(args) > 0 && args[0] != "help" { // help CMD: CMD's own flags
			return run(ctx, []string{args[0], "-h"}, getenv, stdout, stderr)
		}
		_, err := fmt.Fprint(stdout, usage())
		return err
	}
	for _, c := range commands() {
		if c.name == cmd {
			return c.run(ctx, args, env{getenv: getenv, stdin: os.Stdin, stdout: stdout, stderr: stderr})
		}
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage())
}

// env is what a command runs with besides its arguments: the environment
// and the standard streams (stdin is read by simulate only).
type env struct {
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one of switchboard's commands: its name, the line help shows
// for it, and what runs it. Each lives in the file of its name (serve.go,
// check.go, ...); a new command is a file and a row of commands.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, e env) error
}

// commands is every command, in the order help lists them. (A function, not
// a variable: the commands' flags read their summaries from it.)
func commands() []command {
	return []command{
		{"serve", "run the HTTP service (the default command when only flags are given)", func(ctx context.Context, args []string, e env) error {
			return runServe(ctx, args, e.getenv, e.stdout, e.stderr)
		}},
		{"check", "validate a routing config", func(_ context.Context, args []string, e env) error {
			return runCheck(args, e.stdout, e.stderr)
		}},
		{"graph", "print the call flow as a Mermaid (default) or Graphviz DOT diagram", func(_ context.Context, args []string, e env) error {
			return runGraph(args, e.stdout, e.stderr)
		}},
		{"eval", "measure routing accuracy on labelled conversations", func(ctx context.Context, args []string, e env) error {
			return runEval(ctx, args, e.getenv, e.stdout, e.stderr)
		}},
		{"harvest", "turn logs of serve --log-transcripts into labelled conversations: harvest LOG... > calls.jsonl", func(_ context.Context, args []string, e env) error {
			return runHarvest(args, e.stdout, e.stderr)
		}},
		{"provision", "wire a VoIPBin number to this service, after a preflight of every department's transfer", func(ctx context.Context, args []string, e env) error {
			return runProvision(ctx, args, e.getenv, nil, e.stdout, e.stderr)
		}},
		{"simulate", "play a VoIPBin call: in process (talk to it in a terminal) or against --url", func(ctx context.Context, args []string, e env) error {
			return runSimulate(ctx, args, e.getenv, e.stdin, e.stdout, e.stderr)
		}},
		{"callbacks", "list the callbacks callers asked for, or cancel one (--cancel CALL_ID); reads REDIS_URL", func(ctx context.Context, args []string, e env) error {
			return runCallbacks(ctx, args, e.getenv, e.stdout, e.stderr)
		}},
		{"load", "start a switchboard and drive it over loopback: --run voipbin|webhook|compare (see BENCHMARKS.md)", func(ctx context.Context, args []string, e env) error {
			return runLoad(ctx, args, e.stdout, e.stderr)
		}},
		{"help", "list the commands; help CMD shows CMD's flags", nil}, // run itself answers it
	}
}

func usage() string {
	var b strings.Builder
	b.WriteString("usage: switchboard [command] [flags]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString("\nswitchboard CMD -h shows a command's flags.\n")
	return b.String()
}

// newFlags returns the flag set of a command, whose -h prints the command's
// summary and flags on stdout (help asked for is not an error); a bad flag is
// reported on stderr, followed by the same usage.
func newFlags(name string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	errs := &countingWriter{w: stderr}
	fs.SetOutput(errs)
	fs.Usage = func() {
		w := stdout
		if errs.n > 0 { // the flag package has just reported a bad flag there
			w = stderr
		}
		for _, c := range commands() {
			if c.name == name {
				fmt.Fprintf(w, "switchboard %s: %s\n\nflags:\n", name, c.summary)
			}
		}
		printFlags(w, fs)
	}
	return fs
}

// parseFlags parses a command's flags, which take no positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return nil
}

// printFlags is flag.PrintDefaults, except that a flag whose help already
// says its default ("default $VOIPBIN_PASSWORD") does not get the flag
// package's second one, which would show the environment's value: twice, and
// for a password or key, a secret on the screen.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		var b strings.Builder
		fmt.Fprintf(&b, "  -%s", f.Name)
		name, help := flag.UnquoteUsage(f)
		if name != "" {
			b.WriteString(" " + name)
		}
		b.WriteString("\n    \t" + strings.ReplaceAll(help, "\n", "\n    \t"))
		if !strings.Contains(help, "default") && !slices.Contains([]string{"", "0", "false", "0s"}, f.DefValue) {
			fmt.Fprintf(&b, " (default %q)", f.DefValue)
		}
		fmt.Fprintln(w, b.String())
	})
}

// countingWriter counts what is written through it.
type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += len(p)
	return c.w.Write(p)
}
