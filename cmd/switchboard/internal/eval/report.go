package eval

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchboard/switchboard/flow"
)

// WriteText prints reports for a person: one report in full, several side by
// side in one table followed by each one's confusion matrix. Up to mistakes
// wrong conversations of each report are listed at the end.
func WriteText(w io.Writer, reps []*Report, mistakes int) error {
	if len(reps) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t") }
	head := []string{"metric"}
	for _, r := range reps {
		head = append(head, r.Name)
	}
	row(head...)
	metric := func(name string, f func(*Report) string) {
		cells := []string{name}
		for _, r := range reps {
			cells = append(cells, f(r))
		}
		row(cells...)
	}
	num := func(v float64) string { return fmt.Sprintf("%.3f", v) }
	metric("conversations", func(r *Report) string { return fmt.Sprint(r.N) })
	metric("played at", func(r *Report) string {
		if r.At.IsZero() {
			return "any time (no hours)"
		}
		return playedAt(r)
	})
	metric("folds", func(r *Report) string {
		switch {
		case r.Folds == 0:
			return "-"
		case r.FoldsBy != "":
			return fmt.Sprintf("%d (by %s)", r.Folds, r.FoldsBy)
		}
		return fmt.Sprint(r.Folds)
	})
	metric("accuracy", func(r *Report) string { return num(r.Accuracy) })
	metric("macro-F1", func(r *Report) string { return num(r.MacroF1) })
	metric("emergency recall", func(r *Report) string { return num(r.EmergencyRecall) })
	metric("clarify rate", func(r *Report) string { return num(r.ClarifyRate) })
	metric("asked to clarify", func(r *Report) string { return num(r.AskedRate) })
	metric("greeting-only misrouted", func(r *Report) string {
		return fmt.Sprintf("%d/%d", r.GreetingMisroutes, r.GreetingOnly)
	})
	metric("latency p50 ms", func(r *Report) string { return fmt.Sprintf("%.3f", r.LatencyP50MS) })
	metric("latency p95 ms", func(r *Report) string { return fmt.Sprintf("%.3f", r.LatencyP95MS) })
	metric("tokens per call", func(r *Report) string { return fmt.Sprintf("%.1f", r.TokensPerCall) })
	for _, l := range reps[0].Labels {
		metric(l+" precision", func(r *Report) string { return num(r.Departments[l].Precision) })
		metric(l+" recall", func(r *Report) string { return num(r.Departments[l].Recall) })
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range reps {
		if len(r.Sources) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s, each source held out (played with examples from the other sources only)\n", r.Name)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		row(sourceColumns...)
		for _, cells := range sourceTable(r) {
			row(cells...)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, r := range reps {
		fmt.Fprintf(w, "\nconfusion matrix of %s (rows: label, columns: outcome)\n", r.Name)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		row(append([]string{""}, r.Outcomes...)...)
		for _, l := range r.Labels {
			cells := []string{l}
			for _, o := range r.Outcomes {
				cells = append(cells, fmt.Sprint(r.Confusion[l][o]))
			}
			row(cells...)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for i, m := range r.Mistakes {
			if i == mistakes {
				break
			}
			if i == 0 {
				fmt.Fprintf(w, "\nmistakes of %s (want -> got, by whom)\n", r.Name)
			}
			fmt.Fprintf(w, "  %-9s -> %-9s %-8s %q\n", m.Department, m.Got, m.Reason, strings.Join(m.Turns, " | "))
		}
	}
	return nil
}

// sourceColumns head the table of a by-source run.
var sourceColumns = []string{"source", "n", "accuracy", "emergency P", "emergency R", "sales R", "clarify rate", "greeting-only misrouted"}

// sourceTable is a by-source run's table: each held-out source, then all.
func sourceTable(r *Report) [][]string {
	num := func(v float64) string { return fmt.Sprintf("%.3f", v) }
	var rows [][]string
	for _, s := range append(slices.Clone(r.Sources), r) {
		name := s.Name
		if s == r {
			name = "all"
		}
		score := func(l string, f func(Score) float64) string {
			if _, ok := s.Departments[l]; !ok {
				return "-"
			}
			return num(f(s.Departments[l]))
		}
		// Emergency precision counts every conversation sent there, so it
		// is shown wherever something was, labelled so or not.
		prec := "-"
		if s.Confusion != nil && s.predictedAs(flow.Emergency) > 0 {
			prec = num(float64(s.Confusion[flow.Emergency][flow.Emergency]) / float64(s.predictedAs(flow.Emergency)))
		}
		rows = append(rows, []string{name, fmt.Sprint(s.N), num(s.Accuracy), prec,
			score(flow.Emergency, func(x Score) float64 { return x.Recall }),
			score("sales", func(x Score) float64 { return x.Recall }),
			num(s.ClarifyRate), fmt.Sprintf("%d/%d", s.GreetingMisroutes, s.GreetingOnly)})
	}
	return rows
}

// JSONReport is the machine-readable form: the first report's figures at the
// top level, so a script can read "accuracy" without knowing how many setups
// ran, and every report under Setups when several were compared.
type JSONReport struct {
	*Report
	Setups []*Report `json:"setups,omitempty"`
}

// WriteJSON writes reports as one JSON object; see JSONReport.
func WriteJSON(w io.Writer, reps []*Report) error {
	if len(reps) == 0 {
		return fmt.Errorf("no reports")
	}
	out := JSONReport{Report: reps[0]}
	if len(reps) > 1 {
		out.Setups = reps
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteHTML writes a self-contained page: the comparison table and, for each
// report, its confusion matrix as a heat map shaded by the share of each row.
func WriteHTML(w io.Writer, reps []*Report) error {
	type cell struct {
		N     int
		Shade float64 // 0..1, share of the row
		Right bool
	}
	type matrix struct {
		Name     string
		Outcomes []string
		Rows     []struct {
			Label string
			Cells []cell
		}
		Mistakes []Outcome
		// The pictures, and a by-source run's table.
		Departments, Confidence, Unsure, SourceBars template.HTML
		Sources                                     [][]string
	}
	var ms []matrix
	for _, r := range reps {
		m := matrix{Name: r.Name, Outcomes: r.Outcomes,
			Departments: departmentBars(r), Confidence: confidenceChart(r), Unsure: unsureChart(r)}
		if len(r.Sources) > 0 {
			m.SourceBars, m.Sources = sourceBars(r), sourceTable(r)
		}
		for _, l := range r.Labels {
			total := 0
			for _, n := range r.Confusion[l] {
				total += n
			}
			var cells []cell
			for _, o := range r.Outcomes {
				n := r.Confusion[l][o]
				right := Outcome{Conversation: Conversation{Department: l}, Got: o}.Right(r.fallback)
				cells = append(cells, cell{N: n, Shade: ratio(n, total), Right: right})
			}
			m.Rows = append(m.Rows, struct {
				Label string
				Cells []cell
			}{l, cells})
		}
		m.Mistakes = r.Mistakes[:min(len(r.Mistakes), 50)]
		ms = append(ms, m)
	}
	var labels []string
	if len(reps) > 0 {
		labels = reps[0].Labels
	}
	return htmlPage.Execute(w, map[string]any{"Reports": reps, "Matrices": ms, "Labels": labels, "SourceColumns": sourceColumns})
}

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"f3": func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"pct": func(v float64) string {
		return fmt.Sprintf("%.0f%%", 100*v)
	},
	// heat shades right answers green and wrong ones red, by the row's share.
	"heat": func(shade float64, right bool) template.CSS {
		hue := 0
		if right {
			hue = 130
		}
		light := 100 - 55*shade
		return template.CSS(fmt.Sprintf("background:hsl(%d,70%%,%.0f%%)", hue, light))
	},
	"join":  func(s []string) string { return strings.Join(s, " | ") },
	"score": func(r *Report, label string) Score { return r.Departments[label] },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switchboard routing evaluation</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
.heat td{min-width:4em;text-align:center}
caption{text-align:left;font-weight:bold;padding:4px 0}
.small{color:#666;font-size:12px}
section{margin:1em 0}
h3{margin:.3em 0}
p.small{margin:.2em 0 .6em}
.pictures{display:flex;flex-wrap:wrap;gap:0 2em;align-items:flex-start}
.pictures section{flex:0 1 560px}
</style></head><body>
<h1>Switchboard routing evaluation</h1>
<section id="summary">
<table><caption>Summary</caption>
<tr><th>metric</th>{{range .Reports}}<th>{{.Name}}</th>{{end}}</tr>
<tr><td>conversations</td>{{range .Reports}}<td>{{.N}}{{if .FoldsBy}} (each {{.FoldsBy}} held out){{else if .Folds}} ({{.Folds}}-fold){{end}}</td>{{end}}</tr>
<tr><td>accuracy</td>{{range .Reports}}<td>{{f3 .Accuracy}}</td>{{end}}</tr>
<tr><td>macro-F1</td>{{range .Reports}}<td>{{f3 .MacroF1}}</td>{{end}}</tr>
<tr><td>emergency recall</td>{{range .Reports}}<td>{{f3 .EmergencyRecall}}</td>{{end}}</tr>
<tr><td>clarify rate</td>{{range .Reports}}<td>{{f3 .ClarifyRate}}</td>{{end}}</tr>
<tr><td>asked to clarify</td>{{range .Reports}}<td>{{f3 .AskedRate}}</td>{{end}}</tr>
<tr><td>greeting-only misrouted</td>{{range .Reports}}<td>{{.GreetingMisroutes}}/{{.GreetingOnly}}</td>{{end}}</tr>
<tr><td>latency p50 / p95 ms</td>{{range .Reports}}<td>{{f3 .LatencyP50MS}} / {{f3 .LatencyP95MS}}</td>{{end}}</tr>
<tr><td>tokens per call</td>{{range .Reports}}<td>{{printf "%.1f" .TokensPerCall}}</td>{{end}}</tr>
{{range $l := .Labels}}
<tr><td>{{$l}} precision / recall</td>{{range $.Reports}}{{$s := score . $l}}<td>{{f3 $s.Precision}} / {{f3 $s.Recall}}</td>{{end}}</tr>
{{end}}
</table>
</section>
{{range $i, $m := .Matrices}}
<h2>{{.Name}}</h2>
<div class="pictures">
<section id="departments-{{$i}}"><h3>Precision and recall by department</h3>
<p class="small">Recall: of the callers who wanted it, the share that got there. Precision: of the callers sent there, the share who wanted it.</p>
{{.Departments}}</section>
<section id="confidence-{{$i}}"><h3>How sure the classifier was, right and wrong</h3>
<p class="small">Conversations the classifier routed (not the priority lane or the keypad), by its confidence in the department it named.</p>
{{.Confidence}}</section>
<section id="unsure-{{$i}}"><h3>Where the unsure callers went</h3>
<p class="small">Callers who heard at least one clarifying question, by where they ended.</p>
{{.Unsure}}</section>
</div>
{{if .Sources}}<section id="sources-{{$i}}"><h3>Each source held out</h3>
<p class="small">Each source played with examples from the other sources only.</p>
{{.SourceBars}}
<table><tr>{{range $.SourceColumns}}<th>{{.}}</th>{{end}}</tr>
{{range .Sources}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table></section>{{end}}
<section id="confusion-{{$i}}">
<table class="heat"><caption>Confusion matrix: {{.Name}} <span class="small">(rows: label, columns: outcome; shade: share of the row, green right, red wrong)</span></caption>
<tr><th>label</th>{{range .Outcomes}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><td>{{.Label}}</td>{{range .Cells}}<td style="{{heat .Shade .Right}}" title="{{pct .Shade}}">{{.N}}</td>{{end}}</tr>
{{end}}</table>
</section>
{{if .Mistakes}}<section id="mistakes-{{$i}}"><details><summary>First mistakes of {{.Name}}</summary><table>
<tr><th>turns</th><th>label</th><th>outcome</th><th>by</th><th>confidence</th></tr>
{{range .Mistakes}}<tr><td>{{join .Turns}}</td><td>{{.Department}}</td><td>{{.Got}}</td><td>{{.Reason}}</td><td>{{printf "%.2f" .Confidence}}</td></tr>
{{end}}</table></details></section>{{end}}
{{end}}
</body></html>
`))

// playedAt is the moment a run played at, in the zone of the business's
// hours when it has some.
func playedAt(r *Report) string {
	at := r.At
	if r.Zone != "" {
		if loc, err := time.LoadLocation(r.Zone); err == nil {
			at = at.In(loc)
		}
	}
	return at.Format("Mon 2006-01-02 15:04 MST")
}
