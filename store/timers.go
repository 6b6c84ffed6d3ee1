package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchboard/switchboard/flow"
)

// Timers keeps the handoffs' timers (flow.Timers): in Redis, shared by every
// replica, or in memory. A timer is small and lives for a ring time, so it
// is the member of one sorted set, scored by when it is due (Unix ms):
//
//	sb:{timers}<ns>:due   each timer's JSON, by when it is due
//
// A claim moves the timer it takes to now+lease in one script, so two
// replicas never hold it at once; Done removes it.
type Timers struct {
	redis redis.UniversalClient // nil: in memory
	key   string

	mu  sync.Mutex
	mem map[string]time.Time
}

var _ flow.Timers = (*Timers)(nil)

// Timers returns the store's handoff timers; ns names a separate set (tests), production uses "".
func (r *Redis) Timers(ns string) *Timers {
	return &Timers{redis: r.client, key: "sb:{timers" + ns + "}:due"}
}

// NewMemoryTimers returns the timers of one process.
func NewMemoryTimers() *Timers { return &Timers{mem: map[string]time.Time{}} }

// Set implements flow.Timers.
func (s *Timers) Set(ctx context.Context, t flow.Timer) error {
	raw, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("set timer: %w", err)
	}
	if s.redis == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.mem[string(raw)]; !ok {
			s.mem[string(raw)] = time.UnixMilli(t.AtMS)
		}
		return nil
	}
	if err := s.redis.ZAddNX(ctx, s.key, redis.Z{Score: float64(t.AtMS), Member: raw}).Err(); err != nil {
		return fmt.Errorf("redis set timer: %w", err)
	}
	return nil
}

var timerClaimScript = redis.NewScript(`
local t = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1)
if #t == 0 then return false end
redis.call('ZADD', KEYS[1], ARGV[2], t[1])
return t[1]
`)

// Claim implements flow.Timers.
func (s *Timers) Claim(ctx context.Context, now time.Time, lease time.Duration) (flow.Timer, bool, error) {
	var t flow.Timer
	var raw string
	if s.redis == nil {
		s.mu.Lock()
		for k, due := range s.mem {
			if !due.After(now) {
				raw, s.mem[k] = k, now.Add(lease)
				break
			}
		}
		s.mu.Unlock()
		if raw == "" {
			return t, false, nil
		}
	} else {
		var err error
		raw, err = timerClaimScript.Run(ctx, s.redis, []string{s.key}, now.UnixMilli(), now.Add(lease).UnixMilli()).Text()
		if errors.Is(err, redis.Nil) {
			return t, false, nil
		}
		if err != nil {
			return t, false, fmt.Errorf("redis claim timer: %w", err)
		}
	}
	if err := json.Unmarshal([]byte(raw), &t); err != nil {
		// Not ours to read: forgotten, rather than claimed again forever.
		_ = s.done(ctx, raw)
		return t, false, fmt.Errorf("claim timer %q: %w", raw, err)
	}
	return t, true, nil
}

// Done implements flow.Timers.
func (s *Timers) Done(ctx context.Context, t flow.Timer) error {
	raw, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("timer done: %w", err)
	}
	return s.done(ctx, string(raw))
}

func (s *Timers) done(ctx context.Context, raw string) error {
	if s.redis == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.mem, raw)
		return nil
	}
	if err := s.redis.ZRem(ctx, s.key, raw).Err(); err != nil {
		return fmt.Errorf("redis timer done: %w", err)
	}
	return nil
}
