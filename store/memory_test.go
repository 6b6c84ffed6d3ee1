package store

import (
	"context"
	"flag"
	"fmt"
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
// Call, with storetest's mark window, as storetest asks.
var testExpiry = Expiry{Call: 10 * time.Minute, Ended: time.Minute, Marks: storetest.MarkWindow}

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
	if _, err := m.Resolve(ctx, "t"); err != flow.ErrNotFound {
		t.Errorf("Resolve after the link expired with its call: %v, want ErrNotFound", err)
	}
	now = now.Add(-testExpiry.Call)
	if err := m.Link(ctx, "t", ""); err != nil {
		t.Fatal(err)
	}
	now = now.Add(testExpiry.Ended)
	if _, err := m.Resolve(ctx, "t"); err != flow.ErrNotFound {
		t.Errorf("Resolve after the link expired: %v, want ErrNotFound", err)
	}
}

// TestMemorySweeps: expired calls and links leave memory by themselves, every
// 1024 writes, even when nobody asks for them again: a long-running process
// does not grow with every call it ever had.
func TestMemorySweeps(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(testExpiry)
	now := time.Unix(1700000000, 0)
	m.now = func() time.Time { return now }
	for i := range 600 {
		id := fmt.Sprint("old-", i)
		if _, _, err := m.Append(ctx, id, "k", flow.Input{Text: "hi"}); err != nil {
			t.Fatal(err)
		}
		if err := m.Link(ctx, "tr-"+id, id); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(testExpiry.Call + time.Second) // every one of them expired
	for i := range 1023 - 600 {
		if _, _, err := m.Append(ctx, "live", fmt.Sprint(i), flow.Input{Text: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	if len(m.calls) != 601 || len(m.links) != 600 {
		t.Fatalf("before the 1024th write: %d calls, %d links; want nothing swept yet", len(m.calls), len(m.links))
	}
	if _, _, err := m.Append(ctx, "live", "last", flow.Input{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if len(m.calls) != 1 || len(m.links) != 0 {
		t.Errorf("after the 1024th write: %d calls, %d links; want only the live call", len(m.calls), len(m.links))
	}
}
