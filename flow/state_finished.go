package flow

import "context"

// finished answers a turn on a call that is over (transferred or ended): it
// moves nothing. A line that can hang up does; on one that cannot, the
// request is the client asking again, and it gets the same transfer.
func (r *Router) finished(_ context.Context, c *Call, t *turn) decision {
	t.taken = len(t.inbox) // what reaches a call that is over is for nobody: take it out of the inbox
	// After hours: the same words again, and the same transfer if there was one.
	if !t.ch.HangsUp && c.Closed != "" && c.State != StateHandedBack {
		return decision{acts: r.routeClosed(c, c.Closed, c.Department, c.Reason, c.Sure).acts}
	}
	if !t.ch.HangsUp && c.Department != "" {
		return decision{acts: r.connect(c.Department, c.Language)}
	}
	if c.State == StateHandedBack { // the customer's flow fetched again: the same answer
		return decision{acts: r.handBack(c.Department, c.Closed, c.Reason, c.Sure)}
	}
	return decision{acts: []Action{{Kind: ActHangup}}}
}
