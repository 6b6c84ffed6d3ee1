package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// A due set holds things to do later, each once: the messages callers leave
// (flow.Outbox) and the callbacks they ask for (flow.Callbacks). Each item is
// an id and its JSON; it is due at a moment, claimed by one worker at a time
// under a lease, released with its progress (due again, or done), kept until
// its retention ends, and may be cancelled.
//
// In Redis every key of a set shares one hash tag, so that Redis Cluster
// keeps them on one shard and one script may touch them all:
//
//	sb:{<set>}:m:<id>   the item's JSON, kept for its retention
//	sb:{<set>}:due      ids not done, by when they are due (Unix ms)
//	sb:{<set>}:all      every id kept, by when it began, for listing
//	sb:{<set>}:x:<id>   present once the item was cancelled
//
// A claim is one script that takes the first due id that is not cancelled
// and moves it to now+lease: two replicas never hold the same item at once,
// and one that dies holding it lets it go when the lease runs out.
type dueSet interface {
	add(ctx context.Context, id string, raw []byte, due time.Time, at int64) (bool, error)
	claim(ctx context.Context, now time.Time, lease time.Duration) ([]byte, bool, error)
	release(ctx context.Context, id string, raw []byte, next time.Time, done bool, keep time.Duration) error
	list(ctx context.Context, n int) ([][]byte, error)
	cancel(ctx context.Context, id string) (bool, error)
	cancelled(ctx context.Context, id string) (bool, error)
	get(ctx context.Context, id string) ([]byte, bool, error)
}

// maxKeep bounds any retention, so the listing's index cannot grow forever.
const maxKeep = 366 * 24 * time.Hour

// firstKeep is how long an item is kept until its first release sets its retention.
const firstKeep = 24 * time.Hour

type redisDue struct {
	client redis.UniversalClient
	set    string
}

func (d redisDue) key(k string) string { return "sb:{" + d.set + "}:" + k }

var dueAddScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[6])
return 1
`)

func (d redisDue) add(ctx context.Context, id string, raw []byte, due time.Time, at int64) (bool, error) {
	n, err := dueAddScript.Run(ctx, d.client, []string{d.key("due"), d.key("all"), d.key("m:" + id)},
		raw, due.UnixMilli(), at, firstKeep.Milliseconds(), id, time.Now().Add(-maxKeep).UnixMilli()).Int()
	if err != nil {
		return false, fmt.Errorf("redis %s add %s: %w", d.set, id, err)
	}
	return n == 1, nil
}

var dueClaimScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 10)
for _, id in ipairs(ids) do
  local m = redis.call('GET', ARGV[3] .. 'm:' .. id)
  if m and redis.call('EXISTS', ARGV[3] .. 'x:' .. id) == 0 then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    return m
  end
  redis.call('ZREM', KEYS[1], id)
end
return false
`)

func (d redisDue) claim(ctx context.Context, now time.Time, lease time.Duration) ([]byte, bool, error) {
	raw, err := dueClaimScript.Run(ctx, d.client, []string{d.key("due")}, now.UnixMilli(), now.Add(lease).UnixMilli(), d.key("")).Text()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("redis %s claim: %w", d.set, err)
	}
	return []byte(raw), true, nil
}

var dueReleaseScript = redis.NewScript(`
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
if ARGV[2] == '-1' or redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('ZREM', KEYS[1], ARGV[4])
else
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
end
return 1
`)

func (d redisDue) release(ctx context.Context, id string, raw []byte, next time.Time, done bool, keep time.Duration) error {
	due := next.UnixMilli()
	if done {
		due = -1
	}
	keep = min(max(keep, time.Millisecond), maxKeep)
	if err := dueReleaseScript.Run(ctx, d.client, []string{d.key("due"), d.key("m:" + id), d.key("x:" + id)},
		raw, due, keep.Milliseconds(), id).Err(); err != nil {
		return fmt.Errorf("redis %s release %s: %w", d.set, id, err)
	}
	return nil
}

func (d redisDue) list(ctx context.Context, n int) ([][]byte, error) {
	ids, err := d.client.ZRevRange(ctx, d.key("all"), 0, int64(n)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("redis %s list: %w", d.set, err)
	}
	var out [][]byte
	for _, id := range ids {
		raw, err := d.client.Get(ctx, d.key("m:"+id)).Bytes()
		if errors.Is(err, redis.Nil) {
			continue // forgotten at the end of its retention
		}
		if err != nil {
			return nil, fmt.Errorf("redis %s list: %w", d.set, err)
		}
		out = append(out, raw)
	}
	return out, nil
}

var dueCancelScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('SET', KEYS[3], '1', 'PX', redis.call('PTTL', KEYS[2]))
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
`)

func (d redisDue) cancel(ctx context.Context, id string) (bool, error) {
	n, err := dueCancelScript.Run(ctx, d.client, []string{d.key("due"), d.key("m:" + id), d.key("x:" + id)}, id).Int()
	if err != nil {
		return false, fmt.Errorf("redis %s cancel %s: %w", d.set, id, err)
	}
	return n == 1, nil
}

// cancelled reports whether id was cancelled.
func (d redisDue) cancelled(ctx context.Context, id string) (bool, error) {
	n, err := d.client.Exists(ctx, d.key("x:"+id)).Result()
	if err != nil {
		return false, fmt.Errorf("redis %s cancelled %s: %w", d.set, id, err)
	}
	return n == 1, nil
}

func (d redisDue) get(ctx context.Context, id string) ([]byte, bool, error) {
	raw, err := d.client.Get(ctx, d.key("m:"+id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("redis %s get %s: %w", d.set, id, err)
	}
	return raw, true, nil
}

// memDue is a due set in one process.
type memDue struct {
	mu    sync.Mutex
	now   func() time.Time
	items map[string]*memItem
}

type memItem struct {
	raw       []byte
	due       time.Time // zero: done
	at        int64
	expires   time.Time
	cancelled bool
}

func newMemDue() *memDue { return &memDue{now: time.Now, items: map[string]*memItem{}} }

func (d *memDue) add(_ context.Context, id string, raw []byte, due time.Time, at int64) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sweep()
	if _, ok := d.items[id]; ok {
		return false, nil
	}
	d.items[id] = &memItem{raw: raw, due: due, at: at, expires: d.now().Add(firstKeep)}
	return true, nil
}

func (d *memDue) claim(_ context.Context, now time.Time, lease time.Duration) ([]byte, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sweep()
	var first *memItem
	for _, it := range d.items {
		if !it.cancelled && !it.due.IsZero() && !it.due.After(now) && (first == nil || it.due.Before(first.due)) {
			first = it
		}
	}
	if first == nil {
		return nil, false, nil
	}
	first.due = now.Add(lease)
	return first.raw, true, nil
}

func (d *memDue) release(_ context.Context, id string, raw []byte, next time.Time, done bool, keep time.Duration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	it := d.items[id]
	if it == nil {
		it = &memItem{}
		d.items[id] = it
	}
	it.raw, it.due, it.expires = raw, next, d.now().Add(keep)
	if done || it.cancelled {
		it.due = time.Time{}
	}
	return nil
}

func (d *memDue) list(_ context.Context, n int) ([][]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sweep()
	items := make([]*memItem, 0, len(d.items))
	for _, it := range d.items {
		items = append(items, it)
	}
	slices.SortFunc(items, func(a, b *memItem) int { return int(b.at - a.at) })
	var out [][]byte
	for _, it := range items[:min(n, len(items))] {
		out = append(out, it.raw)
	}
	return out, nil
}

func (d *memDue) cancel(_ context.Context, id string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	it := d.items[id]
	if it == nil {
		return false, nil
	}
	it.cancelled, it.due = true, time.Time{}
	return true, nil
}

func (d *memDue) cancelled(_ context.Context, id string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	it := d.items[id]
	return it != nil && it.cancelled, nil
}

func (d *memDue) sweep() {
	now := d.now()
	for id, it := range d.items {
		if !now.Before(it.expires) {
			delete(d.items, id)
		}
	}
}

func (d *memDue) get(_ context.Context, id string) ([]byte, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sweep()
	it := d.items[id]
	if it == nil {
		return nil, false, nil
	}
	return it.raw, true, nil
}
