package flow

import (
	"fmt"
	"sort"
	"strings"
)

// How a mode finds out where a caller goes.
const (
	// KindConversation: the caller says what they want, the classifiers route.
	KindConversation = "conversation"
	// KindKeypad: a menu tree answered with keys; no model, no transcription.
	KindKeypad = "keypad"
	// KindHybrid: a keypad entry first (an account number, say), then the conversation.
	KindHybrid = "hybrid"
)

// How a mode ends a routed call.
const (
	// HandoffTransfer connects the caller to the chosen department.
	HandoffTransfer = "transfer"
	// HandoffFlowStep sets the switchboard.* variables and returns to the
	// customer's own VoIPBin flow, which continues after its fetch.
	HandoffFlowStep = "flow-step"
)

// How a mode with several languages picks the caller's.
const (
	LanguageByKeypad = "keypad" // the greeting offers one key per language
	LanguageBySpeech = "speech" // detected from the caller's first words
)

// defaultModeName is the mode of every number when a config has no modes.
const defaultModeName = "conversation"

// Mode is one way of answering a number: what the caller is asked, in which
// languages, and how the call ends. A zero Mode is the conversation that
// transfers, in the config's language.
type Mode struct {
	Kind string `json:"kind,omitempty"`
	// Keypad is the menu tree of a keypad mode.
	Keypad *Keypad `json:"keypad,omitempty"`
	// Entry is the keypad step of a hybrid mode.
	Entry *Entry `json:"entry,omitempty"`
	// Languages the number serves, BCP-47 tags with texts in the config; the
	// first is the call's language until the caller picks another. Empty: the
	// config's language only.
	Languages []string `json:"languages,omitempty"`
	// LanguageBy says how a caller picks among several languages.
	LanguageBy string `json:"language_by,omitempty"`
	// Handoff says how a routed call ends: transfer (the default) or flow-step.
	Handoff string `json:"handoff,omitempty"`
	// Audit keeps an audit record with the call and logs it as one line when
	// our part of the call ends.
	Audit bool `json:"audit,omitempty"`
}

// Entry is a keypad step before the conversation: the caller types a number
// (an account, a policy) and ends it with the pound key or by waiting.
type Entry struct {
	Prompt string `json:"prompt"`
	// Prompts holds the prompt in other languages, by BCP-47 tag.
	Prompts   map[string]string `json:"prompts,omitempty"`
	MaxDigits int               `json:"max_digits,omitempty"` // default 12
	TimeoutMS int               `json:"timeout_ms,omitempty"` // default 10000
}

// PromptIn returns the entry prompt a caller speaking lang hears, and the
// language it is in: Prompt is in def, the mode's own language.
func (e *Entry) PromptIn(lang, def string) (text, in string) {
	if p := e.Prompts[lang]; p != "" {
		return p, lang
	}
	return e.Prompt, def
}

// SpeaksFirst reports whether the mode listens to the caller's words at all:
// a keypad mode never starts transcription.
func (m *Mode) SpeaksFirst() bool { return m.Kind != KindKeypad }

// FlowStep reports whether a routed call goes back to the customer's flow
// instead of being transferred.
func (m *Mode) FlowStep() bool { return m.Handoff == HandoffFlowStep }

// Mode returns the name and the mode a dialled number is answered in: the
// number's own, else the default. A number is matched in E.164 form; VoIPBin
// substitutes it unencoded into the fetch URL, so a "+" that became a space
// on the way is read as "+" again.
func (r *Routing) Mode(dialled string) (string, *Mode) {
	name := r.DefaultMode
	if n, ok := r.Numbers[NormalizeNumber(dialled)]; ok {
		name = n
	}
	return r.ModeNamed(name)
}

// ModeNamed returns a mode by name, or the default mode when there is none of
// that name (a config reloaded mid-call may have dropped it).
func (r *Routing) ModeNamed(name string) (string, *Mode) {
	if m := r.Modes[name]; m != nil {
		return name, m
	}
	if m := r.Modes[r.DefaultMode]; m != nil {
		return r.DefaultMode, m
	}
	return defaultModeName, &Mode{Kind: KindConversation, Handoff: HandoffTransfer}
}

// NormalizeNumber puts a dialled number as it arrives in a query string back
// into E.164: "+" decoded as a space, or lost, is restored.
func NormalizeNumber(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "+") {
		return s
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return s
		}
	}
	return "+" + s
}

// setModeDefaults fills in what a mode leaves out.
func (r *Routing) setModeDefaults() {
	if r.DefaultMode == "" && len(r.Modes) == 1 {
		for name := range r.Modes {
			r.DefaultMode = name
		}
	}
	for _, m := range r.Modes {
		if m == nil {
			continue
		}
		if m.Kind == "" {
			m.Kind = KindConversation
		}
		if m.Handoff == "" {
			m.Handoff = HandoffTransfer
		}
		if len(m.Languages) == 0 {
			m.Languages = []string{r.Language}
		}
		if m.Entry != nil {
			if m.Entry.MaxDigits == 0 {
				m.Entry.MaxDigits = 12
			}
			if m.Entry.TimeoutMS == 0 {
				m.Entry.TimeoutMS = 10000
			}
		}
		if m.Keypad != nil {
			m.Keypad.setDefaults(r.Dialog.MenuMS)
		}
	}
}

// validateModes names every problem with the modes and the numbers.
func (r *Routing) validateModes(bad func(format string, args ...any)) {
	if len(r.Modes) > 0 && r.Modes[r.DefaultMode] == nil {
		bad("routing.default_mode: %q is not a configured mode (have %s)", r.DefaultMode, strings.Join(sortedKeys(r.Modes), ", "))
	}
	if len(r.Modes) == 0 && r.DefaultMode != "" {
		bad("routing.default_mode: %q but no modes are configured", r.DefaultMode)
	}
	for _, number := range sortedKeys(r.Numbers) {
		if !telNumber.MatchString(number) {
			bad("routing.numbers: %q is not an E.164 number like +14155550100", number)
		}
		if r.Modes[r.Numbers[number]] == nil {
			bad("routing.numbers.%s: mode %q is not configured", number, r.Numbers[number])
		}
	}
	for _, name := range sortedKeys(r.Modes) {
		m := r.Modes[name]
		at := "routing.modes." + name
		if m == nil {
			bad("%s: empty", at)
			continue
		}
		switch m.Kind {
		case KindConversation, KindHybrid, KindKeypad:
		default:
			bad("%s.kind: %q; want %s, %s or %s", at, m.Kind, KindConversation, KindKeypad, KindHybrid)
		}
		if (m.Kind == KindKeypad) != (m.Keypad != nil) {
			bad("%s.keypad: a keypad tree is needed by, and only allowed in, a %s mode", at, KindKeypad)
		}
		if (m.Kind == KindHybrid) != (m.Entry != nil) {
			bad("%s.entry: a keypad entry is needed by, and only allowed in, a %s mode", at, KindHybrid)
		}
		if m.Handoff != HandoffTransfer && m.Handoff != HandoffFlowStep {
			bad("%s.handoff: %q; want %s or %s", at, m.Handoff, HandoffTransfer, HandoffFlowStep)
		}
		seen := map[string]bool{}
		for _, lang := range m.Languages {
			if r.Texts[lang] == nil {
				bad("%s.languages: %q has no texts in routing.texts", at, lang)
			}
			if seen[lang] {
				bad("%s.languages: %q twice", at, lang)
			}
			seen[lang] = true
		}
		switch {
		case len(m.Languages) > 1 && m.LanguageBy != LanguageByKeypad && m.LanguageBy != LanguageBySpeech:
			bad("%s.language_by: %q; with several languages want %s or %s", at, m.LanguageBy, LanguageByKeypad, LanguageBySpeech)
		case len(m.Languages) > 9:
			bad("%s.languages: at most 9, one keypad key each", at)
		case m.LanguageBy == LanguageBySpeech && m.Kind == KindKeypad:
			bad("%s.language_by: a keypad mode does not listen; pick the language by keypad", at)
		case m.LanguageBy == LanguageBySpeech:
			for _, lang := range m.Languages {
				if !DetectsLanguage(lang) {
					bad("%s.language_by: speech detection knows no cue words for %q", at, lang)
				}
			}
		}
		if m.Entry != nil {
			if strings.TrimSpace(m.Entry.Prompt) == "" {
				bad("%s.entry.prompt: empty", at)
			}
			if m.Entry.MaxDigits < 1 || m.Entry.MaxDigits > 32 {
				bad("%s.entry.max_digits: %d; want 1..32", at, m.Entry.MaxDigits)
			}
			if m.Entry.TimeoutMS < 1000 {
				bad("%s.entry.timeout_ms: %d; want at least 1000", at, m.Entry.TimeoutMS)
			}
		}
		if m.Keypad != nil {
			for _, err := range m.Keypad.Problems(r) {
				bad("%s.keypad: %v", at, err)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// describeMode is a mode in one line, for `switchboard check`.
func describeMode(name string, m *Mode) string {
	s := fmt.Sprintf("%s: %s, %s", name, m.Kind, m.Handoff)
	if len(m.Languages) > 1 {
		s += fmt.Sprintf(", languages %s by %s", strings.Join(m.Languages, "/"), m.LanguageBy)
	}
	if m.Audit {
		s += ", audited"
	}
	return s
}

// DescribeModes lists the modes and which numbers use them, one per line.
func (r *Routing) DescribeModes() []string {
	var out []string
	for _, name := range sortedKeys(r.Modes) {
		line := describeMode(name, r.Modes[name])
		var numbers []string
		for _, n := range sortedKeys(r.Numbers) {
			if r.Numbers[n] == name {
				numbers = append(numbers, n)
			}
		}
		if name == r.DefaultMode {
			numbers = append(numbers, "every other number")
		}
		if len(numbers) > 0 {
			line += " (" + strings.Join(numbers, ", ") + ")"
		}
		out = append(out, line)
	}
	return out
}
