// Package store keeps Switchboard's calls between requests: Memory for a single
// process (development, tests, evaluation) and Redis for production, where any
// number of replicas share the calls. Both serve the flow's turn loop
// (flow.Calls) and its caller events (flow.Inbox), and pass the same
// conformance suite in storetest.
package store

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/switchboard/switchboard/flow"
)

// Expiry says how long a store keeps what it writes. A call's inbox and its
// de-duplication marks live and die with the call.
type Expiry struct {
	Call  time.Duration // a live call, from its last write; a transcribe link, from when it was made
	Ended time.Duration // a call that was transferred or hung up; a transcribe unlinked when its call left us
	// Marks is how long an event's de-duplication key is remembered even
	// beyond the last flow.MaxMarks (see flow.Inbox.Append).
	Marks time.Duration
}

// DefaultExpiry keeps a live call 30 minutes after its last write (Dialogflow
// CX's session default), an ended one 5 minutes, and an event's
// de-duplication key at least 2 minutes (VoIPBin retries within seconds).
// A transcribe link lives as long as a live call, since the call it names
// outlives it by no more; so a flood of links for one call ends with it.
var DefaultExpiry = Expiry{Call: 30 * time.Minute, Ended: 5 * time.Minute, Marks: 2 * time.Minute}

// Memory keeps calls in process memory. It serves one process only: two
// replicas with a Memory store each would split a call's turns.
type Memory struct {
	mu     sync.Mutex
	exp    Expiry
	now    func() time.Time
	calls  map[string]*memCall
	links  map[string]expiring
	writes int
}

var _ flow.Store = (*Memory)(nil)

type memCall struct {
	call    flow.Call
	inbox   []flow.Input
	dropped int64  // inputs dropped from the inbox, ever
	seen    []mark // de-duplication keys, oldest first (see flow.Inbox.Append)
	voices  map[string]flow.VoiceActivity
	expires time.Time
}

type mark struct {
	key string
	at  time.Time
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
	return &Memory{exp: exp.withDefaults(), now: time.Now, calls: map[string]*memCall{}, links: map[string]expiring{}}
}

// SetClock makes m tell the time by now: the times it stamps, the clock
// Load returns, expiries. A simulated call on its own clock sets it, so
// that the service sees the time VoIPBin would let pass.
func (m *Memory) SetClock(now func() time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = now
}

// Load implements flow.Calls.
func (m *Memory) Load(_ context.Context, id string) (flow.Call, []flow.Input, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mc := m.live(id)
	if mc == nil {
		return flow.Call{ID: id, NowMS: m.now().UnixMilli()}, nil, nil
	}
	c := mc.call
	c.NowMS = m.now().UnixMilli()
	c.Turns = append([]string(nil), c.Turns...)
	c.InboxDropped = mc.dropped
	c.Voices = maps.Clone(mc.voices)
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
	c.Voices = nil // the store's, not the call's
	mc.call = c
	// Inputs dropped since Load were among the ones it returned.
	taken -= int(mc.dropped - c.InboxDropped)
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
func (m *Memory) Append(_ context.Context, id, key string, in flow.Input) (bool, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	mc := m.live(id)
	if mc == nil {
		mc = &memCall{call: flow.Call{ID: id}}
		m.calls[id] = mc
	}
	if mc.call.Left() {
		return false, 0, flow.ErrLeft
	}
	if slices.ContainsFunc(mc.seen, func(k mark) bool { return k.key == key }) {
		return false, 0, nil
	}
	mc.seen = append(mc.seen, mark{key, now})
	// Beyond the last MaxMarks, keys older than the window go; beyond
	// MaxMarksHard, the oldest whatever their age.
	forget := 0
	for forget < len(mc.seen)-flow.MaxMarks && now.Sub(mc.seen[forget].at) > m.exp.Marks {
		forget++
	}
	forget = max(forget, len(mc.seen)-flow.MaxMarksHard)
	if forget > 0 {
		mc.seen = append(mc.seen[:0], mc.seen[forget:]...)
	}
	if in.At == 0 {
		in.At = now.UnixMilli()
	}
	mc.inbox = append(mc.inbox, in)
	dropped := max(len(mc.inbox)-flow.MaxInbox, 0)
	if dropped > 0 {
		mc.inbox = append(mc.inbox[:0], mc.inbox[dropped:]...)
		mc.dropped += int64(dropped)
	}
	mc.expires = now.Add(m.exp.Call)
	if in.Hangup {
		mc.expires = now.Add(m.exp.Ended)
	}
	m.sweep()
	return true, dropped, nil
}

// Speaking implements flow.Inbox.
func (m *Memory) Speaking(_ context.Context, id, session string, v flow.VoiceActivity) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	mc := m.live(id)
	if mc == nil {
		mc = &memCall{call: flow.Call{ID: id}, expires: m.now().Add(m.exp.Call)}
		m.calls[id] = mc
	}
	if mc.call.Left() {
		return flow.ErrLeft
	}
	if v.AtMS == 0 {
		v.AtMS = m.now().UnixMilli()
	}
	if mc.voices == nil {
		mc.voices = map[string]flow.VoiceActivity{}
	}
	mc.voices[session] = v // they live as long as the call itself
	m.sweep()
	return nil
}

// Link implements flow.Inbox.
func (m *Memory) Link(_ context.Context, transcribeID, callID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if l, ok := m.links[transcribeID]; ok && callID != "" && l.value == "" && now.Before(l.expires) {
		return flow.ErrLeft
	}
	ttl := m.exp.Call
	if callID == "" {
		ttl = m.exp.Ended
	}
	m.links[transcribeID] = expiring{callID, now.Add(ttl)}
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
}
