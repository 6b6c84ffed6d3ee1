package flow

import (
	"context"
	"strings"
)

// listening is the policy of a call waiting for the caller's words, at first
// (listening) or after a clarifying question (clarifying). New words go to
// classifying, or at once to on-call when they hold a priority word. Nothing
// new: keep listening, and after dialog.silence_ms ask whether the caller is
// still there. Silence is the listening time we handed the platform, not our
// clock, so a simulated call behaves like a real one.
func (r *Router) listening(ctx context.Context, c *Call, t *turn) decision {
	if d, ok := r.heard(ctx, c, t, true); ok {
		return d
	}
	if t.ch.Fetches && c.SilenceMS >= r.cfg.Dialog.SilenceMS {
		c.SilenceMS = 0
		return r.listen(c, EventSilence, r.cfg.TextsFor(c.Language).StillThere, r.cfg.Dialog.ListenMS)
	}
	return r.wait(c, t)
}

// checking is the policy of a call asked whether the caller is still there:
// words are heard as in listening; as long a silence again gives up to the
// fallback desk.
func (r *Router) checking(ctx context.Context, c *Call, t *turn) decision {
	if d, ok := r.heard(ctx, c, t, true); ok {
		return d
	}
	if c.SilenceMS >= r.cfg.Dialog.SilenceMS {
		return r.transfer(c, r.cfg.Fallback.Destination, "silence")
	}
	return r.wait(c, t)
}

// holding is the policy of a call told "One moment, please.": classify now,
// with any words that arrived meanwhile (the priority lane first).
func (r *Router) holding(ctx context.Context, c *Call, t *turn) decision {
	if d, ok := r.heard(ctx, c, t, false); ok {
		return d
	}
	return decision{event: EventClassify}
}

// heard takes the caller's new words into the call. Priority words go to
// on-call at once; other words are classified, first with a short "One moment"
// when hold allows it, the line can come back at once, and the model, which
// these words will reach, has lately been slow (the seed's third pitfall: a
// caller left in silence wonders whether the line dropped). It reports false
// when there were no new words.
func (r *Router) heard(ctx context.Context, c *Call, t *turn, hold bool) (decision, bool) {
	words := r.callerWords(c, t)
	if len(words) == 0 {
		return decision{}, false
	}
	c.Turns = append(c.Turns, words...)
	if len(c.Turns) > maxTurns {
		c.Turns = c.Turns[len(c.Turns)-maxTurns:]
	}
	c.SilenceMS = 0
	if r.urgent(ctx, words) {
		return r.transfer(c, Emergency, "priority"), true
	}
	if hold && t.ch.Fetches && r.slow(c.Turns) {
		return r.listen(c, EventHold, r.cfg.TextsFor(c.Language).Acknowledge, 0), true
	}
	return decision{event: EventClassify}, true
}

// wait keeps listening. A line that does not come back by itself has nobody
// to wait for: a turn without words there goes to the fallback desk.
func (r *Router) wait(c *Call, t *turn) decision {
	if !t.ch.Fetches {
		return r.transfer(c, r.cfg.Fallback.Destination, "silence")
	}
	return r.listen(c, EventWait, "", r.cfg.Dialog.ListenMS)
}

// urgent reports whether the caller's words page on-call at once (the rule in
// priority.go): a priority phrase always does; a lone priority word does
// unless the words clearly ask another department.
func (r *Router) urgent(ctx context.Context, words []string) bool {
	sig := r.cfg.prioritySignal(strings.Join(words, " "))
	if len(sig) != 1 {
		return sig != nil
	}
	v, err := r.local.Classify(ctx, words)
	dept := ""
	if err == nil {
		dept = r.confident(v)
	}
	return dept == "" || dept == Emergency
}
