package flow

import (
	"context"
	"errors"
	"fmt"
	"slices"

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
	// States of the modes' openings and endings (see Mode).
	StateLanguage   = "language"    // offered a key per language
	StateEntry      = "entry"       // asked for a keypad entry (an account number) before the conversation
	StateKeypad     = "keypad"      // in a keypad tree, a menu on offer
	StateHandedBack = "handed_back" // routed, and handed back to the customer's own flow
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
	// Events of the modes: which of them a call meets is its mode's configuration.
	EventOfferLanguages = "offer_languages" // a key per language
	EventAskEntry       = "ask_entry"       // the keypad entry before the conversation
	EventOpenKeypad     = "open_keypad"     // the keypad tree's first menu
	EventPress          = "press"           // a key in the keypad tree that keeps the caller in it
	EventHandBack       = "hand_back"       // a department is chosen; the customer's flow takes the call on
)

// live are the states of a call still with us: a department can be chosen in any.
var live = []string{StateGreeting, StateLanguage, StateEntry, StateListening, StateClarifying, StateMenu, StateKeypad}

var transitions = fsm.Events{
	{Name: EventOfferLanguages, Src: []string{StateGreeting}, Dst: StateLanguage},
	{Name: EventAskEntry, Src: []string{StateGreeting, StateLanguage}, Dst: StateEntry},
	{Name: EventOpenKeypad, Src: []string{StateGreeting, StateLanguage}, Dst: StateKeypad},
	{Name: EventPress, Src: []string{StateKeypad}, Dst: StateKeypad},
	{Name: EventAnswer, Src: []string{StateGreeting, StateLanguage, StateEntry}, Dst: StateListening},
	{Name: EventWait, Src: []string{StateListening}, Dst: StateListening},
	{Name: EventWait, Src: []string{StateClarifying}, Dst: StateClarifying},
	{Name: EventClarify, Src: []string{StateListening, StateClarifying}, Dst: StateClarifying},
	{Name: EventMenu, Src: []string{StateListening, StateClarifying}, Dst: StateMenu},
	{Name: EventRoute, Src: live, Dst: StateTransferred},
	{Name: EventHandBack, Src: live, Dst: StateHandedBack},
	{Name: EventHangup, Src: append(slices.Clone(live), StateTransferred, StateHandedBack), Dst: StateEnded},
}

// newMachine rebuilds the machine at a call's stored state; it keeps nothing
// between requests. Callbacks do no I/O: the decision is made before the event.
func newMachine(state string) *fsm.FSM {
	return fsm.NewFSM(state, transitions, nil)
}

// fire moves c's machine by event. A self-transition (waiting while listening)
// is a legal move, not an error.
func fire(ctx context.Context, c *Call, event string) error {
	m := newMachine(c.State)
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
