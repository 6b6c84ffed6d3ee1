package flow

import (
	"context"
	"strconv"
	"strings"
)

// language is the policy of a call offered a key per language: the key picks
// the language (a wrong key or none keeps the first), and the call moves on
// to the next state of its mode's opening.
func (r *Router) language(_ context.Context, c *Call, t *turn) decision {
	c.recordPress(t.Digits)
	if strings.TrimSpace(t.Digits) == KeyOperator {
		c.LanguageSet = true
		return r.transfer(c, r.cfg.personDesk(), "person")
	}
	langs := r.modeOf(c).Languages
	if i, err := strconv.Atoi(strings.TrimSpace(t.Digits)); err == nil && i >= 1 && i <= len(langs) {
		c.Language = langs[i-1]
	}
	c.LanguageSet = true
	return r.openNext(c)
}
