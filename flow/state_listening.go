package flow

import (
	"context"
	"strings"
)

// listening is the policy of a call waiting for the caller's words, at first
// (listening) or after a clarifying question (clarifying). New words go to
// classifying, or at once to on-call when they hold a priority word; words
// whose decision is still being made on their arrival are waited for in a
// short pause. Nothing new: keep listening, in short pauses while the caller
// speaks, and after dialog.silence_ms ask whether the caller is still there.
// Silence is the listening time we handed the platform, not our clock, so a
// simulated call behaves like a real one.
func (r *Router) listening(ctx context.Context, c *Call, t *turn) decision {
	if d, ok := r.awaiting(c, t); ok {
		return d
	}
	if d, ok := r.heard(ctx, c, t, !t.OnWords); ok {
		return d
	}
	if t.OnWords {
		return decision{}
	}
	if t.ch.Fetches && c.SilenceMS >= r.cfg.Dialog.SilenceMS {
		c.SilenceMS = 0
		return r.listen(c, EventSilence, r.cfg.TextsFor(c.Language).StillThere, r.cfg.Dialog.AnswerMS)
	}
	return r.wait(c, t)
}

// checking is the policy of a call asked whether the caller is still there:
// words are heard as in listening; as long a silence again gives up to the
// fallback desk.
func (r *Router) checking(ctx context.Context, c *Call, t *turn) decision {
	if d, ok := r.awaiting(c, t); ok {
		return d
	}
	if d, ok := r.heard(ctx, c, t, !t.OnWords); ok {
		return d
	}
	if t.OnWords {
		return decision{}
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
	c.HeardMS, c.Acked = max(t.heardAt, c.HeardMS), false
	if r.urgent(ctx, words) {
		return r.transfer(c, Emergency, "priority"), true
	}
	if d, ok := r.answerReturning(c, words); ok {
		return d, true
	}
	if hold && t.ch.Fetches && r.slow(c.Turns) {
		return r.listen(c, EventHold, r.cfg.TextsFor(c.Language).Acknowledge, 0), true
	}
	return decision{event: EventClassify}, true
}

// awaiting answers a fetch that finds the caller's words still unread while
// the turn that arrived with them may yet be deciding: a short pause, and
// "One moment, please." once when that takes a while. Words older than the
// decision's budget and a margin lost their decision (its replica died, its
// store failed): the fetch decides on them itself. So is a word that came in
// while an earlier decision waited for its fetch, and had none of its own.
func (r *Router) awaiting(c *Call, t *turn) (decision, bool) {
	if t.OnWords || !t.ch.Fetches {
		return decision{}, false
	}
	var first int64
	for _, in := range t.inbox[t.taken:] {
		if in.Text != "" && !in.Hangup && in.At > c.WordsFromMS {
			first = in.At
			break
		}
	}
	if first == 0 {
		return decision{}, false
	}
	age := r.now().UnixMilli() - first
	if age >= int64(r.cfg.LLM.BudgetMS+decisionMarginMS) {
		return decision{}, false
	}
	c.SilenceMS = 0
	text := ""
	if age >= int64(r.cfg.Dialog.AcknowledgeAfterMS) && !c.Acked {
		c.Acked, text = true, r.cfg.TextsFor(c.Language).Acknowledge
	}
	return r.listen(c, EventWait, text, r.cfg.Dialog.QuickMS), true
}

// decisionMarginMS is how much longer than its budget a decision on the
// caller's words may take to reach the store before a fetch takes it over.
const decisionMarginMS = 1000

// speakingForMS is how long after their speech started a caller counts as
// still speaking when its end has not been heard: a caller's answer is a
// few seconds, and a lost end must not keep the pauses short for long.
// finalWithinMS is how long after the end of their speech the caller's
// final words are expected: VoIPBin sends both for the same recognizer
// result, on goroutines of their own, so either may come first.
const (
	speakingForMS = 8000
	finalWithinMS = 1000
)

// speaking reports whether the caller's words are near: they speak, or have
// just stopped and their final words are on the way. Speech that ended by
// the time their last words taken arrived, or started before, was theirs.
func (r *Router) speaking(c *Call) bool {
	v := c.Voice
	age := r.now().UnixMilli() - v.AtMS
	switch {
	case v.AtMS == 0 || v.AtMS < c.HeardMS:
		return false
	case v.Ended:
		return v.AtMS > c.HeardMS && age < finalWithinMS
	}
	return age < speakingForMS
}

// wait keeps listening: in short pauses while the caller speaks, for their
// words and our answer are near, else in long ones, which spend the action
// budget slowly: the first silent one rounds the silence up to whole
// listen_ms, so that a silent caller is asked whether they are still there
// after as many pauses, and as much silence, as with listen_ms pauses alone.
// A line that does not come back by itself has nobody to wait for: a turn
// without words there goes to the fallback desk.
func (r *Router) wait(c *Call, t *turn) decision {
	if !t.ch.Fetches {
		return r.transfer(c, r.cfg.Fallback.Destination, "silence")
	}
	if r.speaking(c) {
		c.SilenceMS = 0 // not silent: speaking
		return r.listen(c, EventWait, "", r.cfg.Dialog.QuickMS)
	}
	listen := r.cfg.Dialog.ListenMS
	return r.listen(c, EventWait, "", listen+(listen-c.SilenceMS%listen)%listen)
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
