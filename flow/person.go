package flow

import (
	"context"
	"fmt"
	"strings"
)

// Asking for a person. It is the first thing many callers say to an
// automated line ("can I talk to a real person", "operator"), and they get
// one at once: the person desk (routing.person.desk, default the fallback
// desk). Words that also say what the caller needs ("can I speak to someone
// in billing") go to that department. The rules, in one place:
//
//   - a person phrase of the caller's language (routing.person.phrases, else
//     the defaults below, by language tag or its first part, "es" for
//     "es-ES"), matched as priority signals are: whole words, any case;
//   - the model's label AskedPerson ("person", or "human", "operator",
//     "agent", "representative") when it is sure enough;
//   - the key 0 (KeyOperator) at any key prompt (the keypad menu, a keypad tree, the
//     language offer, the account entry);
//   - priority signals still come first.

// AskedPerson is the classifier's label for a caller who asks for a human
// without saying what they need. It is reserved: no department may take it.
const AskedPerson = "person"

// Person configures requests for a person.
type Person struct {
	// Desk is the department that takes them; empty: the fallback desk.
	Desk string `json:"desk,omitempty"`
	// Phrases are what callers say to ask for a person, by language (a
	// BCP-47 tag, or its first part); a language here replaces the defaults.
	Phrases map[string][]string `json:"phrases,omitempty"`
}

// defaultPersonPhrases are general language, not a business's: what callers
// say to reach a human in the languages Switchboard ships texts for.
var defaultPersonPhrases = map[string][]string{
	// Phrases shaped as requests where a word alone is a business's
	// ("a nearby insurance agent", "a person on my policy").
	"en": {"real person", "live person", "to a person", "with a person", "a human", "human being", "real human",
		"operator", "representative", "an agent", "live agent", "receptionist", "speak to someone",
		"talk to someone", "speak with someone", "talk with someone", "somebody real", "someone real"},
	"es": {"con una persona", "persona real", "un humano", "ser humano", "operador", "operadora", "un agente",
		"una agente", "representante", "recepcionista", "hablar con alguien"},
}

// personDesk is the department that takes a caller who asks for a person.
func (r *Routing) personDesk() string {
	if r.Person != nil && r.Person.Desk != "" {
		return r.Person.Desk
	}
	return r.Fallback.Destination
}

// personPhrases are the person phrases of lang, as words.
func (r *Routing) personPhrases(lang string) [][]string {
	primary, _, _ := strings.Cut(lang, "-")
	for _, key := range []string{lang, primary} {
		if p, ok := r.person[key]; ok {
			return p
		}
	}
	return nil
}

// compilePerson turns the default and configured person phrases into words,
// by language key; a configured language replaces the defaults' for it.
func (r *Routing) compilePerson() {
	r.person = map[string][][]string{}
	for key, ps := range defaultPersonPhrases {
		r.person[key] = compileSignals(ps)
	}
	if r.Person != nil {
		for key, ps := range r.Person.Phrases {
			r.person[key] = compileSignals(ps)
		}
	}
}

// askedPerson returns the words of the caller's lines with the person phrase
// they hold taken out (what else they said), and whether any held one.
func (r *Routing) askedPerson(lines []string, lang string) (rest []string, asked bool) {
	phrases := r.personPhrases(lang)
	for _, line := range lines {
		said := words(line)
		for _, sig := range phrases {
			if holds(said, sig) {
				asked = true
				break
			}
		}
	}
	if !asked {
		return nil, false
	}
	for _, line := range lines {
		said := words(line)
		for _, sig := range phrases {
			for i := 0; i+len(sig) <= len(said); i++ {
				if holds(said[i:i+len(sig)], sig) {
					said = append(said[:i:i], said[i+len(sig):]...)
				}
			}
		}
		if len(said) > 0 {
			rest = append(rest, strings.Join(said, " "))
		}
	}
	return rest, true
}

// toPerson sends a caller who asked for a person where their words say, when
// the local classifier is sure of a department from the rest of them, else
// to the person desk.
func (r *Router) toPerson(ctx context.Context, c *Call, rest []string) decision {
	if len(rest) > 0 {
		if v, err := r.local.Classify(ctx, rest); err == nil {
			if dept := r.confident(v); dept != "" && dept != Emergency {
				return r.route(c, dept, "person", v.Confidence)
			}
		}
	}
	return r.transfer(c, r.cfg.personDesk(), "person")
}

// personProblems names what is wrong with routing.person.
func (r *Routing) personProblems() []string {
	if r.Person == nil {
		return nil
	}
	var out []string
	if d := r.Person.Desk; d != "" && r.Departments[d] == nil {
		out = append(out, fmt.Sprintf("routing.person.desk: %q is not a department", d))
	}
	for lang, ps := range r.Person.Phrases {
		for _, p := range ps {
			if why := signalProblem(p); why != "" {
				out = append(out, fmt.Sprintf("routing.person.phrases.%s: %s", lang, why))
			}
		}
	}
	return out
}
