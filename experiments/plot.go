package experiments

import (
	"fmt"
	"html"
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
	Mark                  int // index of a point to mark in the first series (the knee), or -1
}

func (c Chart) bounds() (x0, x1, y0, y1 float64) {
	x0, y0 = math.Inf(1), 0
	x1, y1 = math.Inf(-1), math.Inf(-1)
	for _, s := range c.Series {
		for i := range s.X {
			x0, x1 = math.Min(x0, s.X[i]), math.Max(x1, s.X[i])
			y1 = math.Max(y1, s.Y[i])
		}
	}
	if !(x1 > x0) {
		x1 = x0 + 1
	}
	if !(y1 > y0) {
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
			col := int(math.Round((s.X[i] - x0) / (x1 - x0) * float64(w-1)))
			row := h - 1 - int(math.Round((s.Y[i]-y0)/(y1-y0)*float64(h-1)))
			r := marks[si%len(marks)]
			if si == 0 && i == c.Mark {
				r = '▲'
			}
			grid[row][col] = r
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", c.Title)
	for i, row := range grid {
		label := "          "
		if i == 0 {
			label = fmt.Sprintf("%10.4g", y1)
		} else if i == h-1 {
			label = fmt.Sprintf("%10.4g", y0)
		}
		fmt.Fprintf(&b, "%s │%s\n", label, strings.TrimRight(string(row), " "))
	}
	fmt.Fprintf(&b, "%s └%s\n", strings.Repeat(" ", 10), strings.Repeat("─", w))
	fmt.Fprintf(&b, "%s  %-*.4g%*.4g\n", strings.Repeat(" ", 10), w/2, x0, w-w/2, x1)
	fmt.Fprintf(&b, "%s  x: %s, y: %s", strings.Repeat(" ", 10), c.XLabel, c.YLabel)
	for si, s := range c.Series {
		fmt.Fprintf(&b, "; %c %s", marks[si%len(marks)], s.Name)
	}
	if c.Mark >= 0 {
		b.WriteString("; ▲ knee")
	}
	return b.String()
}

// SVG draws the chart as a self-contained SVG element.
func (c Chart) SVG(w, h int) string {
	const pad = 56
	x0, x1, y0, y1 := c.bounds()
	px := func(x float64) float64 { return pad + (x-x0)/(x1-x0)*float64(w-2*pad) }
	py := func(y float64) float64 { return float64(h-pad) - (y-y0)/(y1-y0)*float64(h-2*pad) }
	colors := []string{"#7D56F4", "#04B575", "#FF5F87", "#FFB000"}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`, w, h)
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`, pad, html.EscapeString(c.Title))
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>`,
		pad, h-pad, w-pad, h-pad, pad, pad, pad, h-pad)
	for k := 0; k <= 4; k++ {
		xv, yv := x0+(x1-x0)*float64(k)/4, y0+(y1-y0)*float64(k)/4
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%.4g</text>`, px(xv), h-pad+16, xv)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#555">%.4g</text>`, pad-6, py(yv)+4, yv)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, w/2, h-12, html.EscapeString(c.XLabel))
	fmt.Fprintf(&b, `<text x="14" y="%d" transform="rotate(-90 14 %d)" text-anchor="middle">%s</text>`, h/2, h/2, html.EscapeString(c.YLabel))
	for si, s := range c.Series {
		col := colors[si%len(colors)]
		var pts []string
		for i := range s.X {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(s.X[i]), py(s.Y[i])))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, col, strings.Join(pts, " "))
		for i := range s.X {
			r := 4
			if si == 0 && i == c.Mark {
				r = 8
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%d" fill="%s"><title>%.4g, %.4g</title></circle>`, px(s.X[i]), py(s.Y[i]), r, col, s.X[i], s.Y[i])
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s">● %s</text>`, w-pad-160, pad+16*si, col, html.EscapeString(s.Name))
	}
	if c.Mark >= 0 && len(c.Series) > 0 && c.Mark < len(c.Series[0].X) {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#FF5F87">knee</text>`, px(c.Series[0].X[c.Mark])+10, py(c.Series[0].Y[c.Mark])-10)
	}
	b.WriteString(`</svg>`)
	return b.String()
}
