package prompts

import (
	"math"
	"strings"
	"unicode"

	"github.com/sashabaranov/go-openai"
	"github.com/switchboard/switchboard/flow"
)

// maxShortWords bounds an answer that may be searched for a department name.
// The model is asked for one word and max_tokens is small, so a few words of
// filler ("I think it's billing") are drift worth reading; anything longer is a
// model ignoring its instructions, and we trust none of it.
const maxShortWords = 8

// labels reads model output against one routing table. It is immutable after
// newLabels, so one value serves concurrent calls.
type labels struct {
	names map[string]bool // the departments the model may answer
	// phrases maps every recognised phrase (a name, a label's words, "unknown",
	// the fallback desk) to its department, or to "" for an answer that is a
	// valid word but not a department.
	phrases map[string]string
}

func newLabels(r *flow.Routing) labels {
	l := labels{names: map[string]bool{}, phrases: map[string]string{unknown: ""}}
	for _, name := range r.DepartmentNames(false) {
		l.names[name] = true
		l.phrases[name] = name
	}
	// A label never shadows a name or "unknown", and a label shared by two
	// departments, or the fallback desk's, is a valid answer naming no department.
	byLabel := map[string][]string{}
	for _, name := range r.DepartmentNames(true) {
		if d, ok := r.Department(name); ok {
			if p := strings.Join(words(d.Label), " "); p != "" {
				byLabel[p] = append(byLabel[p], name)
			}
		}
	}
	for p, names := range byLabel {
		if _, taken := l.phrases[p]; taken {
			continue
		}
		l.phrases[p] = ""
		if len(names) == 1 && l.names[names[0]] {
			l.phrases[p] = names[0]
		}
	}
	l.phrases[flow.Fallback] = ""
	// A caller who only asks for a human: the model's label, and the words
	// a model drifts to for it.
	l.names[flow.AskedPerson] = true
	for _, p := range []string{flow.AskedPerson, "human", "operator", "agent", "representative"} {
		l.phrases[p] = flow.AskedPerson
	}
	return l
}

// words lower-cases s and splits it on everything that is not a letter.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) })
}

// department reads the model's answer (the seed's first pitfall: output drift).
// It returns a configured department, or "" for anything else: empty output,
// "unknown", a label that is not configured, several departments, or prose.
// It never returns a name it was not configured with, so no transcript can
// talk the model into an arbitrary destination.
func (l labels) department(answer string) string {
	ws := words(answer)
	if len(ws) == 0 {
		return ""
	}
	if joined := strings.Join(ws, ""); l.names[joined] {
		return joined // "Sales.", "SUPPORT!", " billing\n"
	}
	phrase := strings.Join(ws, " ")
	if d, ok := l.phrases[phrase]; ok {
		return d // "technical support", "unknown"
	}
	if len(ws) > maxShortWords {
		return ""
	}
	// A short answer naming exactly one option: "I think it's billing".
	padded := " " + phrase + " "
	found := map[string]bool{}
	for p, d := range l.phrases {
		if strings.Contains(padded, " "+p+" ") {
			found[d] = true
		}
	}
	if len(found) != 1 {
		return ""
	}
	for d := range found {
		return d
	}
	return ""
}

// tokenDepartment maps one token to the department whose name it starts or is
// started by ("bill" and "billing" both mean billing). ok is false for tokens
// that are empty or could start several names: they say nothing we can use.
// A token that maps to no department returns "", true: probability for
// "unknown" or for anything else the model might have said.
func (l labels) tokenDepartment(token string) (dept string, ok bool) {
	t := strings.Join(words(token), "")
	if t == "" {
		return "", false
	}
	matches := 0
	for name := range l.names {
		if strings.HasPrefix(name, t) || strings.HasPrefix(t, name) {
			dept = name
			matches++
		}
	}
	switch matches {
	case 0:
		return "", true
	case 1:
		return dept, true
	default:
		return "", false
	}
}

// confidence fills v's Confidence and RunnerUp from the answer's logprobs. It
// reads the top_logprobs of the first token that spells the chosen department
// (the first token at all when unsure or none does), sums the probability of
// the tokens that map to each department, and keeps everything else as the
// probability of "unknown". Probabilities are not renormalised: the mass the
// top tokens leave out is spread over other words, none of them a department.
// Without usable logprobs the model cannot tell us, so Confidence is 1.
func (l labels) confidence(v *flow.Verdict, lp *openai.LogProbs) {
	v.Confidence, v.RunnerUp = 1, 0
	if lp == nil {
		return
	}
	pos := -1
	for i, tok := range lp.Content {
		d, ok := l.tokenDepartment(tok.Token)
		if !ok {
			continue
		}
		if pos < 0 {
			pos = i
		}
		if v.Department != "" && d == v.Department {
			pos = i
			break
		}
	}
	if pos < 0 || len(lp.Content[pos].TopLogProbs) == 0 {
		return
	}
	dist := map[string]float64{}
	for _, top := range lp.Content[pos].TopLogProbs {
		if d, ok := l.tokenDepartment(top.Token); ok {
			dist[d] += math.Exp(top.LogProb)
		}
	}
	v.Confidence = min(dist[v.Department], 1)
	for d, p := range dist {
		if d != v.Department && p > v.RunnerUp {
			v.RunnerUp = min(p, 1)
		}
	}
}
