package eval

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/switchboard/switchboard/flow"
)

// Suggestion is a word or phrase that kept turning up in misroutes around one
// department: a candidate config change for a person to judge.
type Suggestion struct {
	Term string `json:"term"`
	// N is how many misrouted conversations held it; Right how many
	// conversations correctly routed to the department did.
	N     int `json:"n"`
	Right int `json:"right"`
}

// Suggestions lists, for one department, the terms of conversations sent
// there wrongly (candidates to remove or narrow in its keywords and examples,
// or to add to the department they belonged to) and of its own conversations
// that went elsewhere (candidate keywords or examples to add).
type Suggestions struct {
	Department string       `json:"department"`
	Wrongly    []Suggestion `json:"sent_here_wrongly,omitempty"`
	Missed     []Suggestion `json:"missed,omitempty"`
}

// Suggest ranks, per department, the words and word pairs most often present
// in its misroutes; a term also common in the department's correct routes
// is ranked down, since it did not decide. At most n terms each way.
func Suggest(r *Report, n int) []Suggestions {
	fb := r.fallback
	terms := func(o Outcome) map[string]bool {
		set := map[string]bool{}
		for _, t := range o.Turns {
			ws := flow.ContentWords(t)
			for i, w := range ws {
				set[w] = true
				if i > 0 {
					set[ws[i-1]+" "+w] = true
				}
			}
		}
		return set
	}
	type counts struct{ wrong, missed, right map[string]int }
	by := map[string]*counts{}
	get := func(d string) *counts {
		if by[d] == nil {
			by[d] = &counts{map[string]int{}, map[string]int{}, map[string]int{}}
		}
		return by[d]
	}
	for _, o := range r.outs {
		ts := terms(o)
		right := o.Right(fb)
		for t := range ts {
			switch {
			case right && o.Got != fb && o.Got != Clarify:
				get(o.Got).right[t]++
			case !right:
				if o.Got != fb && o.Got != Clarify {
					get(o.Got).wrong[t]++
				}
				if o.Department != Unknown {
					get(o.Department).missed[t]++
				}
			}
		}
	}
	rank := func(c map[string]int, right map[string]int) []Suggestion {
		var out []Suggestion
		for t, k := range c {
			if k >= 2 { // once is an anecdote
				out = append(out, Suggestion{Term: t, N: k, Right: right[t]})
			}
		}
		score := func(s Suggestion) float64 { return float64(s.N) / float64(1+s.Right) }
		sort.Slice(out, func(i, j int) bool {
			a, b := score(out[i]), score(out[j])
			return a > b || a == b && (out[i].N > out[j].N || out[i].N == out[j].N && out[i].Term < out[j].Term)
		})
		return out[:min(n, len(out))]
	}
	var depts []string
	for d := range by {
		depts = append(depts, d)
	}
	sort.Strings(depts)
	var out []Suggestions
	for _, d := range depts {
		c := by[d]
		s := Suggestions{Department: d, Wrongly: rank(c.wrong, c.right), Missed: rank(c.missed, c.right)}
		if len(s.Wrongly)+len(s.Missed) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// WriteSuggestions prints suggestions for a person.
func WriteSuggestions(w io.Writer, name string, ss []Suggestions) {
	fmt.Fprintf(w, "\nsuggested config changes for %s (term: misroutes holding it / correct routes holding it)\n", name)
	list := func(xs []Suggestion) string {
		var parts []string
		for _, x := range xs {
			parts = append(parts, fmt.Sprintf("%q %d/%d", x.Term, x.N, x.Right))
		}
		return strings.Join(parts, ", ")
	}
	for _, s := range ss {
		if len(s.Wrongly) > 0 {
			fmt.Fprintf(w, "  %s, sent here wrongly (narrow its keywords and examples, or teach the right department): %s\n", s.Department, list(s.Wrongly))
		}
		if len(s.Missed) > 0 {
			fmt.Fprintf(w, "  %s, its callers went elsewhere (candidate keywords or examples): %s\n", s.Department, list(s.Missed))
		}
	}
}
