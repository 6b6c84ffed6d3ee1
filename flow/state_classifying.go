package flow

import "context"

// classifying is the policy of a call whose words are in: a confident
// classifier routes it; otherwise ask again while clarifications remain, then
// offer the keypad where there is one, else give up to the fallback desk.
func (r *Router) classifying(ctx context.Context, c *Call, t *turn) decision {
	if t.corrected && len(t.latest) > 0 {
		// A correction ("actually no, ...") says what the caller wants now:
		// a department the local classifier is sure of from it alone wins.
		if v, err := r.local.Classify(ctx, t.latest); err == nil {
			if dept := r.confident(v); dept != "" {
				c.recordDecision(v, "local")
				return r.route(c, dept, "local", v.Confidence)
			}
		}
	}
	v, by := r.classifyOnce(ctx, c, t)
	c.recordDecision(v, by)
	if v.Department == AskedPerson && v.Confidence >= r.cfg.LLM.MinConfidence && v.Confidence-v.RunnerUp >= r.cfg.LLM.MinMargin {
		return r.transfer(c, r.cfg.personDesk(), "person")
	}
	if dept := r.confident(v); dept != "" {
		return r.route(c, dept, by, v.Confidence)
	}
	texts := r.cfg.TextsFor(c.Language)
	limit := r.cfg.Dialog.MaxClarifications
	if !t.ch.Remembers {
		limit = 0 // the next request would not know the question was asked
	}
	if c.Clarifications < limit {
		text := texts.Clarify[min(c.Clarifications, len(texts.Clarify)-1)]
		c.Clarifications++
		return r.listen(c, EventClarify, text, r.cfg.Dialog.AnswerMS)
	}
	if !t.ch.Keypad {
		return r.transfer(c, r.cfg.Fallback.Destination, "unsure")
	}
	return r.offerMenu(c)
}
