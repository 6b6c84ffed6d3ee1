package store

import (
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store/storetest"
)

// The store has no golden files; it accepts -update so that
// go test ./... -update runs over every package.
var _ = flag.Bool("update", false, "no golden files here")

func TestMemory(t *testing.T) {
	m := NewMemory(testExpiry)
	storetest.Run(t, func(*testing.T) storetest.Store { return memoryTTLs{m} })
}

// testExpiry is short, to keep a shared Redis tidy, and keeps Ended below
// Call and Links as storetest asks.
var testExpiry = Expiry{Call: 10 * time.Minute, Ended: time.Minute, Links: 20 * time.Minute}

// memoryTTLs lets storetest check Memory's expiries.
type memoryTTLs struct{ *Memory }

func (m memoryTTLs) TTLs(_ context.Context, prefix string) (map[string]time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	ttls := map[string]time.Duration{}
	for id, mc := range m.calls {
		if strings.HasPrefix(id, prefix) {
			ttls["call "+id] = mc.expires.Sub(now)
			if len(mc.seen) > 0 {
				ttls["marks "+id] = mc.expires.Sub(now) // kept in the call itself
			}
		}
	}
	for id, l := range m.links {
		if strings.HasPrefix(id, prefix) {
			ttls["link "+id] = l.expires.Sub(now)
		}
	}
	return ttls, nil
}

func TestMemoryExpires(t *testing.T) {
	now := time.Unix(1700000000, 0)
	m := NewMemory(testExpiry)
	m.now = func() time.Time { return now }
	ctx := t.Context()
	if _, _, err := m.Append(ctx, "c", "k", flow.Input{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Link(ctx, "t", "c"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(testExpiry.Call)
	if _, inbox, _ := m.Load(ctx, "c"); len(inbox) != 0 {
		t.Errorf("inbox %v survived its expiry", inbox)
	}
	if added, _, _ := m.Append(ctx, "c", "k", flow.Input{Text: "hi"}); !added {
		t.Errorf("an event retried after its call expired was not added: its mark outlived the call")
	}
	now = now.Add(testExpiry.Links)
	if _, err := m.Resolve(ctx, "t"); err != flow.ErrNotFound {
		t.Errorf("Resolve after the link expired: %v, want ErrNotFound", err)
	}
}
