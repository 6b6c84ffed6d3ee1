package flow

import "context"

// greeting answers a new call with the first state of its mode's opening: for
// a conversation, transcribe the caller, greet them and listen; else offer
// languages, ask for a keypad entry or play the keypad tree's first menu.
// Words already in the inbox stay there for the first turn that listens.
func (r *Router) greeting(_ context.Context, c *Call, _ *turn) decision {
	return r.openNext(c)
}
