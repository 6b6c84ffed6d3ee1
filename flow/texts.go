package flow

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
)

// This file is where a config's texts come from when it leaves some out, and
// what check says about them: a language takes the example's texts in that
// language (the same language in another region will do), English also the
// built-in ones; a text still missing is an error, since its callers would
// hear nothing or another language. An inherited text that names the
// example's departments ("on-call engineering", "a technical problem") is a
// warning: it fits the example's business, maybe not this one.

// exampleTexts are the embedded example's texts by language, as written.
var exampleTexts = sync.OnceValue(func() map[string]*Texts {
	var c struct {
		Routing struct {
			Texts map[string]*Texts `json:"texts"`
		} `json:"routing"`
	}
	if err := json.Unmarshal(exampleJSON, &c); err != nil {
		panic("the embedded example config is invalid: " + err.Error())
	}
	return c.Routing.Texts
})

// exampleTextsFor returns the example's texts for lang, or for the same
// language in another region, and the tag they are written for.
func exampleTextsFor(lang string) (*Texts, string) {
	ex := exampleTexts()
	if t := ex[lang]; t != nil {
		return t, lang
	}
	for _, tag := range sortedKeys(ex) {
		if baseLanguage(tag) == baseLanguage(lang) {
			return ex[tag], tag
		}
	}
	return nil, ""
}

// fillTexts fills what t leaves out from the example's texts in lang and,
// for English, the built-in ones, and remembers which texts it filled.
func fillTexts(lang string, t *Texts) {
	before := *t
	if ex, _ := exampleTextsFor(lang); ex != nil {
		t.fill(*ex)
	}
	if baseLanguage(lang) == "en" {
		t.fill(defaultTexts)
	}
	t.inherited = map[string]bool{}
	for _, f := range textFields(&before) {
		if f.empty() && !textField(t, f.name).empty() {
			t.inherited[f.name] = true
		}
	}
}

// textFieldOf is one text of a Texts: its JSON name and value.
type textFieldOf struct {
	name  string
	value reflect.Value // a string or a []string
}

func (f textFieldOf) empty() bool { return f.value.Len() == 0 }

// sentences are the field's sentences with their names: clarify[0], clarify[1]...
func (f textFieldOf) sentences() [][2]string {
	if f.value.Kind() == reflect.String {
		return [][2]string{{f.name, f.value.String()}}
	}
	var out [][2]string
	for i := range f.value.Len() {
		out = append(out, [2]string{fmt.Sprintf("%s[%d]", f.name, i), f.value.Index(i).String()})
	}
	return out
}

// textFields lists every text of t in its declared order.
func textFields(t *Texts) []textFieldOf {
	v := reflect.ValueOf(t).Elem()
	var out []textFieldOf
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "" {
			continue
		}
		out = append(out, textFieldOf{name, v.Field(i)})
	}
	return out
}

func textField(t *Texts, name string) textFieldOf {
	for _, f := range textFields(t) {
		if f.name == name {
			return f
		}
	}
	return textFieldOf{}
}

// neededTexts are the texts every language must have: those with a built-in
// English default, the hours' texts only when some hours are configured.
func (r *Routing) neededTexts() []string {
	hours := r.Hours != nil
	for _, d := range r.Departments {
		hours = hours || d != nil && d.Hours != nil
	}
	var out []string
	for _, f := range textFields(&defaultTexts) {
		if f.empty() || !hours && (f.name == "closed" || f.name == "closed_all") || f.name == "instead" { // optional: see Texts.Instead
			continue
		}
		out = append(out, f.name)
	}
	return out
}

// missingTextProblems names, per language, every needed text it lacks:
// choose_language too where a number offers the language by key.
func (r *Routing) missingTextProblems(bad func(format string, args ...any)) {
	needed := r.neededTexts()
	offered := map[string]bool{}
	for _, m := range r.Modes {
		if m != nil && len(m.Languages) > 1 && m.LanguageBy == LanguageByKeypad {
			for _, lang := range m.Languages {
				offered[lang] = true
			}
		}
	}
	for _, lang := range sortedKeys(r.Texts) {
		t := r.Texts[lang]
		if t == nil {
			continue
		}
		var missing []string
		for _, name := range append(needed, "choose_language") {
			if textField(t, name).empty() && (name != "choose_language" || offered[lang]) {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			from := "the example has them for this language neither"
			if ex, _ := exampleTextsFor(lang); ex == nil {
				from = "the example has no texts in this language (its are in " + strings.Join(sortedKeys(exampleTexts()), ", ") + ")"
			}
			bad("routing.texts.%s: %s missing, and %s: callers in %s would hear nothing there; write them",
				lang, strings.Join(missing, ", "), from, lang)
		}
	}
}

// generalWords are words of the example's departments that every business's
// texts may use: "how can we help you", "our main desk", "that is not an option".
var generalWords = map[string]bool{"help": true, "main": true, "not": true, "no": true}

// businessWords splits s into the lower-case words that could name what a
// business does (hyphenated words whole: "on-call"), stemmed.
func businessWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-'
	}) {
		w = strings.Trim(w, "-")
		if len([]rune(w)) < 3 || stopwords[w] || generalWords[w] {
			continue
		}
		out = append(out, stem(w))
	}
	return out
}

// vocabulary is every word that names something of the config's business:
// its departments' names, labels, keywords, descriptions and examples, and
// its priority signals. With only, the departments are those names alone.
func (r *Routing) vocabulary(only map[string]bool, withAbout bool) map[string]string {
	vocab := map[string]string{}
	add := func(s, from string) {
		for _, w := range businessWords(s) {
			if _, ok := vocab[w]; !ok {
				vocab[w] = from
			}
		}
	}
	for _, name := range r.DepartmentNames(true) {
		d := r.Departments[name]
		if d == nil || only != nil && !only[name] {
			continue
		}
		add(name, name)
		add(d.Label, name)
		for _, l := range d.Labels {
			add(l, name)
		}
		for _, k := range d.Keywords {
			add(k, name)
		}
		if withAbout {
			add(d.Description, name)
			for _, e := range d.Examples {
				add(e, name)
			}
		}
	}
	if withAbout {
		for _, s := range r.PrioritySignals {
			add(s, "priority_signals")
		}
	}
	return vocab
}

// TextWarnings names every text the config inherited from the example that
// speaks of the example's business: a word of one of the example's
// departments (name, label, keyword) that is not a department of this config
// and that none of this config's departments uses. The reserved desks
// (fallback, emergency) are in every config, but not always with the
// example's words, so theirs count whatever this config calls them.
func (r *Routing) TextWarnings() []string {
	example := ExampleConfig().Routing
	foreign := map[string]bool{Fallback: true, Emergency: true}
	for name := range example.Departments {
		if _, ok := r.Departments[name]; !ok {
			foreign[name] = true
		}
	}
	theirs := example.vocabulary(foreign, false)
	ours := r.vocabulary(nil, true)
	var out []string
	for _, lang := range sortedKeys(r.Texts) {
		t := r.Texts[lang]
		if t == nil {
			continue
		}
		for _, f := range textFields(t) {
			if !t.inherited[f.name] {
				continue
			}
			for _, s := range f.sentences() {
				var named []string
				for _, w := range strings.FieldsFunc(s[1], func(r rune) bool { return !unicode.IsLetter(r) && r != '-' }) {
					stemmed := businessWords(w)
					if len(stemmed) == 0 {
						continue
					}
					if _, is := theirs[stemmed[0]]; is {
						if _, known := ours[stemmed[0]]; !known && !slices.Contains(named, w) {
							named = append(named, w)
						}
					}
				}
				if len(named) > 0 {
					fix := "write your own"
					if lang != r.Language {
						fix += ", or give the departments labels." + lang
					}
					out = append(out, fmt.Sprintf("routing.texts.%s.%s, from the example, names %q, which this config's departments do not: "+
						"callers hear %q; %s", lang, s[0], named, s[1], fix))
				}
			}
		}
	}
	return out
}

// DescribeTexts lists, per language, every sentence a caller can hear, the
// ones from the example marked, and each department's name as said in it.
func (r *Routing) DescribeTexts() []string {
	var out []string
	for _, lang := range sortedKeys(r.Texts) {
		t := r.Texts[lang]
		if t == nil {
			continue
		}
		head := lang
		if lang == r.Language {
			head += " (the default)"
		}
		out = append(out, head+":")
		for _, f := range textFields(t) {
			from := ""
			if t.inherited[f.name] {
				from = "  (example)"
			}
			for _, s := range f.sentences() {
				if s[1] != "" {
					out = append(out, fmt.Sprintf("  %-16s %s%s", s[0], s[1], from))
				}
			}
		}
		var labels []string
		for _, name := range r.DepartmentNames(true) {
			if d := r.Departments[name]; d != nil {
				l := fmt.Sprintf("%s %q", name, d.LabelIn(lang))
				if lang != r.Language && d.Labels[lang] == "" {
					l += " (no labels." + lang + ")"
				}
				labels = append(labels, l)
			}
		}
		sort.Strings(labels)
		out = append(out, "  {department}     "+strings.Join(labels, ", "))
	}
	return out
}

// languages are the languages m declares; nil for a nil mode (Validate says so).
func (m *Mode) languages() []string {
	if m == nil {
		return nil
	}
	return m.Languages
}
