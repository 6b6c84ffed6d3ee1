package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/sim"
)

// stepList collects --say and --press flags in the order given.
type stepList []sim.Step

func (l *stepList) sayer() func(string) error {
	return func(s string) error {
		if strings.TrimSpace(s) == "" {
			*l = append(*l, sim.Step{Silent: true})
		} else {
			*l = append(*l, sim.Step{Say: s})
		}
		return nil
	}
}

// runSimulate plays one VoIPBin call against a running server, the way the
// golden tests do, and prints what the caller hears and where they end up.
func runSimulate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var steps stepList
	fs := newFlags("simulate", stderr)
	url := fs.String("url", "http://localhost:3000", "the switchboard to call")
	lang := fs.String("lang", "", "the number's language (?lang=)")
	fs.Func("say", "what the caller says at the next pause (repeat; \"\" stays silent)", steps.sayer())
	fs.Func("press", "keys the caller presses at the menu (repeat)", func(s string) error {
		steps = append(steps, sim.Step{Press: s})
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	res, err := sim.Run(ctx, sim.Options{
		CallID: uuid.NewString(), Bases: []string{*url}, Token: getenv("SWITCHBOARD_FETCH_TOKEN"),
		Secret: getenv("VOIPBIN_WEBHOOK_SECRET"), Language: *lang,
	}, steps)
	if res != nil {
		fmt.Fprintln(stdout, strings.Join(res.Transcript, "\n"))
		fmt.Fprintf(stdout, "result: connected=%q fetches=%d actions=%d\n", res.Connected, res.Fetches, res.Actions)
	}
	return err
}
