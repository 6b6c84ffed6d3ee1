package flow

import (
	"fmt"
	"strings"
)

// Keys with the same meaning in every menu of a keypad tree. They cannot be
// options: a caller must always be able to rely on them.
const (
	KeyRepeat   = "*" // hear the current menu again
	KeyBack     = "9" // go up one menu (at the top: hear it again)
	KeyOperator = "0" // a person (the person desk), from anywhere, at any key prompt
)

// Keypad is a tree of menus answered with single keys. Menus are named and
// refer to each other, so one submenu can be offered from two places; the
// tree must still have no loop, and everything in it must be reachable.
type Keypad struct {
	// Start names the first menu the caller hears.
	Start string           `json:"start"`
	Menus map[string]*Menu `json:"menus"`
}

// Menu is one level of a keypad tree.
type Menu struct {
	Prompt string `json:"prompt"`
	// Prompts holds the prompt in other languages, by BCP-47 tag.
	Prompts map[string]string `json:"prompts,omitempty"`
	// Language is the language Prompt is written in (a BCP-47 tag with
	// texts in the config): it is spoken in that language's voice, and a
	// caller who reaches the menu by a key goes on in that language to the
	// end of the call. Empty: the caller's language.
	Language string `json:"language,omitempty"`
	// AlsoSay are sentences in other languages said after the prompt, each
	// in its own voice: "Para español, oprima 4." in an English menu.
	AlsoSay []Spoken     `json:"also_say,omitempty"`
	Options []MenuOption `json:"options"`
	// TimeoutMS is how long the caller has to press a key; default dialog.menu_ms.
	TimeoutMS int `json:"timeout_ms,omitempty"`
	// Retries is how often the menu is played again after a wrong key or no
	// key before the caller goes to the fallback desk; default 2, 0 is allowed.
	Retries *int `json:"retries,omitempty"`
}

// Spoken is a sentence and the language it is in.
type Spoken struct {
	Language string `json:"language"`
	Text     string `json:"text"`
}

// MenuOption is one key of a menu: a leaf (a department) or a submenu.
type MenuOption struct {
	Key        string `json:"key"`
	Department string `json:"department,omitempty"`
	Menu       string `json:"menu,omitempty"`
}

// PromptIn returns the menu's prompt for a caller speaking lang, and the
// language it is in: its prompt in lang, else its default prompt, which is
// in its declared language, else in def (the mode's own).
func (m *Menu) PromptIn(lang, def string) (text, in string) {
	if p := m.Prompts[lang]; p != "" {
		return p, lang
	}
	if m.Language != "" {
		return m.Prompt, m.Language
	}
	return m.Prompt, def
}

// MaxRetries is how often the menu is played again after a wrong or missing key.
func (m *Menu) MaxRetries() int {
	if m.Retries == nil {
		return 2
	}
	return *m.Retries
}

func (k *Keypad) setDefaults(menuMS int) {
	for _, m := range k.Menus {
		if m != nil && m.TimeoutMS == 0 {
			m.TimeoutMS = menuMS
		}
	}
}

// Problems lists everything wrong with the tree: menus or options that no
// caller can reach, duplicate or reserved keys, loops, leaves that are no
// configured department. Nil means the tree is sound.
func (k *Keypad) Problems(r *Routing) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if k.Menus[k.Start] == nil {
		bad("start: %q is not a menu", k.Start)
		return errs
	}
	for _, name := range sortedKeys(k.Menus) {
		m := k.Menus[name]
		at := "menus." + name
		if m == nil {
			bad("%s: empty", at)
			continue
		}
		if strings.TrimSpace(m.Prompt) == "" {
			bad("%s.prompt: empty", at)
		}
		if m.Language != "" && r.Texts[m.Language] == nil {
			bad("%s.language: %q has no texts in routing.texts", at, m.Language)
		}
		for i, s := range m.AlsoSay {
			if r.Texts[s.Language] == nil || strings.TrimSpace(s.Text) == "" {
				bad("%s.also_say[%d]: want a language with texts in routing.texts and a text", at, i)
			}
		}
		if len(m.Options) == 0 {
			bad("%s.options: none; every menu needs at least one", at)
		}
		if m.TimeoutMS < 1000 {
			bad("%s.timeout_ms: %d; want at least 1000", at, m.TimeoutMS)
		}
		if n := m.MaxRetries(); n < 0 || n > 5 {
			bad("%s.retries: %d; want 0..5", at, n)
		}
		keys := map[string]bool{}
		for _, o := range m.Options {
			opt := fmt.Sprintf("%s key %q", at, o.Key)
			switch {
			case o.Key == KeyRepeat || o.Key == KeyBack || o.Key == KeyOperator:
				bad("%s: unreachable, the key is reserved (%s repeats, %s goes back, %s is the operator)", opt, KeyRepeat, KeyBack, KeyOperator)
			case len(o.Key) != 1 || o.Key < "1" || o.Key > "8":
				bad("%s: unreachable, a menu key is one of 1-8", opt)
			case keys[o.Key]:
				bad("%s: duplicate key", opt)
			}
			keys[o.Key] = true
			switch {
			case (o.Department == "") == (o.Menu == ""):
				bad("%s: want a department or a menu, exactly one", opt)
			case o.Department != "":
				if _, ok := r.Department(o.Department); !ok {
					bad("%s: department %q is not configured", opt, o.Department)
				}
			case k.Menus[o.Menu] == nil:
				bad("%s: menu %q is not configured", opt, o.Menu)
			}
		}
	}
	// Walk the tree from the start: a menu met again on the way down is a
	// loop; a menu never met is unreachable, with every leaf under it.
	reached := map[string]bool{}
	var walk func(name string, path []string)
	walk = func(name string, path []string) {
		for _, p := range path {
			if p == name {
				bad("loop: %s", strings.Join(append(path, name), " -> "))
				return
			}
		}
		reached[name] = true
		m := k.Menus[name]
		if m == nil {
			return
		}
		for _, o := range m.Options {
			if o.Menu != "" && k.Menus[o.Menu] != nil {
				walk(o.Menu, append(path[:len(path):len(path)], name))
			}
		}
	}
	walk(k.Start, nil)
	for _, name := range sortedKeys(k.Menus) {
		if !reached[name] {
			bad("menus.%s: unreachable from %q, with every option in it", name, k.Start)
		}
	}
	return errs
}

// Notices a caller hears before a menu is played again.
const (
	NoticeInvalid = "invalid" // the key is no option
	NoticeTimeout = "timeout" // no key in time
)

// KeypadStep is where a key leaves the caller in a keypad tree.
type KeypadStep struct {
	// Path is the menus from the start to the one to play next; empty when
	// the caller leaves the tree for Department.
	Path  []string
	Tries int // wrong or missing keys at the current menu
	// Notice, when set, is said before the menu is played again.
	Notice     string
	Department string
	// Reason says why the caller left the tree: keypad (a leaf), operator,
	// keypad-invalid or keypad-timeout (out of retries).
	Reason string
}

// Press moves a caller at path (tries wrong or missing keys so far) by key; an
// empty key is no key in time. fallback is the desk behind the operator key and
// behind a menu whose retries ran out.
func (k *Keypad) Press(path []string, tries int, key, fallback string) KeypadStep {
	if len(path) == 0 || k.Menus[path[len(path)-1]] == nil {
		path = []string{k.Start}
	}
	m := k.Menus[path[len(path)-1]]
	again := func(notice, reason string) KeypadStep {
		if tries+1 > m.MaxRetries() {
			return KeypadStep{Department: fallback, Reason: reason}
		}
		return KeypadStep{Path: path, Tries: tries + 1, Notice: notice}
	}
	key = strings.TrimSpace(key)
	switch key {
	case "":
		return again(NoticeTimeout, "keypad-timeout")
	case KeyRepeat:
		return KeypadStep{Path: path, Tries: tries}
	case KeyBack:
		if len(path) > 1 {
			path = path[:len(path)-1]
		}
		return KeypadStep{Path: path}
	case KeyOperator:
		return KeypadStep{Department: fallback, Reason: "operator"}
	}
	for _, o := range m.Options {
		if o.Key != key {
			continue
		}
		if o.Menu != "" {
			return KeypadStep{Path: append(path[:len(path):len(path)], o.Menu)}
		}
		return KeypadStep{Department: o.Department, Reason: "keypad"}
	}
	return again(NoticeInvalid, "keypad-invalid")
}

// MenuAt returns the menu at the end of path, or the start menu.
func (k *Keypad) MenuAt(path []string) *Menu {
	if len(path) > 0 {
		if m := k.Menus[path[len(path)-1]]; m != nil {
			return m
		}
	}
	return k.Menus[k.Start]
}

// KeysTo returns the shortest sequence of keys that takes a caller from the
// start menu to dept, or nil when no leaf of the tree is dept (the operator
// key reaches the fallback desk, which is not counted as a leaf).
func (k *Keypad) KeysTo(dept string) []string {
	type hop struct {
		menu string
		keys []string
	}
	queue := []hop{{menu: k.Start}}
	seen := map[string]bool{k.Start: true}
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		m := k.Menus[h.menu]
		if m == nil {
			continue
		}
		for _, o := range m.Options {
			keys := append(h.keys[:len(h.keys):len(h.keys)], o.Key)
			if o.Department == dept {
				return keys
			}
			if o.Menu != "" && !seen[o.Menu] {
				seen[o.Menu] = true
				queue = append(queue, hop{o.Menu, keys})
			}
		}
	}
	return nil
}
