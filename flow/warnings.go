package flow

import (
	"fmt"
	"sort"
	"strings"
)

// Warnings names what in a valid config is likely to surprise its owner:
// priority signals that ordinary callers say. A signal always pages on-call
// (priority.go), so a word that a department's own callers use, or that any
// caller says in an ordinary request, pages for them too; a phrase ("is
// down" rather than "down") says the incident alone.
func (r *Routing) Warnings() []string {
	var out []string
	for _, s := range r.PrioritySignals {
		sig := strings.Fields(s)
		if len(sig) == 0 {
			continue
		}
		if len(sig) == 1 && (stopwords[strings.ToLower(sig[0])] || everydayWords[strings.ToLower(sig[0])]) {
			out = append(out, fmt.Sprintf("priority signal %q is a common word: every caller who says it pages on-call; write the phrase that means an incident (%q, not %q)", s, "is down", "down"))
		}
		for _, name := range r.DepartmentNames(false) {
			d := r.Departments[name]
			if name == Emergency || d == nil {
				continue
			}
			for _, text := range append(append([]string(nil), d.Keywords...), d.Examples...) {
				if holds(words(text), sig) {
					out = append(out, fmt.Sprintf("priority signal %q is in %s's keywords or examples (%q): its callers page on-call instead; drop one or make the signal a phrase", s, name, text))
					break
				}
			}
		}
	}
	return append(out, r.languageWarnings()...)
}

// languageWarnings names keypad prompts whose words look like another of the
// config's languages than the one they are spoken in, where cue words can
// tell (languageCues): a Spanish sentence in an English menu would be read
// by the English voice.
func (r *Routing) languageWarnings() []string {
	var langs []string
	for lang := range r.Texts {
		if DetectsLanguage(lang) {
			langs = append(langs, lang)
		}
	}
	if len(langs) < 2 {
		return nil
	}
	sort.Strings(langs)
	var out []string
	check := func(at, text, lang string) {
		own := languageScore(lang, text)
		for _, other := range langs {
			if baseLanguage(other) != baseLanguage(lang) && languageScore(other, text) > own {
				out = append(out, fmt.Sprintf("%s: %q reads as %s but is spoken as %s; set its language", at, text, other, lang))
				return
			}
		}
	}
	for _, name := range sortedKeys(r.Modes) {
		m := r.Modes[name]
		if m == nil || m.Keypad == nil {
			continue
		}
		def := r.Language
		if len(m.Languages) > 0 {
			def = m.Languages[0]
		}
		for _, menuName := range sortedKeys(m.Keypad.Menus) {
			menu := m.Keypad.Menus[menuName]
			if menu == nil {
				continue
			}
			at := fmt.Sprintf("modes.%s.keypad.menus.%s", name, menuName)
			text, lang := menu.PromptIn("", def)
			check(at+".prompt", text, lang)
			for _, tag := range sortedKeys(menu.Prompts) {
				check(at+".prompts."+tag, menu.Prompts[tag], tag)
			}
			for i, s := range menu.AlsoSay {
				check(fmt.Sprintf("%s.also_say[%d]", at, i), s.Text, s.Language)
			}
		}
	}
	return out
}

// everydayWords are words that ordinary requests carry, in the languages
// Switchboard ships texts for: as a lone priority signal each would page
// callers who only want help.
var everydayWords = wordSet(`down help problem issue now today need needs broken urgent urgently asap quick quickly
	important critical production stuck error failed failing working work call
	ayuda problema ahora hoy necesito urgente roto importante`)
