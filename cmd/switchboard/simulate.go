package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
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
	flowFile := fs.String("flow", "", "the number's VoIPBin flow, a JSON array of actions (YOUR_TOKEN stands for the fetch token); default [answer, fetch]")
	if err := fs.Parse(args); err != nil {
		return err
	}
	numberFlow, err := readFlow(*flowFile, getenv("SWITCHBOARD_FETCH_TOKEN"))
	if err != nil {
		return err
	}
	res, err := sim.Run(ctx, sim.Options{
		CallID: uuid.NewString(), Bases: []string{*url}, Token: getenv("SWITCHBOARD_FETCH_TOKEN"),
		Secret: getenv("VOIPBIN_WEBHOOK_SECRET"), Language: *lang,
		Caller: *caller, Dialled: *dialled, Owned: owned, DefaultOutgoing: *defaultOutgoing, Flow: numberFlow,
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

// readFlow reads a number's VoIPBin flow for the simulator: a JSON array of
// actions, YOUR_TOKEN standing for the fetch token. An empty name is no flow.
func readFlow(file, token string) ([]json.RawMessage, error) {
	if file == "" {
		return nil, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	var acts []json.RawMessage
	if err := json.Unmarshal(bytes.ReplaceAll(b, []byte("YOUR_TOKEN"), []byte(url.QueryEscape(token))), &acts); err != nil {
		return nil, fmt.Errorf("simulate: %s: want a JSON array of VoIPBin actions: %w", file, err)
	}
	return acts, nil
}
