package flow

import (
	"context"
	"slices"
	"strings"
	"unicode"
)

// Availability is implemented by classifiers that know when they cannot
// answer, such as a model behind an open circuit breaker.
type Availability interface {
	Available() bool
}

// Languages is implemented by classifiers that can be told the caller's
// language, such as a model whose prompt then says which language the
// caller's words are in.
type Languages interface {
	// ForLanguage returns the classifier for callers speaking lang, a BCP-47 tag.
	ForLanguage(lang string) Classifier
}

// classify asks the model (told the caller's language) about requests long
// enough to be worth it, and the local classifier about the rest and when
// the model fails. It returns the verdict that counts and who gave it;
// confident says whether it routes. Too few words never reach the model (the
// seed's fourth pitfall): they route only when the local classifier hears a
// department named. The answer it went by, sure or not, is noted on the call.
func (r *Router) classify(ctx context.Context, c *Call) (Verdict, string) {
	turns := c.Turns
	if !r.willAskModel(turns) {
		return r.classifyLocally(ctx, c), "local"
	}
	model := r.model
	if l, ok := model.(Languages); ok && c.Language != r.cfg.Language {
		model = l.ForLanguage(c.Language)
	}
	// Account and card numbers say nothing about the department, and must
	// not leave for a model's provider: it sees them masked.
	masked := make([]string, len(turns))
	for i, t := range turns {
		masked[i] = Redact(t) // digits, and numbers spoken as words
	}
	start := r.Now()
	v, err := model.Classify(ctx, masked)
	c.ModelMS += r.Now().Sub(start).Milliseconds()
	if err != nil {
		r.log.WarnContext(ctx, "model unavailable; using the local classifier", "err", err)
		return r.classifyLocally(ctx, c), "local"
	}
	c.Guess, c.Confidence = v.Department, v.Confidence
	return v, "model"
}

// verdictMemo keeps one classification across the tries of a turn, with
// what it noted on the call, so that a try after a lost compare-and-set does
// not ask the model again about the same words.
type verdictMemo struct {
	turns      []string
	v          Verdict
	by         string
	modelMS    int64
	guess      string
	conf       float64
	remembered bool
}

// classifyOnce is classify, answered from t's memo when the turns are the
// same. A fetch never waits on the model (see FetchBudget): when one
// classifies, the decision on the words' arrival was lost twice, and the
// local classifier answers.
func (r *Router) classifyOnce(ctx context.Context, c *Call, t *turn) (Verdict, string) {
	if t.ch.Fetches && !t.OnWords {
		return r.classifyLocally(ctx, c), "local"
	}
	m := t.memo
	if m != nil && m.remembered && slices.Equal(m.turns, c.Turns) {
		c.ModelMS += m.modelMS
		c.Guess, c.Confidence = m.guess, m.conf
		return m.v, m.by
	}
	before := c.ModelMS
	v, by := r.classify(ctx, c)
	if m != nil {
		*m = verdictMemo{turns: slices.Clone(c.Turns), v: v, by: by, modelMS: c.ModelMS - before,
			guess: c.Guess, conf: c.Confidence, remembered: true}
	}
	return v, by
}

// classifyLocally asks the local classifier and notes its answer on c. It is
// asked only when its answer counts, and even when ctx has ended (the model
// used up the time): its answer is then the caller's way on.
func (r *Router) classifyLocally(ctx context.Context, c *Call) Verdict {
	v, err := r.local.Classify(context.WithoutCancel(ctx), c.Turns)
	if err != nil {
		r.log.WarnContext(ctx, "local classifier failed", "err", err)
		v = Verdict{}
	}
	c.Guess, c.Confidence = v.Department, v.Confidence
	return v
}

// willAskModel reports whether classify would ask the model about turns.
func (r *Router) willAskModel(turns []string) bool {
	if r.model == nil || countWords(turns) < r.cfg.Dialog.MinWords {
		return false
	}
	a, ok := r.model.(Availability)
	return !ok || a.Available()
}

// confident returns v's department when it clears the confidence threshold and
// the margin to the runner-up, else "".
func (r *Router) confident(v Verdict) string {
	if v.Department == "" || v.Confidence < r.cfg.LLM.MinConfidence || v.Confidence-v.RunnerUp < r.cfg.LLM.MinMargin {
		return ""
	}
	if _, ok := r.cfg.Department(v.Department); !ok || v.Department == Fallback {
		return ""
	}
	return v.Department
}

// countWords counts the words in all turns.
func countWords(turns []string) int {
	n := 0
	for _, t := range turns {
		n += len(strings.FieldsFunc(t, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' }))
	}
	return n
}
