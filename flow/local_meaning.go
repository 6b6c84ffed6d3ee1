package flow

// meaning is what the config's words mean as word vectors (vectors.go), built
// once per config. The local classifier asks it only when its own evidence
// leaves it unsure, for two things word tables cannot give:
//   - a bridge: a caller's word that the config never uses ("cushions")
//     counts as the config word nearest in meaning ("pillows"), if near enough;
//   - a second opinion: the direction of all the caller's words against each
//     department's words and against small talk. When it points where the
//     caller's words already lean, that department is chosen; when it does
//     not, the classifier still asks again.
//
// Neither can open the emergency line: that needs harm said, because vectors
// put "won" beside "lost". Vectors hear one kind of harm words alone cannot
// (see suspect): money moved in a way the caller finds odd.
type meaning struct {
	anchors []anchor // the config's words that have a vector, each once
	// centre is, per label with "nobody" last, the direction of its words,
	// each weighted by how much it singles the label out, less common.
	centre []vec
	common vec // the direction all the config's words share
}

// anchor is one config word: its feature (see normalize) and its vector.
type anchor struct {
	feature string
	v       vec
}

// How the vectors count; chosen on held-out sources of the dev corpus (see
// the README's evaluation section).
const (
	sureAt = 0.5 // a lexical verdict this confident is not second-guessed
	// commonRank: the most frequent English words ("take", "make") are near
	// too many others to bridge from.
	commonRank = 500
	bridgeMin  = 0.6 // cosine under which two words are not the same thing
	// A bridged word counts as the config word times how far its cosine is
	// from bridgeMin towards 1.
	bridgeShare = 1.0
	// The second opinion counts only when its best label beats the next by
	// opinionMargin in cosine, and when the words already lean to that label
	// with leanMin of score; it then adds opinionGain.
	opinionMargin = 0.05
	leanMin       = 0.5
	opinionGain   = 1.5
	// leisureShare weighs the lexicon's small-talk words in "nobody"'s
	// direction against the fallback desk's own words.
	leisureShare = 0.1
)

// suspect reports an odd-looking movement of money in the words of a turn: a
// word near "strange" or "suspicious" in meaning ("weird", "unusual",
// "mysterious") before, or one word before, a word near "transactions"
// ("payments", "purchases", "transfers"). A caller who does not recognise
// what moved their money fears fraud even without saying the word.
func suspect(words []string) bool {
	for j, w := range words {
		if j == 0 || !nearAny(w, moneyMoves, moneyNear) {
			continue
		}
		for _, a := range words[max(0, j-2):j] {
			if nearAny(a, oddness, oddNear) {
				return true
			}
		}
	}
	return false
}

// The seeds of suspect, and how near a word must be to one of them.
var (
	oddness    = seedVectors("strange", "suspicious")
	moneyMoves = seedVectors("transactions")
)

const (
	oddNear   = 0.65
	moneyNear = 0.6
)

func seedVectors(words ...string) []vec {
	var out []vec
	for _, w := range words {
		if i := vectors.lookup(w); i >= 0 {
			out = append(out, vectors.unit(i))
		}
	}
	return out
}

// nearAny reports whether w has a vector within cosine min of one of seeds.
func nearAny(w string, seeds []vec, min float32) bool {
	if stopwords[w] || len(w) < 3 {
		return false
	}
	i := vectors.lookup(w)
	if i < 0 {
		return false
	}
	u := vectors.unit(i)
	for _, s := range seeds {
		if u.dot(&s) >= min {
			return true
		}
	}
	return false
}

// newMeaning collects the vectors of the words the config said (as written,
// stopwords left out) whose feature has weights, and each label's centre.
func newMeaning(said []string, weights map[string][]float64, k int) *meaning {
	m := &meaning{centre: make([]vec, k+1)}
	seen := map[string]bool{}
	for _, w := range said {
		if seen[w] || stopwords[w] || ownedForms[w] {
			continue
		}
		seen[w] = true
		f := normalize(w)
		ws := weights[f]
		i := vectors.lookup(w)
		if f == "" || ws == nil || i < 0 {
			continue
		}
		m.anchors = append(m.anchors, anchor{f, vectors.unit(i)})
		for d, x := range ws {
			if x > 0 {
				vectors.addTo(&m.centre[d], i, float32(x)*informative(i))
			}
		}
		for j, x := range m.anchors[len(m.anchors)-1].v {
			m.common[j] += x
		}
	}
	for _, form := range leisureForms {
		if i := vectors.lookup(form); i >= 0 {
			vectors.addTo(&m.centre[k], i, leisureShare*informative(i))
		}
	}
	m.common.normalize()
	for d := range m.centre {
		m.centre[d].normalize()
		m.centre[d].remove(&m.common)
		m.centre[d].normalize()
	}
	return m
}

// listen adds to t what the caller's words mean: bridges for the words the
// config does not know, then the second opinion.
func (m *meaning) listen(t *tally, turns []string) {
	var caller vec
	heard := false
	for _, turn := range turns {
		for _, w := range tokens(turn) {
			if stopwords[w] || w == "not" || len(w) < 2 {
				continue
			}
			i := vectors.lookup(w)
			if i < 0 {
				continue
			}
			vectors.addTo(&caller, i, informative(i))
			heard = true
			if f := normalize(w); i >= commonRank && f != "" && t.l.weights[f] == nil {
				if near, _ := t.l.nearest(f); near == "" { // not a misspelling of a config word
					m.bridge(t, i)
				}
			}
		}
	}
	if !heard {
		return // greetings and courtesy alone mean nothing
	}
	caller.normalize()
	caller.remove(&m.common)
	caller.normalize()
	shut := t.shut(turns) // no lean to an emergency line that harm has not opened
	lean := -1
	for d := range len(m.centre) - 1 {
		if d != shut && t.scores[d] >= leanMin && (lean < 0 || t.scores[d] > t.scores[lean]) {
			lean = d
		}
	}
	vote, best, second := -1, float32(-2), float32(-2)
	for d := range m.centre {
		switch c := caller.dot(&m.centre[d]); {
		case c > best:
			vote, best, second = d, c, best
		case c > second:
			second = c
		}
	}
	if lean >= 0 && vote == lean && best-second > opinionMargin {
		t.scores[lean] += opinionGain
	}
}

// bridge adds the evidence of the config word nearest in meaning to word i.
func (m *meaning) bridge(t *tally, i int32) {
	u := vectors.unit(i)
	best, sim := -1, float32(bridgeMin)
	for a := range m.anchors {
		if s := u.dot(&m.anchors[a].v); s > sim {
			best, sim = a, s
		}
	}
	if best >= 0 {
		t.add(m.anchors[best].feature, bridgeShare*float64(sim-bridgeMin)/(1-bridgeMin))
	}
}
