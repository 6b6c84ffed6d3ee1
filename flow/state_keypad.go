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
	if key == PersonKey {
		c.Menu, c.MenuTries = nil, 0
		return r.transfer(c, r.cfg.personDesk(), "person")
	}
	step := m.Keypad.Press(c.Menu, c.MenuTries, key, r.cfg.Fallback.Destination)
	if step.Department != "" {
		c.Menu, c.MenuTries = nil, 0
		return r.route(c, step.Department, step.Reason, 1)
	}
	c.Menu, c.MenuTries = step.Path, step.Tries
	return decision{event: EventPress, acts: r.keypadMenu(c, m, step.Notice)}
}

// keypadMenu plays the keypad menu the caller is at, after a notice if any.
func (r *Router) keypadMenu(c *Call, m *Mode, notice string) []Action {
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
