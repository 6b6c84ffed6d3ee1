package flow

import (
	"context"
	"math"
	"strings"
	"unicode"
)

// Local is the built-in classifier: deterministic, no network, built only from
// the routing config (department names, labels, descriptions, keywords and
// examples). It is the default without a model and the safety net with one.
type Local struct {
	names   []string
	weights map[string]map[string]float64 // term -> department -> weight
}

var _ Classifier = (*Local)(nil)

// NewLocal builds the local classifier from a config.
func NewLocal(cfg *Config) *Local {
	l := &Local{weights: map[string]map[string]float64{}}
	for _, name := range cfg.Routing.DepartmentNames(false) {
		d := cfg.Routing.Departments[name]
		l.names = append(l.names, name)
		l.add(name, name, 3)
		l.add(name, d.Label, 2)
		l.add(name, d.Description, 0.5)
		for _, k := range d.Keywords {
			l.add(name, k, 2)
		}
		for _, e := range d.Examples {
			l.add(name, e, 0.5)
		}
	}
	return l
}

func (l *Local) add(dept, text string, w float64) {
	for _, t := range terms(text) {
		if l.weights[t] == nil {
			l.weights[t] = map[string]float64{}
		}
		l.weights[t][dept] = max(l.weights[t][dept], w)
	}
}

// Classify scores each department by the terms the caller used.
func (l *Local) Classify(_ context.Context, turns []string) (Verdict, error) {
	scores := map[string]float64{}
	for _, t := range terms(strings.Join(turns, " ")) {
		for dept, w := range l.weights[t] {
			scores[dept] += w
		}
	}
	return verdictFromScores(scores, 1.0), nil
}

// verdictFromScores turns scores into probabilities with a softmax that keeps
// an "unknown" outcome at score 0, so weak evidence stays unsure.
func verdictFromScores(scores map[string]float64, temperature float64) Verdict {
	total := 1.0 // exp(0) for unknown
	best, second := "", 0.0
	bestP := 0.0
	for _, s := range scores {
		total += math.Exp(s / temperature)
	}
	for dept, s := range scores {
		p := math.Exp(s/temperature) / total
		switch {
		case p > bestP || p == bestP && dept < best:
			second, best, bestP = bestP, dept, p
		case p > second:
			second = p
		}
	}
	if unknownP := 1 / total; unknownP >= bestP {
		return Verdict{Confidence: unknownP, RunnerUp: bestP}
	}
	return Verdict{Department: best, Confidence: bestP, RunnerUp: max(second, 1/total)}
}

// stopwords carry no department; read-only after start.
var stopwords = wordSet(`a an the i me my we our you your it is are was be to of in on for and or
	with at this that have has had do does did can could would like want need please hi hello hey sir madam
	yes no so just about question thanks thank some there here get`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// terms lower-cases, splits on non-letters, drops stopwords and stems.
func terms(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if stopwords[w] || len(w) < 2 {
			continue
		}
		out = append(out, stem(w))
	}
	return out
}

func stem(w string) string {
	for _, suf := range []string{"ing", "ed", "es", "s"} {
		if len(w) > len(suf)+3 && strings.HasSuffix(w, suf) {
			return w[:len(w)-len(suf)]
		}
	}
	return w
}
