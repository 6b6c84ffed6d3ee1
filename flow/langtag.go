package flow

import (
	"fmt"
	"slices"

	"golang.org/x/text/language"
)

// NormalizeLanguage writes a BCP-47 tag the way VoIPBin keeps it: VoIPBin
// reads the language of a transcribe_start with x/text's BCP47.Make
// (bin-transcribe-manager transcribehandler getBCP47LanguageCode) and reports
// that form in its events, so "es-es" comes back as es-ES and "iw-IL" as
// he-IL. A tag VoIPBin cannot read is "" (VoIPBin uses en-US in its place).
func NormalizeLanguage(tag string) string {
	t := language.BCP47.Make(tag).String()
	if t == "und" {
		return ""
	}
	return t
}

// languageProblem says what is wrong with a tag of the config, or "".
func languageProblem(tag string) string {
	switch n := NormalizeLanguage(tag); n {
	case "":
		return fmt.Sprintf("%q is no language tag VoIPBin can read (it would transcribe and speak en-US instead); write one such as en-US or es-ES", tag)
	case tag:
		return ""
	default:
		return fmt.Sprintf("%q: VoIPBin writes it %q, given already", tag, n)
	}
}

// normalizeLanguages rewrites every language tag of the config as VoIPBin
// keeps it, so that a config written with es-es hears the words of the
// transcription VoIPBin reports as es-ES. A tag VoIPBin cannot read, or one
// whose VoIPBin form is there already, is left as written for Validate to name.
func (r *Routing) normalizeLanguages() {
	r.Language = normalTag(r.Language)
	r.Texts = normalKeys(r.Texts)
	for _, d := range r.Departments {
		if d != nil {
			d.Labels = normalKeys(d.Labels)
		}
	}
	for _, m := range r.Modes {
		if m == nil {
			continue
		}
		for i, lang := range m.Languages {
			m.Languages[i] = normalTag(lang)
		}
		if m.Entry != nil {
			m.Entry.Prompts = normalKeys(m.Entry.Prompts)
		}
		if m.Keypad != nil {
			for _, menu := range m.Keypad.Menus {
				if menu != nil {
					menu.Prompts = normalKeys(menu.Prompts)
				}
			}
		}
	}
}

// languageProblems names every language tag of the config VoIPBin would not
// keep as written.
func (r *Routing) languageProblems() []string {
	var out []string
	check := func(at, tag string) {
		if p := languageProblem(tag); p != "" {
			out = append(out, at+": "+p)
		}
	}
	check("routing.language", r.Language)
	for _, tag := range sortedKeys(r.Texts) {
		check("routing.texts", tag)
	}
	for _, name := range sortedKeys(r.Departments) {
		if d := r.Departments[name]; d != nil {
			for _, tag := range sortedKeys(d.Labels) {
				check("routing.departments."+name+".labels", tag)
			}
		}
	}
	for _, name := range sortedKeys(r.Modes) {
		m := r.Modes[name]
		if m == nil {
			continue
		}
		for _, tag := range m.Languages {
			check("routing.modes."+name+".languages", tag)
		}
		if m.Entry != nil {
			for _, tag := range sortedKeys(m.Entry.Prompts) {
				check("routing.modes."+name+".entry.prompts", tag)
			}
		}
		if m.Keypad != nil {
			for _, menu := range sortedKeys(m.Keypad.Menus) {
				if mm := m.Keypad.Menus[menu]; mm != nil {
					for _, tag := range sortedKeys(mm.Prompts) {
						check("routing.modes."+name+".keypad.menus."+menu+".prompts", tag)
					}
				}
			}
		}
	}
	return out
}

// normalTag is tag as VoIPBin keeps it, or as written when VoIPBin cannot read it.
func normalTag(tag string) string {
	if n := NormalizeLanguage(tag); n != "" {
		return n
	}
	return tag
}

// normalKeys is m with its language tags as VoIPBin keeps them. A key
// already in that form wins over another that would become it; the other
// stays as written.
func normalKeys[V any](m map[string]V) map[string]V {
	if m == nil {
		return nil
	}
	out := make(map[string]V, len(m))
	var later []string
	for tag, v := range m {
		if normalTag(tag) == tag {
			out[tag] = v
		} else {
			later = append(later, tag)
		}
	}
	slices.Sort(later) // which of two spellings stays as written does not depend on the map's order
	for _, tag := range later {
		n := normalTag(tag)
		if _, taken := out[n]; taken {
			n = tag
		}
		out[n] = m[tag]
	}
	return out
}
