package eval

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/switchboard/switchboard/flow"
)

// Report is the summary of one setup's run.
type Report struct {
	Name string `json:"name"`
	// At is the moment every conversation started at, for opening hours;
	// zero: the config has none, and the moment does not matter.
	At time.Time `json:"at,omitzero"`
	// Zone is the time zone of the business's hours, for showing At.
	Zone string `json:"zone,omitempty"`
	// Folds is the number of cross-validation folds, 0 for a plain run.
	Folds int `json:"folds,omitempty"`
	// FoldsBy is "source" when each fold was one source of the corpus, held out.
	FoldsBy string `json:"folds_by,omitempty"`
	// Sources holds each held-out source's own figures in a by-source run.
	Sources []*Report `json:"sources,omitempty"`
	N       int       `json:"n"`
	// Accuracy is the share of conversations that ended where their label says;
	// an unknown one is right at the fallback desk or still clarifying.
	Accuracy float64 `json:"accuracy"`
	// MacroF1 is the mean F1 over the labels present, unknown included
	// (predicted as unknown: fallback or still clarifying).
	MacroF1 float64 `json:"macro_f1"`
	// ClarifyRate is the share of conversations that ran out of turns while the
	// flow was still asking; AskedRate the share that heard at least one question.
	ClarifyRate float64 `json:"clarify_rate"`
	AskedRate   float64 `json:"asked_rate"`
	// EmergencyRecall is the emergency label's recall, NaN-free: 0 without such labels.
	EmergencyRecall float64 `json:"emergency_recall"`
	// GreetingOnly counts conversations with no request at all, and
	// GreetingMisroutes those of them sent to a department anyway.
	GreetingOnly      int     `json:"greeting_only"`
	GreetingMisroutes int     `json:"greeting_misroutes"`
	LatencyP50MS      float64 `json:"latency_p50_ms"`
	LatencyP95MS      float64 `json:"latency_p95_ms"`
	// TokensPerCall is the mean model tokens spent per conversation.
	TokensPerCall float64 `json:"tokens_per_call"`
	// Departments holds each label's precision and recall, unknown included.
	Departments map[string]Score `json:"departments"`
	// Labels and Outcomes order the confusion matrix's rows and columns;
	// Confusion[label][outcome] counts conversations.
	Labels    []string                  `json:"labels"`
	Outcomes  []string                  `json:"outcomes"`
	Confusion map[string]map[string]int `json:"confusion"`
	Mistakes  []Outcome                 `json:"mistakes,omitempty"`
	// Suggestions are candidate config changes (eval --suggest).
	Suggestions []Suggestions `json:"suggestions,omitempty"`

	fallback string
	outs     []Outcome
}

// Score is one label's precision and recall.
type Score struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// Summarize computes a Report from outcomes played on cfg.
func Summarize(name string, cfg *flow.Config, outs []Outcome) *Report {
	fb := cfg.Routing.Fallback.Destination
	r := &Report{Name: name, N: len(outs), Departments: map[string]Score{}, Confusion: map[string]map[string]int{}, fallback: fb, outs: outs}
	if len(outs) == 0 {
		return r
	}
	// predicted maps an outcome onto the label space: the fallback desk and a
	// caller still being asked are both "nobody took it".
	predicted := func(o Outcome) string {
		if o.Got == fb || o.Got == Clarify {
			return Unknown
		}
		return o.Got
	}
	labels, outcomes := map[string]bool{}, map[string]bool{}
	truePos, predCount, labelCount := map[string]int{}, map[string]int{}, map[string]int{}
	right, clarified, asked, tokens := 0, 0, 0, 0
	var lat []time.Duration
	for _, o := range outs {
		labels[o.Department], outcomes[o.Got] = true, true
		if r.Confusion[o.Department] == nil {
			r.Confusion[o.Department] = map[string]int{}
		}
		r.Confusion[o.Department][o.Got]++
		p := predicted(o)
		labelCount[o.Department]++
		predCount[p]++
		if o.Right(fb) {
			right++
			truePos[o.Department]++
		} else {
			r.Mistakes = append(r.Mistakes, o)
		}
		if o.Got == Clarify {
			clarified++
		}
		if o.Asked > 0 {
			asked++
		}
		if greetingOnly(o.Conversation) {
			r.GreetingOnly++
			if p != Unknown {
				r.GreetingMisroutes++
			}
		}
		tokens += o.Tokens
		lat = append(lat, o.Latency)
	}
	n := float64(len(outs))
	r.Accuracy = float64(right) / n
	r.ClarifyRate = float64(clarified) / n
	r.AskedRate = float64(asked) / n
	r.TokensPerCall = float64(tokens) / n
	r.LatencyP50MS, r.LatencyP95MS = percentile(lat, 0.50), percentile(lat, 0.95)

	f1s := 0.0
	for l := range labels {
		s := Score{Support: labelCount[l]}
		s.Precision = ratio(truePos[l], predCount[l])
		s.Recall = ratio(truePos[l], labelCount[l])
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		r.Departments[l] = s
		f1s += s.F1
	}
	r.MacroF1 = f1s / float64(len(labels))
	r.EmergencyRecall = r.Departments[flow.Emergency].Recall

	r.Labels = sortedKeys(labels, Unknown)
	for _, l := range r.Labels {
		outcomes[l] = outcomes[l] || l != Unknown
	}
	delete(outcomes, Unknown)
	outcomes[fb], outcomes[Clarify] = true, true
	r.Outcomes = sortedKeys(outcomes, fb, Clarify)
	return r
}

// predictedAs counts the conversations whose outcome was dept.
func (r *Report) predictedAs(dept string) int {
	n := 0
	for _, row := range r.Confusion {
		n += row[dept]
	}
	return n
}

// sortedKeys sorts set's keys with the given ones last, in that order, so
// "nobody took it" columns sit together at the right of the matrix.
func sortedKeys(set map[string]bool, last ...string) []string {
	var keys []string
	for k := range set {
		if !slices.Contains(last, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range last {
		if set[k] {
			keys = append(keys, k)
		}
	}
	return keys
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// percentile is the nearest-rank percentile in milliseconds.
func percentile(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return float64(s[max(i, 0)].Microseconds()) / 1000
}

// greetingWords are words that carry no request; a conversation made only of
// them (or labelled a greeting by its source) must never reach a department.
var greetingWords = wordSet(`hi hello hey hiya howdy hola yo greetings good morning afternoon evening day
	there friend sir madam maam ma'am how are you doing is it going things what's whats up sup today
	thanks thank ok okay yes yeah um uh er oh well just wanted to say nice meet everything fine all
	ai bot anyone can hear me please`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

func greetingOnly(c Conversation) bool {
	if c.Department != Unknown {
		return false
	}
	if c.OriginalLabel == "greeting" {
		return true
	}
	for _, t := range c.Turns {
		for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' }) {
			if !greetingWords[w] {
				return false
			}
		}
	}
	return true
}
