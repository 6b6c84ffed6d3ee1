package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store"
)

// runCallbacks lists the callbacks (switchboard callbacks), or cancels one (--cancel ID).
func runCallbacks(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("callbacks", stdout, stderr)
	redisURL := fs.String("redis", getenv("REDIS_URL"), "the Redis the service keeps its callbacks in (default $REDIS_URL)")
	cancelID := fs.String("cancel", "", "cancel the callback of this call id: it is not dialled again")
	nowID := fs.String("now", "", "dial the callback of this call id now rather than at the department's opening")
	n := fs.Int("n", 50, "how many to list, newest first")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *redisURL == "" {
		return errors.New("callbacks: REDIS_URL (or --redis) is needed: the callbacks are kept in Redis")
	}
	r, err := store.OpenRedis(ctx, *redisURL, store.DefaultExpiry)
	if err != nil {
		return err
	}
	defer r.Close()
	cbs := r.Callbacks("")
	if *cancelID != "" {
		ok, err := cbs.Cancel(ctx, *cancelID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("callbacks: no callback %s", *cancelID)
		}
		_, err = fmt.Fprintf(stdout, "cancelled %s: it will not be dialled again\n", *cancelID)
		return err
	}
	if *nowID != "" {
		cb, ok, err := cbs.Get(ctx, *nowID)
		if err != nil {
			return err
		}
		if !ok || cb.State != flow.CallbackWaiting {
			return fmt.Errorf("callbacks: no waiting callback %s (state %q)", *nowID, cb.State)
		}
		if err := cbs.Release(ctx, cb, time.Now(), 30*24*time.Hour); err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s is due now: a replica's dialler places it within a second\n", *nowID)
		return err
	}
	list, err := cbs.Callbacks(ctx, *n)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CALL\tDEPARTMENT\tNUMBER\tCALLED\tDUE\tSTATE\tTRIES\tLAST OUTCOME")
	for _, cb := range list {
		last := ""
		if k := len(cb.Outcomes); k > 0 {
			last = cb.Outcomes[k-1]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", cb.ID, cb.Department, cb.Number, stamp(time.UnixMilli(cb.AtMS)),
			stamp(time.UnixMilli(cb.DueMS)), cb.State, cb.Attempts, last)
	}
	return tw.Flush()
}

// stamp is a moment as the list shows it.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
