package flow

import "context"

// keypad is the policy of a call in a keypad tree: a key moves the caller in
// the tree (press: a submenu, back, repeat, or the same menu again after a
// wrong key or none) or out of it to a department (route).
func (r *Router) keypad(_ context.Context, c *Call, t *turn) decision {
	m := r.modeOf(c)
	key := ""
	if t.HasDigits {
		key = t.Digits
	}
	c.recordPress(key)
	if key == KeyOperator {
		c.Menu, c.MenuTries = nil, 0
		return r.transfer(c, r.cfg.personDesk(), "person")
	}
	step := m.Keypad.Press(c.Menu, c.MenuTries, key, r.cfg.Fallback.Destination)
	if step.Department != "" {
		c.Menu, c.MenuTries = nil, 0
		return r.route(c, step.Department, step.Reason, 1)
	}
	chose := len(step.Path) > len(c.Menu) // a key took the caller into a submenu
	c.Menu, c.MenuTries = step.Path, step.Tries
	if menu := m.Keypad.MenuAt(c.Menu); chose && menu.Language != "" {
		// The caller chose that menu's language by key: they keep it.
		c.Language, c.LanguageSet = menu.Language, true
	}
	return decision{event: EventPress, acts: r.keypadMenu(c, m, step.Notice)}
}

// keypadMenu plays the keypad menu the caller is at, after a notice if any.
func (r *Router) keypadMenu(c *Call, m *Mode, notice string) []Action {
	menu := m.Keypad.MenuAt(c.Menu)
	texts := r.cfg.TextsFor(c.Language)
	// Keys pressed before (during the last prompt, say) must not answer this menu.
	acts := []Action{{Kind: ActForgetKeys}}
	switch notice {
	case NoticeInvalid:
		acts = append(acts, Action{Kind: ActTalk, Text: texts.KeypadInvalid, Language: c.Language})
	case NoticeTimeout:
		acts = append(acts, Action{Kind: ActTalk, Text: texts.KeypadTimeout, Language: c.Language})
	}
	// Every text in its own language's voice.
	text, lang := menu.PromptIn(c.Language, r.modeLanguage(m))
	acts = append(acts, Action{Kind: ActTalk, Text: text, Language: lang})
	for _, s := range menu.AlsoSay {
		acts = append(acts, Action{Kind: ActTalk, Text: s.Text, Language: s.Language})
	}
	return append(acts, Action{Kind: ActMenu, Millis: menu.TimeoutMS})
}

// modeLanguage is the language a mode's own texts are written in: its first
// language, else the config's.
func (r *Router) modeLanguage(m *Mode) string {
	if len(m.Languages) > 0 {
		return m.Languages[0]
	}
	return r.cfg.Language
}
