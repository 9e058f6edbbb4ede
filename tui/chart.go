package tui

import (
	"math"
	"strings"

	"github.com/NimbleMarkets/ntcharts/v2/sparkline"
)

// series is one chart's data, derived from a frame on the tick: values
// oldest first (already compressed to the chart's width; NaN where there
// was no value), the columns where a setting or workload changed, and the
// current value, min and max of the whole history (NaN: none).
type series struct {
	title       string
	unit        func(float64) string
	values      []float64
	markers     []int
	window      string // what the whole history covers
	note        string // shown instead of a chart when there is no data
	cur, lo, hi float64
	n           int // points in the whole history
}

// fitTo compresses the values to w columns and maps the markers (indexes
// into the whole history) onto them; the sparkline is right-aligned.
func (s series) fitTo(w int) series {
	s.n = len(s.values)
	s.cur, s.lo, s.hi = math.NaN(), math.NaN(), math.NaN()
	if s.n == 0 {
		return s
	}
	s.cur = s.values[s.n-1]
	for _, v := range s.values {
		if math.IsNaN(v) {
			continue
		}
		if math.IsNaN(s.lo) {
			s.lo, s.hi = v, v
		}
		s.lo, s.hi = min(s.lo, v), max(s.hi, v)
	}
	cols := make([]int, 0, len(s.markers))
	for _, idx := range s.markers {
		c := w - s.n + idx
		if s.n > w {
			c = idx * w / s.n
		}
		if c >= 0 && c < w {
			cols = append(cols, c)
		}
	}
	s.markers = cols
	s.values = compress(s.values, w)
	return s
}

// compress fits n values into w columns, each the mean of its bucket's
// values (NaN when it has none), so a history longer than the screen is
// shown whole.
func compress(values []float64, w int) []float64 {
	if len(values) <= w {
		return values
	}
	out := make([]float64, w)
	for c := range out {
		lo, hi := c*len(values)/w, (c+1)*len(values)/w
		var s float64
		n := 0
		for _, v := range values[lo:hi] {
			if !math.IsNaN(v) {
				s += v
				n++
			}
		}
		out[c] = math.NaN()
		if n > 0 {
			out[c] = s / float64(n)
		}
	}
	return out
}

// show is a value in the series' unit, "—" when there is none.
func (s series) show(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return s.unit(v)
}

// render draws the chart in w columns and h rows: a title line with the
// current value, min and max (giving way by priority); the sparkline; a
// marker row.
func (s series) render(st Styles, w, h int) string {
	var b strings.Builder
	title := st.Title.Render(s.title)
	if s.note != "" || len(s.values) == 0 {
		note := s.note
		if note == "" {
			note = "waiting for data"
		}
		b.WriteString(fit(title, w))
		for i := 1; i < h; i++ {
			b.WriteString("\n")
			if i == min(h-1, max(1, h/2)) {
				b.WriteString(fit(st.Dim.Render(note), w))
			} else {
				b.WriteString(pad("", w))
			}
		}
		return b.String()
	}
	rng := "▼" + s.show(s.lo) + " ▲" + s.show(s.hi)
	head := line(w, pt(0, title), pt(0, st.Value.Render(s.show(s.cur))).with(" "),
		pt(1, st.Dim.Render(rng+" "+s.window), st.Dim.Render(rng)).with(" "))
	b.WriteString(head + "\n")
	rows := max(1, h-2)
	sp := sparkline.New(w, rows, sparkline.WithStyle(st.Spark))
	vals := make([]float64, len(s.values))
	for i, v := range s.values {
		if !math.IsNaN(v) {
			vals[i] = max(0, v)
		}
	}
	sp.PushAll(vals)
	sp.Draw()
	b.WriteString(sp.View() + "\n")
	// Marker row: ▲ under the column where each change happened.
	marks := []rune(strings.Repeat(" ", w))
	for _, c := range s.markers {
		if c >= 0 && c < w {
			marks[c] = '▲'
		}
	}
	b.WriteString(st.Marker.Render(string(marks)))
	return b.String()
}
