package report

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"benchtop/metrics"
)

func TestSI(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 11890: "11.9k", 11890.97: "11.9k", 2709: "2.71k", 800: "800", 25: "25",
		2.5e6: "2.5M", 0.25: "0.25", 1: "1", 12.5: "12.5", 999.9: "1k", -4200: "-4.2k", 1e9: "1G", 0.001234: "0.0012"} {
		if got := SI(v); got != want {
			t.Errorf("SI(%g) = %q, want %q", v, got, want)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	ticks := niceTicks(0, 11890, 5)
	if ticks[0] != 0 || ticks[len(ticks)-1] < 11890 || len(ticks) > 8 {
		t.Fatalf("ticks %v", ticks)
	}
	for _, v := range ticks {
		if s := SI(v); strings.ContainsAny(s, "e") {
			t.Fatalf("tick %g as %q", v, s)
		}
	}
}

func TestChartsDraw(t *testing.T) {
	c := Chart{Title: "T", XLabel: "x", YLabel: "y", Mark: 1,
		Series: []Series{{Name: "a<b>", X: []float64{1, 2, 3}, Y: []float64{3, 1, 2}}, {Name: "c", X: []float64{1, 3}, Y: []float64{0, 5}}}}
	txt := c.Text(30, 8)
	if !strings.Contains(txt, "▲") || !strings.Contains(txt, "knee") || len(strings.Split(txt, "\n")) != 12 {
		t.Fatalf("text chart:\n%s", txt)
	}
	var doc struct{ XMLName xml.Name }
	if err := xml.Unmarshal([]byte(c.SVG(400, 200)), &doc); err != nil || doc.XMLName.Local != "svg" {
		t.Fatalf("SVG does not parse: %v", err)
	}
	// One point, all-equal values: no division by zero.
	one := Chart{Title: "one", Mark: -1, Series: []Series{{Name: "p", X: []float64{5}, Y: []float64{0}}}}
	if s := one.Text(10, 4) + one.SVG(300, 200); strings.Contains(s, "NaN") {
		t.Fatalf("degenerate chart: %s", s)
	}
}

var textRE = regexp.MustCompile(`<text x="([0-9.]+)" y="([0-9.]+)"([^>]*)>([^<]*)<`)

// The SVG of the H100 rate sweep: y labels in SI (no exponent), every
// label inside the picture, and no two labels overlapping (the knee's name
// is in the legend, not on the plot).
func TestSVGLabelsFitAndNeverOverlap(t *testing.T) {
	c := Chart{Title: "Throughput vs Rate (req/s)", XLabel: "Rate (req/s)", YLabel: "output tokens/s", Mark: 4,
		Series: []Series{{Name: "output tok/s", X: []float64{25, 50, 100, 200, 400, 800}, Y: []float64{5340.4, 7688.26, 9731.23, 11435.15, 11793.64, 11890.97}}}}
	const w, h = 760, 380
	svg := c.SVG(w, h)
	if strings.Contains(svg, "e+") {
		t.Fatalf("scientific notation in %s", svg)
	}
	type box struct {
		x0, x1, y0, y1 float64
		s              string
	}
	var boxes []box
	for _, m := range textRE.FindAllStringSubmatch(svg, -1) {
		if strings.Contains(m[3], "rotate") {
			continue // the y axis title, alone on the left
		}
		x, _ := strconv.ParseFloat(m[1], 64)
		y, _ := strconv.ParseFloat(m[2], 64)
		width := float64(len([]rune(m[4]))) * svgCharW
		x0 := x
		switch {
		case strings.Contains(m[3], `text-anchor="end"`):
			x0 = x - width
		case strings.Contains(m[3], `text-anchor="middle"`):
			x0 = x - width/2
		}
		b := box{x0, x0 + width, y - svgFont, y, m[4]}
		if b.x0 < 0 || b.x1 > w || b.y0 < 0 || b.y1 > h {
			t.Errorf("label %q at %.0f–%.0f × %.0f–%.0f leaves the %d×%d picture", b.s, b.x0, b.x1, b.y0, b.y1, w, h)
		}
		boxes = append(boxes, b)
	}
	for i := range boxes {
		for j := i + 1; j < len(boxes); j++ {
			a, b := boxes[i], boxes[j]
			if a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1 {
				t.Errorf("labels %q and %q overlap", a.s, b.s)
			}
		}
	}
	if !strings.Contains(svg, ">12.5k<") || !strings.Contains(svg, ">25<") || !strings.Contains(svg, ">800<") {
		t.Errorf("no SI tick label near the top: %s", svg)
	}
	if !strings.Contains(svg, "knee (Rate (req/s) 400)") {
		t.Error("the legend does not name the knee")
	}
}

func TestReportFiles(t *testing.T) {
	dir := t.TempDir()
	tb := &Table{Title: "T", Headers: []string{"a", "b"}}
	tb.Add("x", 1.5)
	r := &Report{Tables: []*Table{tb}, Charts: []Chart{{Title: "c", Mark: -1, Series: []Series{{Name: "s", X: []float64{1, 2}, Y: []float64{1, 2}}}}},
		Doc: Sweep{Results: []SweepPoint{}, BestWithinSpread: []float64{}, Header: Header{Timestamp: time.Unix(0, 0)}}}
	files, err := r.WriteHTML(filepath.Join(dir, "r.html"))
	if err != nil || len(files) != 3 {
		t.Fatalf("%v %v", files, err)
	}
	raw, _ := os.ReadFile(files[2])
	var j map[string]any
	if err := json.Unmarshal(raw, &j); err != nil {
		t.Fatal(err)
	}
	if _, ok := j["results"].([]any); !ok || j["gpu_utilization_pct"] != nil {
		t.Fatalf("results %v, gpu_utilization_pct %v", j["results"], j["gpu_utilization_pct"])
	}
	if err := CheckWritable(dir); err == nil {
		t.Fatal("a folder passed as writable output")
	}
	if err := WriteFile(filepath.Join(dir, "no-such-dir", "x"), []byte("x")); err == nil {
		t.Fatal("write into a missing folder succeeded")
	}
}

func TestSpread(t *testing.T) {
	a, b, c := SpreadOf([]float64{10, 12}), SpreadOf([]float64{11, 13}), SpreadOf([]float64{20, 21})
	if a.Mean != 11 || a.Min != 10 || a.Max != 12 || !a.Overlaps(b) || a.Overlaps(c) {
		t.Fatalf("%+v %+v %+v", a, b, c)
	}
	if one := SpreadOf([]float64{5}); one.Overlaps(one) || one.StdDev != 0 {
		t.Fatal("one repeat has no spread")
	}
	m := MeasuresOf(metrics.Summary{Requests: 2, SLO: metrics.SLO{TTFT: time.Second}, Goodput: 1}, time.Second, nil, nil)
	if m.SLO == nil || m.SLO.Objectives != "ttft=1s" || m.NumRequests != 2 {
		t.Fatalf("%+v", m)
	}
}

// Text columns (a sweep's "← knee", a source's state) read from the left
// in the text table and in the HTML; numbers, and "n/a" or "-" among them,
// from the right.
func TestTextColumnsAlignLeft(t *testing.T) {
	tb := &Table{Title: "Sweep", Headers: []string{"Batch size", "Output tok/s", "KV blocks", ""}}
	tb.Add(1, 186.73, "-", "")
	tb.Add(5, 957.72, 32768, "← best throughput")
	tb.Add(20, "n/a", 179468, "← knee")
	if got := tb.LeftAligned(); !slices.Equal(got, []bool{true, false, false, true}) {
		t.Fatalf("LeftAligned = %v", got)
	}
	var b strings.Builder
	tb.Print(&b)
	lines := strings.Split(b.String(), "\n") // "", title, rule, headers, rule, rows
	best, knee := lines[6], lines[7]
	if strings.Index(best, "← best") != strings.Index(knee, "← knee") {
		t.Errorf("the marks do not start in one column:\n%s", b.String())
	}
	if !strings.HasSuffix(lines[5], "     -") || !strings.HasSuffix(strings.TrimSuffix(knee, "  ← knee"), "179468") {
		t.Errorf("numbers not right-aligned:\n%s", b.String())
	}
	h := (&Report{Tables: []*Table{tb}}).HTML(time.Unix(0, 0))
	// Cells never wrap ("1746.52–" over "1762.98" read as two numbers).
	if !strings.Contains(h, `<td class="text">← knee</td>`) || strings.Contains(h, `<td class="text">957.72</td>`) ||
		!strings.Contains(h, "td{white-space:nowrap}") {
		t.Errorf("HTML cells: %s", h)
	}
	// A row longer than the headers prints (it used to index past them).
	long := &Table{Title: "T", Headers: []string{"a"}}
	long.Add("x", 1, 2)
	long.Print(io.Discard)
}
