package flow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/looplab/fsm"
)

// States of a call. A call rests between turns in every state but
// classifying, which a turn passes through on its way to a decision.
const (
	StateGreeting    = "greeting"    // answered, not yet greeted
	StateListening   = "listening"   // greeted, waiting for the caller's request
	StateClarifying  = "clarifying"  // asked the caller to say more
	StateChecking    = "checking"    // asked whether the silent caller is still there
	StateHolding     = "holding"     // said "One moment, please."; the fetch that follows at once classifies
	StateClassifying = "classifying" // the caller's words are in: the classifiers decide
	StateMenu        = "menu"        // offered the keypad menu
	StateTransferred = "transferred" // connected to a department
	StateEnded       = "ended"       // the caller hung up, or heard that everyone is closed
	// States of the modes' openings and endings (see Mode).
	StateLanguage   = "language"    // offered a key per language
	StateEntry      = "entry"       // asked for a keypad entry (an account number) before the conversation
	StateKeypad     = "keypad"      // in a keypad tree, a menu on offer
	StateHandedBack = "handed_back" // routed, and handed back to the customer's own flow
)

// Events of the machine: every move a call makes. A state's handler decides
// which one to fire (see the state_*.go files); this table alone says which
// moves are legal.
const (
	EventAnswer   = "answer"   // greet the caller and listen
	EventWait     = "wait"     // nothing new: keep listening
	EventSilence  = "silence"  // silent too long: ask whether the caller is still there
	EventHold     = "hold"     // a slow classification ahead: say "One moment" and come back at once
	EventClassify = "classify" // the caller's words are in: classify them
	EventClarify  = "clarify"  // nobody is sure: ask the caller to say more
	EventMenu     = "menu"     // out of clarifications: offer the keypad
	EventRoute    = "route"    // a department is chosen: transfer
	EventHangup   = "hangup"   // the caller is gone
	// Events of the modes: which of them a call meets is its mode's configuration.
	EventOfferLanguages = "offer_languages" // a key per language
	EventAskEntry       = "ask_entry"       // the keypad entry before the conversation
	EventOpenKeypad     = "open_keypad"     // the keypad tree's first menu
	EventPress          = "press"           // a key in the keypad tree that keeps the caller in it
	EventHandBack       = "hand_back"       // a department is chosen: the customer's flow takes the call on
	// EventClosed: the chosen department and everyone after it are closed:
	// the caller hears so and the call ends (see hours.go).
	EventClosed = "closed"
)

// waiting are the states that wait for the caller's words.
var waiting = []string{StateListening, StateClarifying, StateChecking}

// live are the states of a call still with us: a department can be chosen in
// any of them (by a caller, or by a limit running out). All but classifying,
// which a turn passes through, can also see the caller hang up.
var live = []string{StateGreeting, StateLanguage, StateEntry, StateListening, StateClarifying, StateChecking,
	StateHolding, StateClassifying, StateMenu, StateKeypad}

var transitions = fsm.Events{
	{Name: EventOfferLanguages, Src: []string{StateGreeting}, Dst: StateLanguage},
	{Name: EventAskEntry, Src: []string{StateGreeting, StateLanguage}, Dst: StateEntry},
	{Name: EventOpenKeypad, Src: []string{StateGreeting, StateLanguage}, Dst: StateKeypad},
	{Name: EventPress, Src: []string{StateKeypad}, Dst: StateKeypad},
	{Name: EventAnswer, Src: []string{StateGreeting, StateLanguage, StateEntry}, Dst: StateListening},
	{Name: EventWait, Src: []string{StateListening}, Dst: StateListening},
	{Name: EventWait, Src: []string{StateClarifying}, Dst: StateClarifying},
	{Name: EventWait, Src: []string{StateChecking}, Dst: StateChecking},
	{Name: EventSilence, Src: []string{StateListening, StateClarifying}, Dst: StateChecking},
	{Name: EventHold, Src: waiting, Dst: StateHolding},
	{Name: EventClassify, Src: append([]string{StateHolding}, waiting...), Dst: StateClassifying},
	{Name: EventClarify, Src: []string{StateClassifying}, Dst: StateClarifying},
	{Name: EventMenu, Src: []string{StateClassifying}, Dst: StateMenu},
	{Name: EventRoute, Src: live, Dst: StateTransferred},
	{Name: EventHandBack, Src: live, Dst: StateHandedBack},
	{Name: EventClosed, Src: live, Dst: StateEnded},
	{Name: EventHangup, Src: append(slices.DeleteFunc(slices.Clone(live), func(s string) bool { return s == StateClassifying }),
		StateTransferred, StateHandedBack), Dst: StateEnded},
	// A caller who reaches nobody leaves a message or asks for a callback
	// (message.go, callback.go): everyone closed, or a handoff nobody took.
	{Name: EventTakeMessage, Src: append(slices.Clone(live), StateTransferred), Dst: StateOffer},
	{Name: EventRecord, Src: []string{StateOffer}, Dst: StateMessage},
	{Name: EventAskNumber, Src: []string{StateOffer, StateCallback}, Dst: StateCallback},
	{Name: EventClosed, Src: []string{StateMessage, StateCallback}, Dst: StateEnded},
	{Name: EventHangup, Src: []string{StateOffer, StateMessage, StateCallback}, Dst: StateEnded},
}

// newMachine builds the machine at a state; it keeps nothing between
// requests but that state, which each turn sets from the stored call. It has no callbacks: the decision is made, with any I/O
// it needs, before the event is fired.
func newMachine(state string) *fsm.FSM {
	return fsm.NewFSM(state, transitions, nil)
}

// machines recycles built machines: building one costs more than the rest of
// a turn's decision (the transition table's maps), and a machine carries no
// call's data but its current state, which a turn sets before its first event.
var machines = sync.Pool{New: func() any { return newMachine(StateGreeting) }}

// fire moves c's machine m by event, or fails when the table has no such move.
// ctx must not be cancelled by the turn's time budget (see step).
// A self-transition (waiting while listening) is a legal move, not an error.
func fire(ctx context.Context, m *fsm.FSM, c *Call, event string) error {
	err := m.Event(ctx, event)
	var same fsm.NoTransitionError
	if err != nil && !errors.As(err, &same) {
		return fmt.Errorf("call %s: %s in state %s: %w", c.ID, event, c.State, err)
	}
	c.State = m.Current()
	return nil
}

// target is where event leads from state, or "" when the table has no such move.
func target(state, event string) string {
	for _, t := range transitions {
		for _, src := range t.Src {
			if t.Name == event && src == state {
				return t.Dst
			}
		}
	}
	return ""
}

// over reports whether a call in state needs no more turns.
func over(state string) bool {
	return state == StateTransferred || state == StateEnded || state == StateHandedBack
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
