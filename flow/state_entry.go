package flow

import (
	"context"
	"strings"
)

// entry is the policy of a call asked for a keypad entry (an account number)
// before the conversation: whatever was typed, or nothing, goes into the
// audit record, masked, and the conversation begins.
func (r *Router) entry(_ context.Context, c *Call, t *turn) decision {
	c.recordPress(t.Digits)
	if strings.TrimSpace(t.Digits) == KeyOperator {
		return r.transfer(c, r.cfg.personDesk(), "person")
	}
	return r.openNext(c)
}
