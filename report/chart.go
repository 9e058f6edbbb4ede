package report

import (
	"fmt"
	"math"
	"strings"
)

// Series is one line of a chart.
type Series struct {
	Name string
	X, Y []float64
}

// Chart is a titled x–y chart, drawn as text for the terminal and as SVG
// for the HTML report.
type Chart struct {
	Title, XLabel, YLabel string
	Series                []Series
	Mark                  int    // index of a point to mark in the first series, or -1
	MarkLabel             string // what the mark is ("knee" when empty)
}

func (c Chart) markLabel() string {
	if c.MarkLabel != "" {
		return c.MarkLabel
	}
	return "knee"
}

// bounds are the data's x range and a y range from 0 through the top tick.
func (c Chart) bounds() (x0, x1, y0, y1 float64) {
	x0, y0 = math.Inf(1), 0
	x1, y1 = math.Inf(-1), math.Inf(-1)
	for _, s := range c.Series {
		for i := range s.X {
			if i >= len(s.Y) || math.IsNaN(s.X[i]) || math.IsNaN(s.Y[i]) {
				continue
			}
			x0, x1 = math.Min(x0, s.X[i]), math.Max(x1, s.X[i])
			y0, y1 = math.Min(y0, s.Y[i]), math.Max(y1, s.Y[i])
		}
	}
	if math.IsInf(x0, 0) {
		x0, x1 = 0, 1
	}
	if !(x1 > x0) {
		x1 = x0 + 1
	}
	if math.IsInf(y1, 0) || !(y1 > y0) {
		y1 = y0 + 1
	}
	return
}

// Text draws the chart in w×h character cells.
func (c Chart) Text(w, h int) string {
	x0, x1, y0, y1 := c.bounds()
	grid := make([][]rune, h)
	for i := range grid {
		grid[i] = []rune(strings.Repeat(" ", w))
	}
	marks := []rune{'●', '○', '◆', '◇'}
	for si, s := range c.Series {
		for i := range s.X {
			if i >= len(s.Y) || math.IsNaN(s.Y[i]) {
				continue
			}
			col := int(math.Round((s.X[i] - x0) / (x1 - x0) * float64(w-1)))
			row := h - 1 - int(math.Round((s.Y[i]-y0)/(y1-y0)*float64(h-1)))
			r := marks[si%len(marks)]
			if si == 0 && i == c.Mark {
				r = '▲'
			}
			grid[min(max(row, 0), h-1)][min(max(col, 0), w-1)] = r
		}
	}
	const lw = 7
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", c.Title)
	for i, row := range grid {
		label := ""
		if i == 0 {
			label = SI(y1)
		} else if i == h-1 {
			label = SI(y0)
		}
		fmt.Fprintf(&b, "%*s │%s\n", lw, label, strings.TrimRight(string(row), " "))
	}
	pad := strings.Repeat(" ", lw)
	fmt.Fprintf(&b, "%s └%s\n", pad, strings.Repeat("─", w))
	fmt.Fprintf(&b, "%s  %-*s%*s\n", pad, w/2, SI(x0), w-w/2, SI(x1))
	fmt.Fprintf(&b, "%s  x: %s, y: %s", pad, c.XLabel, c.YLabel)
	for si, s := range c.Series {
		fmt.Fprintf(&b, "; %c %s", marks[si%len(marks)], s.Name)
	}
	if c.Mark >= 0 {
		b.WriteString("; ▲ " + c.markLabel())
	}
	return b.String()
}
