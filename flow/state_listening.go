package flow

import "context"

// listening is the policy of a call waiting for the caller's words, at first
// (listening) or after a clarifying question (clarifying). New words go to
// classifying, or at once to on-call when they hold a priority word; words
// whose decision is still being made on their arrival are waited for in a
// short pause. Nothing new: keep listening, in short pauses while the caller
// speaks, and after dialog.silence_ms ask whether the caller is still there.
// Silence is the listening time we handed the platform, not our clock, so a
// simulated call behaves like a real one.
func (r *Router) listening(ctx context.Context, c *Call, t *turn) decision {
	if d, ok := r.awaiting(ctx, c, t); ok {
		return d
	}
	if d, ok := r.heard(ctx, c, t); ok {
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
	if d, ok := r.awaiting(ctx, c, t); ok {
		return d
	}
	if d, ok := r.heard(ctx, c, t); ok {
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

// holding is the policy of a call told "One moment, please." and fetched at
// once (a call saved so by an earlier version): classify now, with any words
// that arrived meanwhile (the priority lane first).
func (r *Router) holding(ctx context.Context, c *Call, t *turn) decision {
	if d, ok := r.heard(ctx, c, t); ok {
		return d
	}
	return decision{event: EventClassify}
}

// heard takes the caller's new words into the call. Priority words go to
// on-call at once; other words are classified. It reports false when there
// were no new words.
func (r *Router) heard(ctx context.Context, c *Call, t *turn) (decision, bool) {
	words := r.callerWords(c, t)
	if len(words) == 0 {
		return decision{}, false
	}
	c.Turns = append(c.Turns, words...)
	t.latest = words
	if len(c.Turns) > maxTurns {
		c.Turns = c.Turns[len(c.Turns)-maxTurns:]
	}
	c.SilenceMS = 0
	c.HeardMS, c.Acked, c.RestartedMS = max(t.heardAt, c.HeardMS), false, 0
	if r.urgent(c.Turns) {
		return r.transfer(c, Emergency, "priority"), true
	}
	if rest, ok := r.cfg.askedPerson(c.Turns, c.Language); ok {
		return r.toPerson(ctx, c, rest), true
	}
	if d, ok := r.answerReturning(c, words); ok {
		return d, true
	}
	return decision{event: EventClassify}, true
}

// awaiting answers a fetch that finds the caller's words unread, for the
// model's time is the words' and never a fetch's (see FetchBudget). While a
// decision on them may be on its way (the turn that arrived with them, or
// one this call's fetch started), a short pause, and "One moment, please."
// once when that takes a while. When none is (the words came while the call
// could not decide, or their decision was lost: older than its budget and a
// margin, its replica died or its store failed), the fetch starts one in the
// background and pauses; if that one is lost too, the fetch decides itself,
// with the local classifier. Priority words never wait: the fetch takes them.
func (r *Router) awaiting(ctx context.Context, c *Call, t *turn) (decision, bool) {
	if t.OnWords || !t.ch.Fetches {
		return decision{}, false
	}
	var oldest, first int64
	var words []string
	for _, in := range t.inbox[t.taken:] {
		if in.Text == "" || in.Hangup || !c.hears(in) {
			continue
		}
		words = append(words, in.Text)
		if oldest == 0 {
			oldest = in.At
		}
		if first == 0 && in.At > c.WordsFromMS {
			first = in.At // its own turn arrived while the call waited: it decides
		}
	}
	if len(words) == 0 {
		return decision{}, false
	}
	since := max(first, c.RestartedMS) // when the decision on the way began
	if since == 0 || c.NowMS-since >= int64(r.cfg.LLM.BudgetMS+decisionMarginMS) {
		if c.RestartedMS != 0 || r.urgent(words) {
			return decision{}, false // the fetch decides
		}
		c.RestartedMS, t.restart = c.NowMS, true
	}
	c.SilenceMS = 0
	text := ""
	if c.NowMS-oldest >= int64(r.cfg.Dialog.AcknowledgeAfterMS) && !c.Acked {
		c.Acked, text = true, r.cfg.TextsFor(c.Language).Acknowledge
	}
	return r.listen(c, EventWait, text, r.cfg.Dialog.QuickMS), true
}

// hears reports whether words count as the caller's on c: once its
// language is settled, a transcription in another language heard nothing
// to decide on (see callerWords), and no decision is on its way for them.
func (c *Call) hears(in Input) bool { return c.listensTo(in.Session) }

// listensTo reports whether what transcription session hears counts: all
// do until the caller's language is settled, then those in it (or of no
// known language).
func (c *Call) listensTo(session string) bool {
	lang := c.Sessions[session]
	return !c.LanguageSet || lang == "" || lang == c.Language
}

// decisionMarginMS is how much longer than its budget a decision on the
// caller's words may take to reach the store before a fetch takes it over.
const decisionMarginMS = 1000

// quietMS is how long after a transcription's last interim result its
// speech counts as over by itself: VoIPBin publishes speech started and an
// interim event for every interim result the provider returns while the
// caller's words come (bin-transcribe-manager streaminghandler,
// resultProcessor.process; gcp.go asks for InterimResults, aws.go passes
// its partial results), at the provider's pace, with no cadence of its own;
// so a lost or late end, or a start delivered after its end, keeps the
// pauses short for this long at most, and a caller who stops mid-sentence
// gets a long pause, which costs nothing: their words come when they come.
// finalWithinMS is how long after the end of their speech the caller's
// final words are expected: VoIPBin sends both for the same recognizer
// result, on goroutines of their own, so either may come first.
const (
	quietMS       = 2000
	finalWithinMS = 1000
)

// Speaking reports whether the caller's words are near by any of the call's
// transcriptions it listens to, as of its load (NowMS): one hears them speak,
// or heard them stop just now, their final words on the way. Activity from
// before the last words taken arrived was theirs.
func (c *Call) Speaking() bool {
	for session, v := range c.Voices {
		age := c.NowMS - v.AtMS
		switch {
		case v.AtMS == 0 || v.AtMS < c.HeardMS || !c.listensTo(session):
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
	if !c.Speaking() {
		pause = listen + (listen-c.SilenceMS%listen)%listen
	}
	if left := r.cfg.Dialog.SilenceMS - c.SilenceMS; left > 0 && left < pause {
		pause = left
	}
	return r.listen(c, EventWait, "", pause)
}

// urgent reports whether the caller's words page on-call: any of them holds
// a priority signal (the rule in priority.go). Nothing is weighed against it.
func (r *Router) urgent(words []string) bool {
	for _, w := range words {
		if r.cfg.IsPriority(w) {
			return true
		}
	}
	return false
}
