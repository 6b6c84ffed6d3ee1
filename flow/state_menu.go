package flow

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// offerMenu moves a call that clarifying could not route to the keypad menu,
// which offers the departments open at the call's start. With none open the
// caller goes where the fallback desk's after-hours rule says.
func (r *Router) offerMenu(c *Call) decision {
	text, ok := r.menuText(c.Language, c.startedAt())
	if !ok {
		return r.transfer(c, r.cfg.Fallback.Destination, "unsure")
	}
	return decision{event: EventMenu, acts: []Action{
		{Kind: ActForgetKeys},
		{Kind: ActTalk, Text: text, Language: c.Language},
		{Kind: ActMenu, Millis: r.cfg.Dialog.MenuMS},
	}}
}

// menu is the policy of a call offered the keypad: priority words said
// meanwhile page on-call whatever key was pressed; else the key routes it, or
// words with a department the local classifier is sure of. Anything else goes
// to the fallback desk: the caller has been asked enough.
func (r *Router) menu(ctx context.Context, c *Call, t *turn) decision {
	c.recordPress(t.Digits)
	words := r.callerWords(c, t)
	c.Turns = append(c.Turns, words...)
	if r.urgent(words) {
		return r.transfer(c, Emergency, "priority")
	}
	if rest, ok := r.cfg.askedPerson(words, c.Language); ok {
		return r.toPerson(ctx, c, rest)
	}
	if t.HasDigits && strings.TrimSpace(t.Digits) == KeyOperator {
		return r.transfer(c, r.cfg.personDesk(), "person")
	}
	if dept, ok := r.cfg.ByDigit(strings.TrimSpace(t.Digits)); t.HasDigits && ok {
		return r.transfer(c, dept, "keypad")
	}
	if len(words) > 0 {
		if v, err := r.local.Classify(ctx, words); err == nil && r.confident(v) != "" {
			return r.route(c, v.Department, "local", v.Confidence)
		}
	}
	return r.transfer(c, r.cfg.Fallback.Destination, "menu")
}

// menuText is the menu sentence in lang, built from that language's texts: the
// menu template with {options}, each department with a key as menu_option,
// the fallback desk last as menu_last. A menu without {options} is said as it is.
// Departments closed at the moment at are left out (a key of one, pressed
// anyway, goes through its after-hours rule); false: none with a key is open.
func (r *Router) menuText(lang string, at time.Time) (string, bool) {
	texts := r.cfg.TextsFor(lang)
	if !strings.Contains(texts.Menu, "{options}") {
		return texts.Menu, true
	}
	var options []string
	last := ""
	for digit := range 10 {
		name, ok := r.cfg.ByDigit(strconv.Itoa(digit))
		if !ok {
			continue
		}
		d := r.cfg.Departments[name]
		if !r.cfg.HoursOf(name).OpenAt(at) {
			continue
		}
		if name == r.cfg.Fallback.Destination {
			last = fillMenuOption(texts.MenuLast, d.Digit, d.LabelIn(lang))
			continue
		}
		options = append(options, fillMenuOption(texts.MenuOption, d.Digit, d.LabelIn(lang)))
	}
	switch {
	case last != "" && len(options) == 0: // the fallback desk alone: no "or"
		d := r.cfg.Departments[r.cfg.Fallback.Destination]
		options = append(options, fillMenuOption(texts.MenuOption, d.Digit, d.LabelIn(lang)))
	case last != "":
		options = append(options, last)
	}
	return strings.ReplaceAll(texts.Menu, "{options}", strings.Join(options, ", ")), len(options) > 0
}

func fillMenuOption(template, digit, label string) string {
	return strings.NewReplacer("{digit}", digit, "{department}", label).Replace(template)
}
