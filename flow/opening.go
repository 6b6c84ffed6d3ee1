package flow

import (
	"context"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// A mode is a configuration of the machine's states, not a branch of the
// flow: it chooses which states a call passes through after the greeting
// (its opening) and which event ends it (route, or hand_back for a
// flow-step mode). Each of those states has one handler (state_*.go).

// opening is the states a call of mode m passes through after the greeting,
// in order; the last one (listening or keypad) is where it gets routed from.
// A call whose language is settled (by its number's ?lang=, or by the key
// just pressed) is not offered languages.
func (m *Mode) opening(c *Call) []string {
	var states []string
	if len(m.Languages) > 1 && m.LanguageBy == LanguageByKeypad && !c.LanguageSet {
		states = append(states, StateLanguage)
	}
	if m.Kind == KindHybrid {
		states = append(states, StateEntry)
	}
	if m.Kind == KindKeypad {
		return append(states, StateKeypad)
	}
	return append(states, StateListening)
}

// enterEvents is the event that moves a call into each opening state.
var enterEvents = map[string]string{
	StateLanguage:  EventOfferLanguages,
	StateEntry:     EventAskEntry,
	StateKeypad:    EventOpenKeypad,
	StateListening: EventAnswer,
}

// openNext decides the move from the greeting, or from the opening state c is
// in, to the next state of its mode's opening, with what the caller hears there.
func (r *Router) openNext(c *Call) decision {
	m := r.modeOf(c)
	states := m.opening(c)
	next := states[0]
	if i := slices.Index(states, c.State); i >= 0 && i+1 < len(states) {
		next = states[i+1]
	}
	d := decision{event: enterEvents[next]}
	switch next {
	case StateLanguage:
		d.acts = []Action{{Kind: ActForgetKeys}}
		for i, lang := range m.Languages {
			text := strings.ReplaceAll(r.cfg.TextsFor(lang).ChooseLanguage, "{key}", strconv.Itoa(i+1))
			d.acts = append(d.acts, Action{Kind: ActTalk, Text: text, Language: lang})
		}
		d.acts = append(d.acts, Action{Kind: ActMenu, Millis: r.cfg.Dialog.MenuMS})
	case StateEntry:
		text, lang := m.Entry.PromptIn(c.Language, r.modeLanguage(m))
		d.acts = []Action{
			{Kind: ActForgetKeys},
			{Kind: ActTalk, Text: text, Language: lang},
			{Kind: ActMenu, Millis: m.Entry.TimeoutMS, Length: m.Entry.MaxDigits},
		}
	case StateKeypad:
		c.Menu, c.MenuTries = []string{m.Keypad.Start}, 0
		if start := m.Keypad.MenuAt(c.Menu); start.Language != "" && !c.LanguageSet {
			c.Language = start.Language // a tree that starts in its own language
		}
		d.acts = r.keypadMenu(c, m, "")
	default:
		// Listening: transcribe the caller and greet them. A call that detects
		// its language transcribes in each language it serves and greets in
		// each; the caller's first words settle which one it goes on in.
		langs := []string{c.Language}
		if detecting(c, m) {
			langs = m.Languages
		}
		for _, lang := range langs {
			d.acts = append(d.acts, Action{Kind: ActTranscribe, Language: lang})
		}
		for _, lang := range langs {
			d.acts = append(d.acts, Action{Kind: ActTalk, Text: r.greetingFor(c, lang), Language: lang})
		}
		d.acts = append(d.acts, Action{Kind: ActListen, Millis: r.cfg.Dialog.AnswerMS})
	}
	return d
}

// detecting reports whether c's language is still to be told from its words.
func detecting(c *Call, m *Mode) bool {
	return m.LanguageBy == LanguageBySpeech && len(m.Languages) > 1 && !c.LanguageSet
}

// heardWords is one utterance and the transcription that heard it.
type heardWords struct {
	text, session string
}

// callerWords takes the caller's words that arrived for c since the last turn,
// and those the request carries, clipped. A call that detects its language
// hears each utterance once per language: its first words settle the language
// (each transcription's words scored with its own language's cue words), and
// from then on only that language's transcription counts.
func (r *Router) callerWords(c *Call, t *turn) []string {
	m := r.modeOf(c)
	if t.OnWords && detecting(c, m) && !everyTranscriptionHeard(c, t.inbox[t.taken:]) && !r.priorityUnread(t) {
		// One transcription's words alone cannot tell the language: the
		// turn that brings the last of them decides (or, if one never
		// comes, the fetch once they are overdue).
		return nil
	}
	var heard []heardWords
	for _, in := range t.inbox[t.taken:] {
		t.heardAt = max(t.heardAt, in.At)
		switch {
		case in.Hangup:
		case in.Text == "" && in.Session != "":
			c.noteSession(m, in)
		default:
			if w := Clip(in.Text); w != "" {
				heard = append(heard, heardWords{w, in.Session})
			}
		}
	}
	t.taken = len(t.inbox)
	if detecting(c, m) && len(heard) > 0 {
		byLang, all := map[string]string{}, ""
		for _, h := range heard {
			byLang[c.Sessions[h.session]] += " " + h.text
			all += " " + h.text
		}
		for _, lang := range m.Languages {
			if byLang[lang] == "" {
				byLang[lang] = all // not heard by its own transcription (yet): the words as another heard them
			}
		}
		if best := detectLanguage(byLang, m.Languages); best != "" {
			c.Language = best
		}
		c.LanguageSet = true
	}
	var words []string
	for _, h := range heard {
		if lang := c.Sessions[h.session]; lang == "" || lang == c.Language {
			words = append(words, h.text)
		}
	}
	if len(words) == 0 && slices.ContainsFunc(heard, func(h heardWords) bool { return r.cfg.IsPriority(h.text) }) {
		// Priority words heard by another language's transcription, the
		// caller's own yet to come: they page now.
		for _, h := range heard {
			words = append(words, h.text)
		}
	}
	if w := Clip(t.Words); w != "" {
		words = append(words, w)
		t.Words = ""
	}
	return words
}

// priorityUnread reports whether the turn's unread words hold a priority
// signal: they page at once, whatever language they turn out to be in.
func (r *Router) priorityUnread(t *turn) bool {
	for _, in := range t.inbox[t.taken:] {
		if in.Text != "" && r.cfg.IsPriority(in.Text) {
			return true
		}
	}
	return false
}

// everyTranscriptionHeard reports whether each transcription of a call that
// detects its language has delivered words among inbox.
func everyTranscriptionHeard(c *Call, inbox []Input) bool {
	heard, sessions := map[string]bool{}, map[string]string{}
	maps.Copy(sessions, c.Sessions)
	for _, in := range inbox {
		switch {
		case in.Text != "":
			heard[in.Session] = true
		case in.Session != "" && in.Lang != "":
			sessions[in.Session] = in.Lang // started, not yet noted
		}
	}
	for session := range sessions {
		if !heard[session] {
			return false
		}
	}
	return len(heard) > 0
}

// maxTranscribes bounds Call.Transcribes: a call runs one transcription, or
// one per language it detects among.
const maxTranscribes = 8

// noteTranscribe remembers a transcription session of the call, so that it
// can be stopped and unlinked when the call leaves us.
func (c *Call) noteTranscribe(session string) {
	if !slices.Contains(c.Transcribes, session) && len(c.Transcribes) < maxTranscribes {
		c.Transcribes = append(c.Transcribes, session)
	}
}

// noteSession remembers the language of a transcription, for a call that
// detects its language; other calls have one transcription and need nothing.
func (c *Call) noteSession(m *Mode, in Input) {
	if len(m.Languages) < 2 || m.LanguageBy != LanguageBySpeech {
		return
	}
	if c.Sessions == nil {
		c.Sessions = map[string]string{}
	}
	c.Sessions[in.Session] = in.Lang
}

// route sends the call to dept: a transfer, or for a flow-step mode the
// decision handed back to the customer's flow. conf is how sure the chooser
// was. A closed dept sends the call on to whoever is open after it (hours.go).
func (r *Router) route(c *Call, dept, reason string, conf float64) decision {
	to, closed := r.reach(c, dept)
	if r.modeOf(c).FlowStep() {
		return decision{event: EventHandBack, acts: r.handBack(to, closed, reason, conf), dept: to, reason: reason, conf: conf, closed: closed}
	}
	if closed != "" {
		return r.routeClosed(c, closed, to, reason, conf)
	}
	return decision{event: EventRoute, acts: r.connect(dept, c.Language), dept: dept, reason: reason, conf: conf}
}

// handBack is a flow-step call's ending: the decision as call variables, no
// transfer and no hangup, so VoIPBin returns to the customer's flow after its
// fetch. When the chosen department was closed, the variables name it with
// switchboard.open=false, and switchboard.after_hours says where its
// after_hours chain goes (dept; "" when nobody is open).
func (r *Router) handBack(dept, closed, reason string, conf float64) []Action {
	chosen, open := dept, "true"
	if closed != "" {
		chosen, open = closed, "false"
	}
	destination := ""
	if d, ok := r.cfg.Department(chosen); ok {
		destination = d.Destination().Target
	}
	acts := []Action{
		{Kind: ActSet, Variable: VarDepartment, Value: chosen},
		{Kind: ActSet, Variable: VarDestination, Value: destination},
		{Kind: ActSet, Variable: VarReason, Value: reason},
		{Kind: ActSet, Variable: VarConfidence, Value: strconv.FormatFloat(conf, 'f', 2, 64)},
		{Kind: ActSet, Variable: VarOpen, Value: open},
	}
	if closed != "" {
		acts = append(acts, Action{Kind: ActSet, Variable: VarAfterHours, Value: dept})
	}
	return acts
}

// modeOf returns the mode c is answered in. A call without one (the seed's
// webhook, which has no keypad and no flow to return to) is the plain
// conversation that transfers.
func (r *Router) modeOf(c *Call) *Mode {
	if c.Mode == "" {
		return &plainMode
	}
	_, m := r.cfg.ModeNamed(c.Mode)
	return m
}

var plainMode = Mode{Kind: KindConversation, Handoff: HandoffTransfer}

// logAudit writes a call's audit record as one line.
func (r *Router) logAudit(ctx context.Context, c Call) {
	a := c.audit()
	var said any = len(a.Said) // what callers say reaches the logs only with --log-transcripts
	if r.LogTranscripts {
		said = a.Said
	}
	r.log.InfoContext(ctx, "audit", "call", c.ID, "mode", c.Mode, "language", c.Language,
		"pressed", a.Pressed, "said", said, "decision", a.Decision, "decided_by", a.DecidedBy,
		"confidence", math.Round(a.Confidence*1000)/1000, "department", a.Department, "destination", a.Destination,
		"reason", a.Reason, "state", c.State)
}
