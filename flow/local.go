package flow

import (
	"context"
	"math"
	"strings"
)

// Local is the built-in classifier: deterministic, no network and no model
// files, built only from the routing config (department names, labels,
// descriptions, keywords and examples). It is the default without a model and
// the safety net with one, so it must rather ask again than guess: weak or
// split evidence yields an unsure Verdict, which the router turns into a
// clarifying question.
//
// Each department collects weighted evidence for features (stemmed words, with
// synonyms folded together, and pairs of adjacent words) from its config.
// A feature's weight is scaled by how specific it is to one department, so a
// word every department uses ("account") decides nothing. A caller's words
// that the config never uses are matched to its nearest word within an edit
// or two, so "acident" still means "accident". Words also carry their broad
// meaning from the WordNet lexicon (lexicon.go): a config that says "buy"
// hears "purchase", and the emergency line is chosen only when the caller
// says something meaning harm. An extra "nobody" outcome starts with a fixed
// score and gains from the fallback desk's own config and from small talk; a
// softmax over all scores gives calibrated probabilities.
type Local struct {
	names   []string             // the labels, fallback left out
	urgent  int                  // index of the emergency line in names, or -1
	harm    func(string) bool    // the config's priority words
	weights map[string][]float64 // feature -> score per label; the last entry is "nobody"
	grams   map[string][]string  // character trigram -> vocabulary words containing it
	meaning *meaning             // what the config's words mean as word vectors; nil without vectors
}

// LocalOptions adjusts the local classifier; the zero value is the default.
type LocalOptions struct {
	// NoVectors leaves the word vectors (vectors.go) out: the classifier
	// hears only its config's words, their spelling and the lexicon.
	NoVectors bool
}

var _ Classifier = (*Local)(nil)

// Evidence weights. A keyword is what an operator says a department is about;
// an example is one way a caller might say it, so it counts less and saturates
// as examples pile up (examplePeak is approached, never passed).
const (
	nameWeight    = 3.0
	labelWeight   = 1.5
	keywordWeight = 3.0
	partWeight    = 1.0 // a word of a multi-word keyword on its own
	descWeight    = 1.0
	examplePeak   = 2.5
	exampleHalf   = 1.5 // examples containing a feature for half of examplePeak
	bigramShare   = 0.5 // a description's or example's word pairs, relative to words
	// conceptShare is a keyword's meaning relative to the keyword itself: the
	// operator's own word is surer evidence than what it broadly means.
	conceptShare = 0.5
	// nobodyPrior is the score of "nobody" before any evidence: a department
	// needs more than one weak hint to beat it.
	nobodyPrior = 1.6
	// sharpness scales scores into logits: higher means more confident. It was
	// chosen so that one keyword routes and one example word does not.
	sharpness = 1.2
)

// NewLocal builds the local classifier from a config.
func NewLocal(cfg *Config) *Local { return NewLocalWith(cfg, LocalOptions{}) }

// NewLocalWith builds the local classifier from a config with options.
func NewLocalWith(cfg *Config, opt LocalOptions) *Local {
	r := &cfg.Routing
	l := &Local{weights: map[string][]float64{}, grams: map[string][]string{}}
	l.names = r.DepartmentNames(false)
	l.harm = r.IsPriority
	l.urgent = -1
	for i, n := range l.names {
		if n == Emergency {
			l.urgent = i
		}
	}
	k := len(l.names)
	raw := map[string][]float64{}
	var said []string // the config's words as written, for their vectors
	hear := func(text string) {
		if !opt.NoVectors {
			said = append(said, tokens(text)...)
		}
	}
	add := func(i int, f string, w float64) {
		if raw[f] == nil {
			raw[f] = make([]float64, k+1)
		}
		raw[f][i] = max(raw[f][i], w)
	}
	learn := func(i int, name string, d *Department) {
		if d == nil {
			return
		}
		hear(name)
		hear(d.Label)
		hear(d.Description)
		for _, kw := range d.Keywords {
			hear(kw)
		}
		for _, e := range d.Examples {
			hear(e)
		}
		ev := map[string]float64{} // this department's evidence, before saturation
		put := func(f string, w float64) { ev[f] = max(ev[f], w) }
		for _, seg := range segments(name) {
			for _, f := range seg {
				put(f, nameWeight)
			}
		}
		for _, seg := range segments(d.Label) {
			for _, f := range seg {
				put(f, labelWeight)
			}
		}
		// What the config's words mean, so that a caller who says it in
		// other words ("purchase", "pilfered") is heard too.
		for _, c := range concepts(name + " " + d.Label) {
			put(c, labelWeight)
		}
		for _, kw := range d.Keywords {
			for _, c := range concepts(kw) {
				put(c, keywordWeight*conceptShare)
			}
			var words []string
			for _, seg := range segments(kw) {
				words = append(words, seg...)
			}
			if len(words) == 1 {
				put(words[0], keywordWeight)
				continue
			}
			for j, f := range words {
				put(f, partWeight)
				if j > 0 {
					put(bigram(words[j-1], f), keywordWeight)
				}
			}
		}
		desc := map[string]float64{}
		for _, c := range concepts(d.Description) {
			desc[c] = descWeight
		}
		for _, seg := range segments(d.Description) {
			for j, f := range seg {
				desc[f] = descWeight
				if j > 0 {
					desc[bigram(seg[j-1], f)] = descWeight * bigramShare
				}
			}
		}
		seen := map[string]float64{} // feature -> number of examples using it
		for _, e := range d.Examples {
			once := map[string]float64{}
			for _, c := range concepts(e) {
				once[c] = 1
			}
			for _, seg := range segments(e) {
				for j, f := range seg {
					once[f] = 1
					if j > 0 {
						once[bigram(seg[j-1], f)] = max(once[bigram(seg[j-1], f)], bigramShare)
					}
				}
			}
			for f, n := range once {
				seen[f] += n
			}
		}
		for f, w := range desc {
			ev[f] += w
		}
		for f, n := range seen {
			ev[f] += examplePeak * n / (n + exampleHalf)
		}
		for f, w := range ev {
			add(i, f, w)
		}
	}
	for i, name := range l.names {
		learn(i, name, r.Departments[name])
	}
	if fb := r.Departments[r.Fallback.Destination]; fb != nil {
		fbc := *fb
		fbc.Label = "" // "Main Reception" says nothing about what callers ask
		learn(k, "", &fbc)
	}
	// Small talk (games, films, food, animals, weather, jokes) is evidence
	// that nobody is wanted, wherever a caller calls.
	add(k, leisureClass, keywordWeight/2)
	// A feature counts for a department by its weight there times its share
	// of all its weight: one only that department uses counts in full, one two
	// departments use alike counts half for each and so decides nothing.
	for f, ws := range raw {
		total := 0.0
		for _, w := range ws {
			total += w
		}
		if total == 0 {
			continue
		}
		out := make([]float64, k+1)
		for i, w := range ws {
			out[i] = w * w / total
		}
		l.weights[f] = out
		if !strings.Contains(f, "+") && len(f) >= 4 {
			for _, t := range trigrams(f) {
				l.grams[t] = append(l.grams[t], f)
			}
		}
	}
	if !opt.NoVectors {
		l.meaning = newMeaning(said, l.weights, k)
	}
	return l
}

// Classify scores each department by the caller's words in all turns. When
// those words leave it unsure, it asks what they mean (see meaning) for a
// second opinion.
func (l *Local) Classify(_ context.Context, turns []string) (Verdict, error) {
	t := tally{l: l, scores: make([]float64, len(l.names)+1), seen: map[string]bool{}}
	t.hear(turns)
	v := l.verdict(t.scores, t.shut(turns))
	if l.meaning == nil || v.Department != "" && v.Confidence >= sureAt {
		return v, nil
	}
	l.meaning.listen(&t, turns)
	return l.verdict(t.scores, t.shut(turns)), nil
}

// tally is the evidence heard so far in one call.
type tally struct {
	l      *Local
	scores []float64       // per label, "nobody" last
	seen   map[string]bool // a word said twice is not twice the evidence
	harmed bool            // harm was said
}

func (t *tally) add(f string, factor float64) {
	if t.seen[f] {
		return
	}
	t.seen[f] = true
	for i, w := range t.l.weights[f] {
		t.scores[i] += w * factor
	}
}

// hear scores the caller's words as the config and the lexicon know them.
func (t *tally) hear(turns []string) {
	l := t.l
	t.scores[len(l.names)] = nobodyPrior
	for _, turn := range turns {
		words := conceptWords(turn)
		for _, c := range conceptsOf(words) {
			t.add(c, 1)
			t.harmed = t.harmed || harmClasses[c]
		}
		if l.meaning != nil && !t.harmed && suspect(words) {
			// heard as if the caller had said it: what the config calls fraud
			for _, f := range []string{fraudClass, normalize("fraud"), normalize("suspicious")} {
				t.add(f, 1)
			}
			t.harmed = true
		}
		for _, seg := range segments(turn) {
			for j, f := range seg {
				if l.weights[f] != nil {
					t.add(f, 1)
				} else if near, sim := l.nearest(f); near != "" {
					t.add(near, sim)
					seg[j] = near // so that its pairs match too
					// and its meaning: "acident" is an accident
					for _, c := range stemClasses[near] {
						t.add(c, sim)
						t.harmed = t.harmed || harmClasses[c]
					}
				}
				if j > 0 {
					t.add(bigram(seg[j-1], seg[j]), 1)
				}
			}
		}
	}
}

// shut returns the emergency line's index when it stays shut, else -1: it
// opens only when harm was said. "My card" is not an emergency, "I lost my
// card" is.
func (t *tally) shut(turns []string) int {
	l := t.l
	if l.urgent < 0 || t.harmed {
		return -1
	}
	if t.scores[l.urgent] > 0 {
		for _, turn := range turns { // the config's priority words are harm too
			if l.harm(turn) {
				return -1
			}
		}
	}
	return l.urgent
}

// verdict turns scores into probabilities with a softmax over the labels and
// "nobody", label shut left out; an unsure Verdict when nobody wins.
func (l *Local) verdict(scores []float64, shut int) Verdict {
	k := len(l.names)
	top := math.Inf(-1)
	for i, s := range scores {
		if i != shut {
			top = max(top, s)
		}
	}
	probs := make([]float64, k+1)
	total := 0.0
	for i, s := range scores {
		if i == shut {
			continue // probability 0
		}
		probs[i] = math.Exp(sharpness * (s - top)) // shifted by top: no overflow
		total += probs[i]
	}
	best, second := -1, -1
	for i := range k {
		probs[i] /= total
		switch {
		case best < 0 || probs[i] > probs[best]:
			best, second = i, best
		case second < 0 || probs[i] > probs[second]:
			second = i
		}
	}
	nobody := probs[k] / total
	runnerUp := nobody
	if second >= 0 {
		runnerUp = max(runnerUp, probs[second])
	}
	if best < 0 || nobody >= probs[best] {
		return Verdict{Confidence: nobody, RunnerUp: max(0, probs[max(best, 0)])}
	}
	return Verdict{Department: l.names[best], Confidence: probs[best], RunnerUp: runnerUp}
}

// nearest finds the vocabulary word most like w, for misspellings and forms
// the stemmer missed: among the words sharing a character trigram and the
// first letter with w, the one at the smallest edit distance (transpositions
// count once), if that is at most one edit, or two in a long word. The similarity it
// returns scales the word's evidence down.
func (l *Local) nearest(w string) (string, float64) {
	if len(w) < 6 { // a short word is one edit away from too many others
		return "", 0
	}
	allowed := 1
	if len(w) >= 8 {
		allowed = 2
	}
	best, bestSim := "", 0.0
	seen := map[string]bool{}
	for _, t := range trigrams(w) {
		for _, v := range l.grams[t] {
			// Misspellings seldom change the first letter; requiring it keeps
			// "scale" from meaning "sale".
			if seen[v] || v[0] != w[0] || len(v) < len(w)-allowed || len(v) > len(w)+allowed {
				continue
			}
			seen[v] = true
			d := editDistance(w, v)
			if d > allowed {
				continue
			}
			sim := 1 - float64(d)/float64(max(len(w), len(v)))
			if sim > bestSim || sim == bestSim && v < best {
				best, bestSim = v, sim
			}
		}
	}
	return best, bestSim
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of neighbours each cost one.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// trigrams returns the distinct character trigrams of w padded with ^ and $.
func trigrams(w string) []string {
	p := "^" + w + "$"
	var out []string
	for i := 0; i+3 <= len(p); i++ {
		t := p[i : i+3]
		dup := false
		for _, o := range out {
			dup = dup || o == t
		}
		if !dup {
			out = append(out, t)
		}
	}
	return out
}
