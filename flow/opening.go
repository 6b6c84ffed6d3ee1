package flow

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
)

// A mode is a configuration of the machine's states, not a branch of the
// router: it chooses which states a call passes through after the greeting
// (its opening) and which event ends it (route or hand_back). Each state has
// one handler below that decides its event.

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

// openNext moves c from the greeting, or from the opening state it is in, to
// the next state of its mode's opening, and returns what the caller hears there.
func (r *Router) openNext(ctx context.Context, c *Call, m *Mode) ([]Action, error) {
	states := m.opening(c)
	next := states[0]
	if i := slices.Index(states, c.State); i >= 0 && i+1 < len(states) {
		next = states[i+1]
	}
	if err := fire(ctx, c, enterEvents[next]); err != nil {
		return nil, err
	}
	switch next {
	case StateLanguage:
		acts := []Action{{Kind: ActForgetKeys}}
		for i, lang := range m.Languages {
			text := strings.ReplaceAll(r.cfg.TextsFor(lang).ChooseLanguage, "{key}", strconv.Itoa(i+1))
			acts = append(acts, Action{Kind: ActTalk, Text: text, Language: lang})
		}
		return append(acts, Action{Kind: ActMenu, Millis: r.cfg.Dialog.MenuMS}), nil
	case StateEntry:
		return []Action{
			{Kind: ActForgetKeys},
			{Kind: ActTalk, Text: m.Entry.PromptIn(c.Language), Language: c.Language},
			{Kind: ActMenu, Millis: m.Entry.TimeoutMS, Length: m.Entry.MaxDigits},
		}, nil
	case StateKeypad:
		c.Menu, c.MenuTries = []string{m.Keypad.Start}, 0
		return r.offerMenu(c, m, ""), nil
	}
	// Listening: transcribe the caller and greet them. A call that detects its
	// language transcribes in each language it serves and greets in each; the
	// caller's first words settle which one it goes on in.
	langs := []string{c.Language}
	if r.detecting(c, m) {
		langs = m.Languages
	}
	var acts []Action
	for _, lang := range langs {
		acts = append(acts, Action{Kind: ActTranscribe, Language: lang})
	}
	for _, lang := range langs {
		acts = append(acts, Action{Kind: ActTalk, Text: r.cfg.TextsFor(lang).Greeting, Language: lang})
	}
	return append(acts, Action{Kind: ActListen, Millis: r.cfg.Dialog.ListenMS}), nil
}

// chooseLanguage is the language state's handler: the key picks the
// language; a wrong key or none keeps the first.
func (r *Router) chooseLanguage(ctx context.Context, c *Call, m *Mode, t Turn) ([]Action, error) {
	c.recordPress(t.Digits)
	if i, err := strconv.Atoi(strings.TrimSpace(t.Digits)); err == nil && i >= 1 && i <= len(m.Languages) {
		c.Language = m.Languages[i-1]
	}
	c.LanguageSet = true
	return r.openNext(ctx, c, m)
}

// entered is the entry state's handler: whatever was typed (or nothing) goes
// into the audit record, masked, and the conversation begins.
func (r *Router) entered(ctx context.Context, c *Call, m *Mode, t Turn) ([]Action, error) {
	c.recordPress(t.Digits)
	return r.openNext(ctx, c, m)
}

// pressed is the keypad state's handler: a key moves the caller in the tree
// (press) or out of it to a department (route).
func (r *Router) pressed(ctx context.Context, c *Call, m *Mode, t Turn) ([]Action, error) {
	key := ""
	if t.HasDigits {
		key = t.Digits
	}
	c.recordPress(key)
	step := m.Keypad.Press(c.Menu, c.MenuTries, key, r.cfg.Fallback.Destination)
	if step.Department != "" {
		c.Menu, c.MenuTries = nil, 0
		return r.route(ctx, c, step.Department, step.Reason, 1)
	}
	if err := fire(ctx, c, EventPress); err != nil {
		return nil, err
	}
	c.Menu, c.MenuTries = step.Path, step.Tries
	return r.offerMenu(c, m, step.Notice), nil
}

// offerMenu plays the keypad menu the caller is at, after a notice if any.
func (r *Router) offerMenu(c *Call, m *Mode, notice string) []Action {
	menu := m.Keypad.MenuAt(c.Menu)
	texts := r.cfg.TextsFor(c.Language)
	text := menu.PromptIn(c.Language)
	switch notice {
	case NoticeInvalid:
		text = texts.KeypadInvalid + " " + text
	case NoticeTimeout:
		text = texts.KeypadTimeout + " " + text
	}
	// Keys pressed before (during the last prompt, say) must not answer this menu.
	return []Action{
		{Kind: ActForgetKeys},
		{Kind: ActTalk, Text: text, Language: c.Language},
		{Kind: ActMenu, Millis: menu.TimeoutMS},
	}
}

// detecting reports whether c's language is still to be told from its words.
func (r *Router) detecting(c *Call, m *Mode) bool {
	return m.LanguageBy == LanguageBySpeech && len(m.Languages) > 1 && !c.LanguageSet
}

// heardWords is one utterance and the transcription that heard it.
type heardWords struct {
	text, session string
}

// listenTo returns the words c goes on with. A call that detects its language
// hears each utterance once per language: its first words settle the
// language (each transcription's words scored with its own language's cues),
// and from then on only that language's transcription counts.
func (r *Router) listenTo(c *Call, m *Mode, heard []heardWords) []string {
	if len(m.Languages) < 2 || m.LanguageBy != LanguageBySpeech {
		words := make([]string, len(heard))
		for i, h := range heard {
			words[i] = h.text
		}
		return words
	}
	if !c.LanguageSet && len(heard) > 0 {
		byLang := map[string]string{}
		for _, h := range heard {
			lang := c.Sessions[h.session]
			byLang[lang] += " " + h.text
		}
		best, bestScore := "", 0
		for _, lang := range m.Languages {
			if s := languageScore(lang, byLang[lang]); s > bestScore {
				best, bestScore = lang, s
			}
		}
		if best != "" {
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
	return words
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

// handBack is a flow-step call's ending: the decision as call variables, no
// transfer and no hangup, so VoIPBin returns to the customer's flow after its
// fetch.
func (r *Router) handBack(c *Call) []Action {
	destination := ""
	if d, ok := r.cfg.Department(c.Department); ok {
		destination = d.Destination().Target
	}
	return []Action{
		{Kind: ActSet, Variable: VarDepartment, Value: c.Department},
		{Kind: ActSet, Variable: VarDestination, Value: destination},
		{Kind: ActSet, Variable: VarReason, Value: c.Reason},
		{Kind: ActSet, Variable: VarConfidence, Value: strconv.FormatFloat(c.Confidence, 'f', 2, 64)},
	}
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
func (r *Router) logAudit(c Call) {
	a := c.audit()
	r.log.Info("audit", "call", c.ID, "mode", c.Mode, "language", c.Language,
		"pressed", a.Pressed, "said", a.Said, "decision", a.Decision, "decided_by", a.DecidedBy,
		"confidence", math.Round(a.Confidence*1000)/1000, "department", a.Department, "destination", a.Destination, "reason", a.Reason,
		"state", c.State)
}
