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

// Callers remembers callers' last calls (flow.Callers) under a hash of their
// number, each for as long as configured: in Redis as sb:{v:<hash>}, or in memory.
type Callers struct {
	client redis.UniversalClient // nil: in memory
	mu     sync.Mutex
	mem    map[string]memVisit
	now    func() time.Time
}

type memVisit struct {
	v       flow.Visit
	expires time.Time
}

var _ flow.Callers = (*Callers)(nil)

// Callers returns the store's callers.
func (r *Redis) Callers() *Callers { return &Callers{client: r.client} }

// NewMemoryCallers returns the callers of one process.
func NewMemoryCallers() *Callers { return &Callers{mem: map[string]memVisit{}, now: time.Now} }

func visitKey(key string) string { return "sb:{v:" + key + "}" }

// Remember implements flow.Callers.
func (s *Callers) Remember(ctx context.Context, key string, v flow.Visit, keep time.Duration) error {
	if s.client == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.mem[key] = memVisit{v, s.now().Add(keep)}
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("remember caller: %w", err)
	}
	if err := s.client.Set(ctx, visitKey(key), raw, max(keep, time.Millisecond)).Err(); err != nil {
		return fmt.Errorf("redis remember caller: %w", err)
	}
	return nil
}

// Recall implements flow.Callers.
func (s *Callers) Recall(ctx context.Context, key string) (flow.Visit, bool, error) {
	var v flow.Visit
	if s.client == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		mv, ok := s.mem[key]
		if !ok || !s.now().Before(mv.expires) {
			delete(s.mem, key)
			return v, false, nil
		}
		return mv.v, true, nil
	}
	raw, err := s.client.Get(ctx, visitKey(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return v, false, nil
	}
	if err != nil {
		return v, false, fmt.Errorf("redis recall caller: %w", err)
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, false, fmt.Errorf("recall caller: %w", err)
	}
	return v, true, nil
}
