package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/flow"
)

// Callbacks keeps the callbacks callers ask for (flow.Callbacks) in a due
// set (due.go): in Redis, shared by every replica, or in memory.
type Callbacks struct{ set dueSet }

var _ flow.Callbacks = (*Callbacks)(nil)

// Callbacks returns the store's callbacks; ns names a separate set (tests), production uses "".
func (r *Redis) Callbacks(ns string) *Callbacks { return &Callbacks{redisDue{r.client, "cbs" + ns}} }

// NewMemoryCallbacks returns the callbacks of one process.
func NewMemoryCallbacks() *Callbacks { return &Callbacks{newMemDue()} }

// Book implements flow.Callbacks.
func (s *Callbacks) Book(ctx context.Context, cb flow.Callback, due time.Time) (bool, error) {
	raw, err := json.Marshal(cb)
	if err != nil {
		return false, fmt.Errorf("book callback %s: %w", cb.ID, err)
	}
	return s.set.add(ctx, cb.ID, raw, due, cb.AtMS)
}

// Claim implements flow.Callbacks.
func (s *Callbacks) Claim(ctx context.Context, now time.Time, lease time.Duration) (flow.Callback, bool, error) {
	var cb flow.Callback
	raw, ok, err := s.set.claim(ctx, now, lease)
	if err != nil || !ok {
		return cb, false, err
	}
	if err := json.Unmarshal(raw, &cb); err != nil {
		return cb, false, fmt.Errorf("claim callback: %w", err)
	}
	return cb, true, nil
}

// Release implements flow.Callbacks.
func (s *Callbacks) Release(ctx context.Context, cb flow.Callback, next time.Time, keep time.Duration) error {
	raw, err := json.Marshal(cb)
	if err != nil {
		return fmt.Errorf("release callback %s: %w", cb.ID, err)
	}
	done := cb.State != flow.CallbackWaiting && cb.State != flow.CallbackDialling
	return s.set.release(ctx, cb.ID, raw, next, done, keep)
}

// Callbacks implements flow.Callbacks; a cancelled one shows as cancelled.
func (s *Callbacks) Callbacks(ctx context.Context, n int) ([]flow.Callback, error) {
	raws, err := s.set.list(ctx, n)
	if err != nil {
		return nil, err
	}
	out := make([]flow.Callback, 0, len(raws))
	for _, raw := range raws {
		var cb flow.Callback
		if err := json.Unmarshal(raw, &cb); err != nil {
			return nil, fmt.Errorf("list callbacks: %w", err)
		}
		if x, err := s.set.cancelled(ctx, cb.ID); err != nil {
			return nil, err
		} else if x && cb.State != flow.CallbackConnected {
			cb.State = flow.CallbackCancelled
		}
		out = append(out, cb)
	}
	return out, nil
}

// Cancel implements flow.Callbacks.
func (s *Callbacks) Cancel(ctx context.Context, id string) (bool, error) {
	return s.set.cancel(ctx, id)
}

// Get implements flow.Callbacks.
func (s *Callbacks) Get(ctx context.Context, id string) (flow.Callback, bool, error) {
	var cb flow.Callback
	raw, ok, err := s.set.get(ctx, id)
	if err != nil || !ok {
		return cb, false, err
	}
	if err := json.Unmarshal(raw, &cb); err != nil {
		return cb, false, fmt.Errorf("get callback %s: %w", id, err)
	}
	if x, err := s.set.cancelled(ctx, id); err != nil {
		return cb, false, err
	} else if x && cb.State != flow.CallbackConnected {
		cb.State = flow.CallbackCancelled
	}
	return cb, true, nil
}
