package service

import (
	"context"
	"time"
)

// The workers that take what comes due from the store (the sender, the
// dialler, the timers) share one loop: poll calls drain at once and then
// every period until ctx ends, and drainDue claims until nothing is due.

// poll calls drain at once, then every period, until ctx ends.
func poll(ctx context.Context, every time.Duration, drain func(ctx context.Context)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		drain(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// drainDue claims what is due and acts on each until nothing is, ctx ends
// or the store fails (told to unreachable, and tried again at the next
// poll). It returns how many it claimed.
func drainDue[T any](ctx context.Context, claim func(context.Context) (T, bool, error), act func(T), unreachable func(error)) int {
	n := 0
	for ctx.Err() == nil {
		v, ok, err := claim(ctx)
		if err != nil {
			unreachable(err)
			return n
		}
		if !ok {
			return n
		}
		n++
		act(v)
	}
	return n
}
