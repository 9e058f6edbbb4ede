package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/NimbleMarkets/ntcharts/v2/sparkline"
)

// series is one chart's data, derived from a frame on the tick: values
// oldest first (already compressed to the chart's width), the columns where
// a setting or workload changed, and the current value, min and max of the
// whole history.
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
	if s.n == 0 {
		return s
	}
	s.cur, s.lo, s.hi = s.values[s.n-1], s.values[0], s.values[0]
	for _, v := range s.values {
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

// compress fits n values into w columns, each the mean of its bucket, so a
// history longer than the screen is shown whole.
func compress(values []float64, w int) []float64 {
	if len(values) <= w {
		return values
	}
	out := make([]float64, w)
	for c := range out {
		lo, hi := c*len(values)/w, (c+1)*len(values)/w
		var s float64
		for _, v := range values[lo:hi] {
			s += v
		}
		out[c] = s / float64(hi-lo)
	}
	return out
}

// render draws the chart in w columns and h rows: a title line with the
// current value, min and max; the sparkline; a marker row.
func (s series) render(st Styles, w, h int) string {
	var b strings.Builder
	title := st.Title.Render(s.title)
	if s.note != "" || len(s.values) == 0 {
		note := s.note
		if note == "" {
			note = "waiting for data"
		}
		b.WriteString(fit(title, w) + "\n")
		for i := 1; i < h; i++ {
			if i == h/2 {
				b.WriteString(fit(st.Dim.Render(note), w))
			}
			if i < h-1 {
				b.WriteString("\n")
			}
		}
		return b.String()
	}
	head := fmt.Sprintf("%s %s %s", title, st.Value.Render(s.unit(s.cur)),
		st.Dim.Render(fmt.Sprintf("▼%s ▲%s %s", s.unit(s.lo), s.unit(s.hi), s.window)))
	b.WriteString(fit(head, w) + "\n")
	rows := max(1, h-2)
	sp := sparkline.New(w, rows, sparkline.WithStyle(st.Spark))
	sp.PushAll(s.values)
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

// fit cuts a styled line to w cells and pads it.
func fit(s string, w int) string {
	if lipgloss.Width(s) > w {
		s = lipgloss.NewStyle().MaxWidth(w).Render(s)
	}
	return s + strings.Repeat(" ", max(0, w-lipgloss.Width(s)))
}
