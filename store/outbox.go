package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/flow"
)

// Outbox keeps the messages callers leave until the business has been told
// (flow.Outbox), in a due set (due.go): in Redis, shared by every replica, or
// in memory.
type Outbox struct{ set dueSet }

var _ flow.Outbox = (*Outbox)(nil)

// Outbox returns the store's outbox; ns names a separate one (tests), production uses "".
func (r *Redis) Outbox(ns string) *Outbox { return &Outbox{redisDue{r.client, "msgs" + ns}} }

// NewMemoryOutbox returns an empty outbox of one process.
func NewMemoryOutbox() *Outbox { return &Outbox{newMemDue()} }

// Leave implements flow.Outbox.
func (o *Outbox) Leave(ctx context.Context, m flow.Message, due time.Time) (bool, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return false, fmt.Errorf("leave message %s: %w", m.ID, err)
	}
	return o.set.add(ctx, m.ID, raw, due, m.AtMS)
}

// Claim implements flow.Outbox.
func (o *Outbox) Claim(ctx context.Context, now time.Time, lease time.Duration) (flow.Message, bool, error) {
	var m flow.Message
	raw, ok, err := o.set.claim(ctx, now, lease)
	if err != nil || !ok {
		return m, false, err
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, false, fmt.Errorf("claim message: %w", err)
	}
	return m, true, nil
}

// Release implements flow.Outbox.
func (o *Outbox) Release(ctx context.Context, m flow.Message, next time.Time, keep time.Duration) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("release message %s: %w", m.ID, err)
	}
	return o.set.release(ctx, m.ID, raw, next, m.DoneMS != 0, keep)
}

// Messages implements flow.Outbox.
func (o *Outbox) Messages(ctx context.Context, n int) ([]flow.Message, error) {
	raws, err := o.set.list(ctx, n)
	if err != nil {
		return nil, err
	}
	out := make([]flow.Message, 0, len(raws))
	for _, raw := range raws {
		var m flow.Message
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("list messages: %w", err)
		}
		out = append(out, m)
	}
	return out, nil
}
