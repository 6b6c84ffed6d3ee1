package eval

import (
	"fmt"
	"html"
	"html/template"
	"slices"
	"strings"
)

// The report's pictures, drawn here as inline SVG: the page needs no script,
// no library and no network to show them.

const (
	colourRight     = "#3a9d5d"
	colourWrong     = "#d1493f"
	colourPrecision = "#4a7bd0"
	colourRecall    = "#e0a030"
)

// svgBuilder writes one SVG picture.
type svgBuilder struct {
	b    strings.Builder
	w, h int
}

func newSVG(w, h int, title string) *svgBuilder {
	s := &svgBuilder{w: w, h: h}
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		w, h, w, h, html.EscapeString(title))
	fmt.Fprintf(&s.b, `<title>%s</title>`, html.EscapeString(title))
	return s
}

func (s *svgBuilder) rect(x, y, w, h float64, fill, tip string) {
	fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`,
		x, y, max(w, 0), max(h, 0), fill, html.EscapeString(tip))
}

func (s *svgBuilder) text(x, y float64, anchor, text string) {
	fmt.Fprintf(&s.b, `<text x="%.1f" y="%.1f" text-anchor="%s" font-size="12" fill="#222">%s</text>`, x, y, anchor, html.EscapeString(text))
}

func (s *svgBuilder) line(x1, y1, x2, y2 float64) {
	fmt.Fprintf(&s.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999" stroke-width="1"/>`, x1, y1, x2, y2)
}

func (s *svgBuilder) legend(x, y float64, items ...[2]string) {
	for _, it := range items {
		s.rect(x, y-9, 10, 10, it[1], it[0])
		s.text(x+14, y, "start", it[0])
		x += 24 + 7*float64(len(it[0]))
	}
}

func (s *svgBuilder) html() template.HTML {
	return template.HTML(s.b.String() + "</svg>") // every text in it was escaped
}

// departmentBars draws each label's precision and recall as two bars on a
// 0 to 1 scale.
func departmentBars(r *Report) template.HTML {
	const left, right, rowH, barH, top = 110.0, 60.0, 30.0, 11.0, 24.0
	width := 560.0
	s := newSVG(int(width), int(top+rowH*float64(len(r.Labels))+24), "precision and recall by department: "+r.Name)
	scale := width - left - right
	s.legend(left, 14, [2]string{"precision", colourPrecision}, [2]string{"recall", colourRecall})
	for i, l := range r.Labels {
		sc := r.Departments[l]
		y := top + rowH*float64(i)
		s.text(left-8, y+barH+4, "end", l)
		for j, bar := range []struct {
			v      float64
			colour string
			what   string
		}{{sc.Precision, colourPrecision, "precision"}, {sc.Recall, colourRecall, "recall"}} {
			by := y + float64(j)*(barH+1)
			s.rect(left, by, scale*bar.v, barH, bar.colour, fmt.Sprintf("%s %s %.3f (%d conversations)", l, bar.what, bar.v, sc.Support))
			s.text(left+scale*bar.v+4, by+barH-1, "start", fmt.Sprintf("%.2f", bar.v))
		}
	}
	axis := top + rowH*float64(len(r.Labels))
	s.line(left, top-4, left, axis)
	for _, v := range []float64{0, 0.5, 1} {
		s.text(left+scale*v, axis+14, "middle", fmt.Sprintf("%.1f", v))
	}
	return s.html()
}

// confidenceBins counts, in ten bins of the classifier's confidence, the
// conversations it routed right and wrong (the priority lane's and the
// keypad's are not its answers).
func confidenceBins(r *Report) (right, wrong [10]int) {
	for _, o := range r.outs {
		if o.Got == Clarify || o.Confidence <= 0 || o.Reason != "local" && o.Reason != "model" {
			continue
		}
		bin := min(int(o.Confidence*10), 9)
		if o.Right(r.fallback) {
			right[bin]++
		} else {
			wrong[bin]++
		}
	}
	return right, wrong
}

// confidenceChart draws how sure the classifier was of its right and wrong
// answers: a pair of columns per tenth of confidence.
func confidenceChart(r *Report) template.HTML {
	right, wrong := confidenceBins(r)
	peak := 1
	for i := range right {
		peak = max(peak, right[i], wrong[i])
	}
	const left, top, plotH, colW = 40.0, 24.0, 160.0, 48.0
	s := newSVG(int(left+10*colW+20), int(top+plotH+40), "confidence of right and wrong answers: "+r.Name)
	s.legend(left, 14, [2]string{"right", colourRight}, [2]string{"wrong", colourWrong})
	base := top + plotH
	for i := range 10 {
		x := left + colW*float64(i)
		lo, hi := float64(i)/10, float64(i+1)/10
		for j, c := range []struct {
			n      int
			colour string
			what   string
		}{{right[i], colourRight, "right"}, {wrong[i], colourWrong, "wrong"}} {
			h := plotH * float64(c.n) / float64(peak)
			bx := x + 4 + float64(j)*20
			s.rect(bx, base-h, 18, h, c.colour, fmt.Sprintf("%d %s with confidence %.1f to %.1f", c.n, c.what, lo, hi))
			if c.n > 0 {
				s.text(bx+9, base-h-3, "middle", fmt.Sprint(c.n))
			}
		}
		s.text(x+colW/2, base+14, "middle", fmt.Sprintf("%.1f", lo))
	}
	s.line(left, base, left+10*colW, base)
	s.text(left+5*colW, base+32, "middle", "the classifier's confidence in the department it named")
	return s.html()
}

// unsureRow is where the callers who heard a clarifying question ended up.
type unsureRow struct {
	Got          string
	Right, Wrong int
}

// unsureOutcomes counts, by where they went, the callers the router was
// unsure about (they heard at least one clarifying question).
func unsureOutcomes(r *Report) []unsureRow {
	by := map[string]*unsureRow{}
	for _, o := range r.outs {
		if o.Asked == 0 {
			continue
		}
		row := by[o.Got]
		if row == nil {
			row = &unsureRow{Got: o.Got}
			by[o.Got] = row
		}
		if o.Right(r.fallback) {
			row.Right++
		} else {
			row.Wrong++
		}
	}
	var rows []unsureRow
	for _, row := range by {
		rows = append(rows, *row)
	}
	slices.SortFunc(rows, func(a, b unsureRow) int {
		if d := (b.Right + b.Wrong) - (a.Right + a.Wrong); d != 0 {
			return d
		}
		return strings.Compare(a.Got, b.Got)
	})
	return rows
}

// unsureChart draws where the unsure callers went, right and wrong stacked.
func unsureChart(r *Report) template.HTML {
	rows := unsureOutcomes(r)
	peak := 1
	for _, row := range rows {
		peak = max(peak, row.Right+row.Wrong)
	}
	const left, right, rowH, top = 110.0, 60.0, 22.0, 24.0
	width := 560.0
	scale := width - left - right
	s := newSVG(int(width), int(top+rowH*float64(max(len(rows), 1))+10), "where the unsure callers went: "+r.Name)
	s.legend(left, 14, [2]string{"right", colourRight}, [2]string{"wrong", colourWrong})
	if len(rows) == 0 {
		s.text(left, top+14, "start", "no caller heard a clarifying question")
	}
	for i, row := range rows {
		y := top + rowH*float64(i)
		name := row.Got
		if name == Clarify {
			name = "still asking"
		}
		s.text(left-8, y+13, "end", name)
		wr := scale * float64(row.Right) / float64(peak)
		ww := scale * float64(row.Wrong) / float64(peak)
		s.rect(left, y+2, wr, 14, colourRight, fmt.Sprintf("%d unsure callers went to %s, rightly", row.Right, name))
		s.rect(left+wr, y+2, ww, 14, colourWrong, fmt.Sprintf("%d unsure callers went to %s, wrongly", row.Wrong, name))
		s.text(left+wr+ww+4, y+13, "start", fmt.Sprintf("%d / %d", row.Right, row.Right+row.Wrong))
	}
	return s.html()
}

// sourceBars draws each held-out source's accuracy, its size beside it.
func sourceBars(r *Report) template.HTML {
	const right, rowH, top = 90.0, 22.0, 10.0
	longest := len("all, each source unseen")
	for _, src := range r.Sources {
		longest = max(longest, len(src.Name))
	}
	left := 7*float64(longest) + 16 // room for the longest name at 12 px
	width := left + 320 + right
	scale := width - left - right
	s := newSVG(int(width), int(top+rowH*float64(len(r.Sources)+1)+8), "accuracy by held-out source: "+r.Name)
	for i, src := range append(slices.Clone(r.Sources), r) {
		name := src.Name
		if src == r {
			name = "all, each source unseen"
		}
		y := top + rowH*float64(i)
		s.text(left-8, y+13, "end", name)
		s.rect(left, y+2, scale*src.Accuracy, 14, colourPrecision, fmt.Sprintf("%s: accuracy %.3f of %d", name, src.Accuracy, src.N))
		s.text(left+scale*src.Accuracy+4, y+13, "start", fmt.Sprintf("%.3f (n=%d)", src.Accuracy, src.N))
	}
	return s.html()
}
