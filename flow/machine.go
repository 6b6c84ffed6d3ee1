package flow

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/looplab/fsm"
)

// States of a call.
const (
	StateGreeting    = "greeting"    // answered, not yet greeted
	StateListening   = "listening"   // greeted, waiting for the caller's request
	StateClarifying  = "clarifying"  // asked the caller to say more
	StateMenu        = "menu"        // offered the keypad menu
	StateTransferred = "transferred" // connected to a department
	StateEnded       = "ended"       // the caller hung up
)

// Events of the machine. The router decides first (priority lane, vague rule,
// classifier, keypad) and then fires exactly one of these.
const (
	EventAnswer  = "answer"  // greet the caller
	EventWait    = "wait"    // nothing new: keep listening, or ask whether they are still there
	EventClarify = "clarify" // too short or unclear: ask again
	EventMenu    = "menu"    // out of clarifications: offer the keypad
	EventRoute   = "route"   // a department is chosen
	EventHangup  = "hangup"  // the caller is gone
)

var transitions = fsm.Events{
	{Name: EventAnswer, Src: []string{StateGreeting}, Dst: StateListening},
	{Name: EventWait, Src: []string{StateListening}, Dst: StateListening},
	{Name: EventWait, Src: []string{StateClarifying}, Dst: StateClarifying},
	{Name: EventClarify, Src: []string{StateListening, StateClarifying}, Dst: StateClarifying},
	{Name: EventMenu, Src: []string{StateListening, StateClarifying}, Dst: StateMenu},
	{Name: EventRoute, Src: []string{StateGreeting, StateListening, StateClarifying, StateMenu}, Dst: StateTransferred},
	{Name: EventHangup, Src: []string{StateGreeting, StateListening, StateClarifying, StateMenu, StateTransferred}, Dst: StateEnded},
}

// newMachine rebuilds the machine at a call's stored state; it keeps nothing
// between requests. Callbacks do no I/O: the decision is made before the event.
func newMachine(state string) *fsm.FSM {
	return fsm.NewFSM(state, transitions, nil)
}

// machines recycles built machines: building one costs more than the rest of
// a turn's decision (the transition table's maps), and a machine carries no
// call's data but its current state, which fire sets before every event.
var machines = sync.Pool{New: func() any { return newMachine(StateGreeting) }}

// fire moves c's machine by event. A self-transition (waiting while listening)
// is a legal move, not an error.
func fire(ctx context.Context, c *Call, event string) error {
	m := machines.Get().(*fsm.FSM)
	defer machines.Put(m)
	m.SetState(c.State)
	// The step itself does no I/O; a spent time budget must not stop it, or
	// a caller whose classification used the whole budget would lose the route.
	err := m.Event(context.WithoutCancel(ctx), event)
	var same fsm.NoTransitionError
	if err != nil && !errors.As(err, &same) {
		return fmt.Errorf("call %s: %s in state %s: %w", c.ID, event, c.State, err)
	}
	c.State = m.Current()
	return nil
}

// Diagram renders the call flow as a Mermaid state diagram, generated from the
// machine itself so the README cannot drift from the code.
func Diagram() (string, error) {
	return fsm.VisualizeWithType(newMachine(StateGreeting), fsm.MERMAID)
}

// DiagramDOT renders the call flow in Graphviz DOT (dot -Tsvg).
func DiagramDOT() (string, error) {
	return fsm.VisualizeWithType(newMachine(StateGreeting), fsm.GRAPHVIZ)
}
