package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchboard/switchboard/flow"
)

// Messages callers left, until the business has been told (flow.Outbox).
//
// In Redis every key of an outbox shares one hash tag, so that Redis Cluster
// keeps them on one shard and one script may touch them all (messages are
// few: one per caller who reached nobody):
//
//	sb:{msgs<ns>}:m:<id>   the flow.Message as JSON, kept for the retention
//	sb:{msgs<ns>}:due      ids not yet delivered, by when they are due (Unix ms)
//	sb:{msgs<ns>}:all      every id kept, by when the call began, for listing
//
// A claim is one script that takes the first due id and moves it to
// now+lease: two replicas never hold the same message at once, and one that
// dies holding it lets it go when the lease runs out.

// RedisOutbox is the Outbox of a Redis store.
type RedisOutbox struct {
	client redis.UniversalClient
	ns     string
}

var _ flow.Outbox = (*RedisOutbox)(nil)

// Outbox returns the store's outbox. ns names a separate one (tests); production uses "".
func (r *Redis) Outbox(ns string) *RedisOutbox { return &RedisOutbox{client: r.client, ns: ns} }

func (o *RedisOutbox) key(k string) string { return "sb:{msgs" + o.ns + "}:" + k }

var leaveScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[6])
return 1
`)

// Leave implements flow.Outbox.
func (o *RedisOutbox) Leave(ctx context.Context, m flow.Message, due time.Time) (bool, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return false, fmt.Errorf("redis leave message %s: %w", m.ID, err)
	}
	// Kept a day at first; the sender's Release sets the retention.
	keep := 24 * time.Hour
	n, err := leaveScript.Run(ctx, o.client, []string{o.key("due"), o.key("all"), o.key("m:" + m.ID)},
		raw, due.UnixMilli(), m.AtMS, keep.Milliseconds(), m.ID, time.Now().Add(-maxKeep).UnixMilli()).Int()
	if err != nil {
		return false, fmt.Errorf("redis leave message %s: %w", m.ID, err)
	}
	return n == 1, nil
}

// maxKeep bounds any retention, so the listing's index cannot grow forever.
const maxKeep = 366 * 24 * time.Hour

var claimScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 10)
for _, id in ipairs(ids) do
  local m = redis.call('GET', ARGV[3] .. id)
  if m then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    return m
  end
  redis.call('ZREM', KEYS[1], id)
end
return false
`)

// Claim implements flow.Outbox.
func (o *RedisOutbox) Claim(ctx context.Context, now time.Time, lease time.Duration) (flow.Message, bool, error) {
	raw, err := claimScript.Run(ctx, o.client, []string{o.key("due")}, now.UnixMilli(), now.Add(lease).UnixMilli(), o.key("m:")).Text()
	if errors.Is(err, redis.Nil) {
		return flow.Message{}, false, nil
	}
	if err != nil {
		return flow.Message{}, false, fmt.Errorf("redis claim message: %w", err)
	}
	var m flow.Message
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return flow.Message{}, false, fmt.Errorf("redis claim message: %w", err)
	}
	return m, true, nil
}

var releaseScript = redis.NewScript(`
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
if ARGV[2] == '-1' then redis.call('ZREM', KEYS[1], ARGV[4]) else redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4]) end
return 1
`)

// Release implements flow.Outbox.
func (o *RedisOutbox) Release(ctx context.Context, m flow.Message, next time.Time, keep time.Duration) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("redis release message %s: %w", m.ID, err)
	}
	due := int64(-1)
	if m.DoneMS == 0 {
		due = next.UnixMilli()
	}
	keep = min(max(keep, time.Millisecond), maxKeep)
	if err := releaseScript.Run(ctx, o.client, []string{o.key("due"), o.key("m:" + m.ID)}, raw, due, keep.Milliseconds(), m.ID).Err(); err != nil {
		return fmt.Errorf("redis release message %s: %w", m.ID, err)
	}
	return nil
}

// Messages implements flow.Outbox.
func (o *RedisOutbox) Messages(ctx context.Context, n int) ([]flow.Message, error) {
	ids, err := o.client.ZRevRange(ctx, o.key("all"), 0, int64(n)-1).Result()
	if err != nil || len(ids) == 0 {
		return nil, wrapList(err)
	}
	var out []flow.Message
	for _, id := range ids { // one key at a time: Cluster refuses a cross-slot MGET, and these share one slot anyway
		raw, err := o.client.Get(ctx, o.key("m:"+id)).Bytes()
		if errors.Is(err, redis.Nil) {
			continue // forgotten at the end of its retention
		}
		if err != nil {
			return nil, wrapList(err)
		}
		var m flow.Message
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, wrapList(err)
		}
		out = append(out, m)
	}
	return out, nil
}

func wrapList(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("redis list messages: %w", err)
}

// MemoryOutbox is the Outbox of one process.
type MemoryOutbox struct {
	mu   sync.Mutex
	now  func() time.Time
	msgs map[string]*memMessage
}

type memMessage struct {
	m       flow.Message
	due     time.Time // zero: delivered
	expires time.Time
}

var _ flow.Outbox = (*MemoryOutbox)(nil)

// NewMemoryOutbox returns an empty outbox.
func NewMemoryOutbox() *MemoryOutbox {
	return &MemoryOutbox{now: time.Now, msgs: map[string]*memMessage{}}
}

// Leave implements flow.Outbox.
func (o *MemoryOutbox) Leave(_ context.Context, m flow.Message, due time.Time) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sweep()
	if _, ok := o.msgs[m.ID]; ok {
		return false, nil
	}
	o.msgs[m.ID] = &memMessage{m: m, due: due, expires: o.now().Add(24 * time.Hour)}
	return true, nil
}

// Claim implements flow.Outbox.
func (o *MemoryOutbox) Claim(_ context.Context, now time.Time, lease time.Duration) (flow.Message, bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sweep()
	var first *memMessage
	for _, mm := range o.msgs {
		if !mm.due.IsZero() && !mm.due.After(now) && (first == nil || mm.due.Before(first.due)) {
			first = mm
		}
	}
	if first == nil {
		return flow.Message{}, false, nil
	}
	first.due = now.Add(lease)
	return first.m, true, nil
}

// Release implements flow.Outbox.
func (o *MemoryOutbox) Release(_ context.Context, m flow.Message, next time.Time, keep time.Duration) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	mm := &memMessage{m: m, due: next, expires: o.now().Add(keep)}
	if m.DoneMS != 0 {
		mm.due = time.Time{}
	}
	o.msgs[m.ID] = mm
	return nil
}

// Messages implements flow.Outbox.
func (o *MemoryOutbox) Messages(_ context.Context, n int) ([]flow.Message, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sweep()
	var out []flow.Message
	for _, mm := range o.msgs {
		out = append(out, mm.m)
	}
	slices.SortFunc(out, func(a, b flow.Message) int { return int(b.AtMS - a.AtMS) })
	return out[:min(n, len(out))], nil
}

// sweep forgets messages past their retention.
func (o *MemoryOutbox) sweep() {
	now := o.now()
	for id, mm := range o.msgs {
		if !now.Before(mm.expires) {
			delete(o.msgs, id)
		}
	}
}
