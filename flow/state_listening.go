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
		if in.Text != "" && !in.Hangup && in.At > c.WordsFromMS && c.hears(in) {
			first = in.At
			break
		}
	}
	if first == 0 {
		return decision{}, false
	}
	age := c.NowMS - first
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

// hears reports whether words count as the caller's on c: once its
// language is settled, a transcription in another language heard nothing
// to decide on (see callerWords), and no decision is on its way for them.
func (c *Call) hears(in Input) bool {
	lang := c.Sessions[in.Session]
	return !c.LanguageSet || lang == "" || lang == c.Language
}

// decisionMarginMS is how much longer than its budget a decision on the
// caller's words may take to reach the store before a fetch takes it over.
const decisionMarginMS = 1000

// quietMS is how long after a transcription's last interim result its
// speech counts as over by itself: VoIPBin publishes speech started and an
// interim event for every interim result its recognizer returns while the
// caller speaks, several a second (bin-transcribe-manager streaminghandler,
// resultProcessor.process), so a lost or late end, or a start delivered
// after its end, keeps the pauses short for this long at most.
// finalWithinMS is how long after the end of their speech the caller's
// final words are expected: VoIPBin sends both for the same recognizer
// result, on goroutines of their own, so either may come first.
const (
	quietMS       = 1500
	finalWithinMS = 1000
)

// speaking reports whether the caller's words are near by any of the call's
// transcriptions: one hears them speak, or heard them stop just now, their
// final words on the way. Activity from before the last words taken
// arrived was theirs.
func (r *Router) speaking(c *Call) bool {
	for _, v := range c.Voices {
		age := c.NowMS - v.AtMS
		switch {
		case v.AtMS == 0 || v.AtMS < c.HeardMS:
		case v.Ended:
			if v.AtMS > c.HeardMS && age < finalWithinMS {
				return true
			}
		case age < quietMS:
			return true
		}
	}
	return false
}

// wait keeps listening: in short pauses while the caller speaks, for their
// words and our answer are near, else in long ones, which spend the action
// budget slowly: the first silent one rounds the silence up to whole
// listen_ms, so that a silent caller is asked whether they are still there
// after as many pauses as with listen_ms pauses alone. Every pause counts as
// silence until words arrive, short ones too, and none takes the silence past
// dialog.silence_ms: whatever the speech events said (a start without its
// end, events out of order), a silent caller is asked whether they are still
// there when the configured silence is up, never later. A line that does not
// come back by itself has nobody to wait for: a turn without words there
// goes to the fallback desk.
func (r *Router) wait(c *Call, t *turn) decision {
	if !t.ch.Fetches {
		return r.transfer(c, r.cfg.Fallback.Destination, "silence")
	}
	listen, pause := r.cfg.Dialog.ListenMS, r.cfg.Dialog.QuickMS
	if !r.speaking(c) {
		pause = listen + (listen-c.SilenceMS%listen)%listen
	}
	if left := r.cfg.Dialog.SilenceMS - c.SilenceMS; left > 0 && left < pause {
		pause = left
	}
	return r.listen(c, EventWait, "", pause)
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
