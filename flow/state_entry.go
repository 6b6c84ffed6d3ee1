package flow

import "context"

// entry is the policy of a call asked for a keypad entry (an account number)
// before the conversation: whatever was typed, or nothing, goes into the
// audit record, masked, and the conversation begins.
func (r *Router) entry(_ context.Context, c *Call, t *turn) decision {
	c.recordPress(t.Digits)
	return r.openNext(c)
}
