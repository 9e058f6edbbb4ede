package report

import (
	"fmt"
	"html"
	"slices"
	"strings"
)

// SVG geometry: a 12 px sans-serif font is about 7 px a character.
const (
	svgFont     = 12
	svgCharW    = 7.0
	svgTitleH   = 24
	svgLegendH  = 18
	svgXAxisH   = 40
	svgRightPad = 24
)

var svgColors = []string{"#7D56F4", "#04B575", "#FF5F87", "#FFB000"}

// SVG draws the chart as a self-contained SVG element of w×h pixels. The
// title and the legend sit above the plot and the axis labels outside it,
// so no label overlaps another or the data's frame; y values carry SI
// suffixes (11.9k), and the left margin is as wide as the widest.
func (c Chart) SVG(w, h int) string {
	x0, x1, y0, y1 := c.bounds()
	yt := niceTicks(y0, y1, 5)
	xt := dataTicks(c.Series, 12)
	if xt == nil {
		xt = niceTicks(x0, x1, 6)
	}
	y0, y1 = min(y0, yt[0]), max(y1, yt[len(yt)-1])
	widest := 0
	for _, v := range yt {
		widest = max(widest, len(SI(v)))
	}
	left := 30 + int(float64(widest)*svgCharW) + 8 // rotated y label, tick labels, gap
	top := svgTitleH + svgLegendH + 14
	pw, ph := float64(w-left-svgRightPad), float64(h-top-svgXAxisH)
	px := func(x float64) float64 { return float64(left) + (x-x0)/(x1-x0)*pw }
	py := func(y float64) float64 { return float64(top) + ph - (y-y0)/(y1-y0)*ph }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="%d">`, w, h, w, h, svgFont)
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="14" font-weight="bold">%s</text>`, left, html.EscapeString(c.Title))
	// Legend: one row under the title, left to right.
	lx := float64(left)
	item := func(col, mark, name string) {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="%s">%s %s</text>`, lx, svgTitleH+svgLegendH-2, col, mark, html.EscapeString(name))
		lx += float64(len([]rune(name))+3)*svgCharW + 12
	}
	for si, s := range c.Series {
		item(svgColors[si%len(svgColors)], "●", s.Name)
	}
	marked := c.Mark >= 0 && len(c.Series) > 0 && c.Mark < len(c.Series[0].X) && c.Mark < len(c.Series[0].Y)
	if marked {
		item("#FF5F87", "◯", fmt.Sprintf("%s (%s %s)", c.markLabel(), c.XLabel, SI(c.Series[0].X[c.Mark])))
	}
	// Grid, ticks and axes.
	for _, v := range yt {
		y := py(v)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`, left, y, float64(left)+pw, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#555">%s</text>`, left-6, y+4, SI(v))
	}
	// x tick labels: drop those that would touch their neighbour.
	lastEnd := -1e9
	for _, v := range xt {
		if v < x0-1e-9 || v > x1+1e-9 {
			continue
		}
		x := px(v)
		lbl := SI(v)
		half := float64(len(lbl)) * svgCharW / 2
		if x-half < lastEnd+6 {
			continue
		}
		lastEnd = x + half
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888"/>`, x, float64(top)+ph, x, float64(top)+ph+4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#555">%s</text>`, x, float64(top)+ph+17, lbl)
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888"/><line x1="%d" y1="%d" x2="%d" y2="%.1f" stroke="#888"/>`,
		left, float64(top)+ph, float64(left)+pw, float64(top)+ph, left, top, left, float64(top)+ph)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, float64(left)+pw/2, h-6, html.EscapeString(c.XLabel))
	cy := float64(top) + ph/2
	fmt.Fprintf(&b, `<text x="14" y="%.1f" transform="rotate(-90 14 %.1f)" text-anchor="middle">%s</text>`, cy, cy, html.EscapeString(c.YLabel))
	// Data.
	for si, s := range c.Series {
		col := svgColors[si%len(svgColors)]
		var pts []string
		n := min(len(s.X), len(s.Y))
		for i := 0; i < n; i++ {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(s.X[i]), py(s.Y[i])))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, col, strings.Join(pts, " "))
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>%s, %s</title></circle>`, px(s.X[i]), py(s.Y[i]), col, SI(s.X[i]), SI(s.Y[i]))
		}
	}
	if marked {
		// A ring around the point; its name is in the legend, so no text
		// lands on the data.
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="9" fill="none" stroke="#FF5F87" stroke-width="2"/>`,
			px(c.Series[0].X[c.Mark]), py(c.Series[0].Y[c.Mark]))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// dataTicks are the series' distinct x values, ascending, when there are at
// most n of them (a sweep's points label themselves); else nil.
func dataTicks(series []Series, n int) []float64 {
	seen := map[float64]bool{}
	var out []float64
	for _, s := range series {
		for _, x := range s.X {
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}
	if len(out) == 0 || len(out) > n {
		return nil
	}
	slices.Sort(out)
	return out
}
