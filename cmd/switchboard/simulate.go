package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
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
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://localhost:3000", "the switchboard to call")
	lang := fs.String("lang", "", "the number's language (?lang=)")
	fs.Func("say", "what the caller says at the next pause (repeat; \"\" stays silent)", steps.sayer())
	fs.Func("press", "keys the caller presses at the next key collection (repeat); KEYS@talk or KEYS@sleep presses them during the next talk or pause", func(s string) error {
		keys, during, _ := strings.Cut(s, "@")
		if keys == "" || during != "" && during != "talk" && during != "sleep" {
			return fmt.Errorf("want KEYS, KEYS@talk or KEYS@sleep, got %q", s)
		}
		steps = append(steps, sim.Step{Press: keys, During: during})
		return nil
	})
	dialled := fs.String("dialled", sim.DefaultDialled, "the number the caller dialled (the account owns it)")
	caller := fs.String("caller", sim.DefaultCaller, "the caller's number")
	var owned []string
	fs.Func("owned", "another number the account owns, accepted as caller ID (repeat)", func(s string) error {
		owned = append(owned, s)
		return nil
	})
	defaultOutgoing := fs.String("default-outgoing", "", "the account's default outgoing number (none by default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	res, err := sim.Run(ctx, sim.Options{
		CallID: uuid.NewString(), Bases: []string{*url}, Token: getenv("SWITCHBOARD_FETCH_TOKEN"),
		Secret: getenv("VOIPBIN_WEBHOOK_SECRET"), Language: *lang,
		Caller: *caller, Dialled: *dialled, Owned: owned, DefaultOutgoing: *defaultOutgoing,
	}, steps)
	if res != nil {
		fmt.Fprintln(stdout, strings.Join(res.Transcript, "\n"))
		fmt.Fprintln(stdout, res.Summary())
	}
	if err == nil && res.Connected == "" && !slices.ContainsFunc(steps, func(s sim.Step) bool { return s.Hangup }) {
		err = errors.New("the caller reached nobody")
	}
	return err
}
