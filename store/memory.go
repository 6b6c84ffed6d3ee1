// Package store keeps Switchboard's calls between requests: Memory for a single
// process (development, tests, evaluation) and Redis for production, where any
// number of replicas share the calls. Both serve the flow's turn loop
// (flow.Calls) and its caller events (flow.Inbox), and pass the same
// conformance suite in storetest.
package store

import (
	"context"
	"sync"
	"time"

	"github.com/switchboard/switchboard/flow"
)

// Expiry says how long a store keeps what it writes.
type Expiry struct {
	Call  time.Duration // a live call, from its last write
	Ended time.Duration // a call that was transferred or hung up
	Marks time.Duration // transcribe links and event de-duplication marks
}

// DefaultExpiry keeps a live call 30 minutes after its last write (Dialogflow
// CX's session default), an ended one 5 minutes, marks a day.
var DefaultExpiry = Expiry{Call: 30 * time.Minute, Ended: 5 * time.Minute, Marks: 24 * time.Hour}

// Memory keeps calls in process memory. It serves one process only: two
// replicas with a Memory store each would split a call's turns.
type Memory struct {
	mu     sync.Mutex
	exp    Expiry
	now    func() time.Time
	calls  map[string]*memCall
	links  map[string]expiring
	marks  map[string]time.Time
	writes int
}

type memCall struct {
	call    flow.Call
	inbox   []flow.Input
	expires time.Time
}

type expiring struct {
	value   string
	expires time.Time
}

// Memory serves both of the flow's views of a store.
var (
	_ flow.Calls = (*Memory)(nil)
	_ flow.Inbox = (*Memory)(nil)
)

// NewMemory returns an empty Memory store.
func NewMemory(exp Expiry) *Memory {
	return &Memory{exp: exp, now: time.Now, calls: map[string]*memCall{}, links: map[string]expiring{}, marks: map[string]time.Time{}}
}

// Load implements flow.Calls.
func (m *Memory) Load(_ context.Context, id string) (flow.Call, []flow.Input, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mc := m.live(id)
	if mc == nil {
		return flow.Call{ID: id}, nil, nil
	}
	c := mc.call
	c.Turns = append([]string(nil), c.Turns...)
	return c, append([]flow.Input(nil), mc.inbox...), nil
}

// Save implements flow.Calls.
func (m *Memory) Save(_ context.Context, c flow.Call, taken int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	mc := m.live(c.ID)
	if mc == nil {
		mc = &memCall{}
	}
	if mc.call.Version != c.Version {
		return flow.ErrConflict
	}
	c.Version++
	c.Turns = append([]string(nil), c.Turns...)
	mc.call = c
	mc.inbox = mc.inbox[min(max(taken, 0), len(mc.inbox)):]
	mc.expires = m.now().Add(m.exp.Call)
	if c.Over() {
		mc.expires = m.now().Add(m.exp.Ended)
	}
	m.calls[c.ID] = mc
	m.sweep()
	return nil
}

// Append implements flow.Inbox.
func (m *Memory) Append(_ context.Context, id, key string, in flow.Input) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	mark := markKey(id, key) // per call, like Redis's marks
	if exp, seen := m.marks[mark]; seen && now.Before(exp) {
		return false, nil
	}
	m.marks[mark] = now.Add(m.exp.Marks)
	mc := m.live(id)
	if mc == nil {
		mc = &memCall{call: flow.Call{ID: id}}
		m.calls[id] = mc
	}
	mc.inbox = append(mc.inbox, in)
	mc.expires = now.Add(m.exp.Call)
	if in.Hangup {
		mc.expires = now.Add(m.exp.Ended)
	}
	m.sweep()
	return true, nil
}

// Link implements flow.Inbox.
func (m *Memory) Link(_ context.Context, transcribeID, callID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.links[transcribeID] = expiring{callID, m.now().Add(m.exp.Marks)}
	return nil
}

// Resolve implements flow.Inbox.
func (m *Memory) Resolve(_ context.Context, transcribeID string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.links[transcribeID]
	if !ok || !m.now().Before(l.expires) {
		return "", flow.ErrNotFound
	}
	return l.value, nil
}

// Ping reports whether the store can be reached; memory always is.
func (m *Memory) Ping(context.Context) error { return nil }

func (m *Memory) live(id string) *memCall {
	mc := m.calls[id]
	if mc == nil || !m.now().Before(mc.expires) && !mc.expires.IsZero() {
		delete(m.calls, id)
		return nil
	}
	return mc
}

// sweep drops expired entries now and then, so a long-running process does not
// grow without bound. Called with mu held.
func (m *Memory) sweep() {
	m.writes++
	if m.writes%1024 != 0 {
		return
	}
	now := m.now()
	for id, mc := range m.calls {
		if !now.Before(mc.expires) {
			delete(m.calls, id)
		}
	}
	for k, l := range m.links {
		if !now.Before(l.expires) {
			delete(m.links, k)
		}
	}
	for k, exp := range m.marks {
		if !now.Before(exp) {
			delete(m.marks, k)
		}
	}
}
