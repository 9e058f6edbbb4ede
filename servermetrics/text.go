package servermetrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"
)

// WriteText prints the sample as tables: every measure with its value, its
// rate for counters, and the metric it came from (or NotExposed); then the
// histograms' estimated p50/p90/p99 in milliseconds; then each engine.
// Numbers are right-aligned, and the numbers of one column (the three
// quantiles together) are formatted alike: whole when every one of them is
// whole, else all with two decimals. KV usage, a fraction where the rest
// are counts, is shown as a percentage with one decimal.
func (s *Sample) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	server := string(s.Server)
	if server == "" {
		server = "unknown (no known metric prefix)"
	}
	head := table{header: []string{"server", server}}
	if len(s.Models) > 0 {
		head.add(text("models"), text(strings.Join(s.Models, ", ")))
	}
	head.write(bw)

	measures := table{header: []string{"measure", "value", "rate/s", "source"}}
	for _, m := range Measures() {
		v := s.Values[m]
		label := m.String()
		if m == KVUsage {
			label = "KV-cache usage"
		}
		switch {
		case !v.Exposed:
			measures.add(text(label), none, text(""), text(NotExposed))
		case m == KVUsage:
			measures.add(text(label), percent(v), text(""), text(v.Source))
		case v.HasRate:
			measures.add(text(label), number(v.Value), number(v.Rate), text(v.Source))
		default:
			measures.add(text(label), number(v.Value), text(""), text(v.Source))
		}
	}
	fmt.Fprintln(bw)
	measures.write(bw)

	hists := table{header: []string{"histogram (ms, estimated from buckets)", "count", "p50", "p90", "p99", "source"},
		groups: []int{0, 1, 2, 2, 2, 5}}
	for _, h := range Hists() {
		x := &s.Hists[h]
		if !x.Exposed {
			hists.add(text(h.String()), none, none, none, none, text(NotExposed))
			continue
		}
		hists.add(text(h.String()), number(x.Count), number(1e3*x.Quantile(0.5)), number(1e3*x.Quantile(0.9)),
			number(1e3*x.Quantile(0.99)), text(x.Source))
	}
	fmt.Fprintln(bw)
	hists.write(bw)

	if len(s.Engines) > 0 {
		engines := table{header: []string{"engine", "running", "waiting", "KV usage"}}
		for _, e := range s.Engines {
			engines.add(text(e.Label), value(e.Running), value(e.Waiting), percent(e.KVUsage))
		}
		fmt.Fprintln(bw)
		engines.write(bw)
	}
	return bw.Flush()
}

// cell is a table cell: text, or a number that its column formats.
type cell struct {
	text   string
	num    float64
	isNum  bool
	format string // set by table.write
}

// none stands in a column of numbers for a number not exposed.
var none = cell{text: "—"}

func text(s string) cell    { return cell{text: s} }
func number(f float64) cell { return cell{num: f, isNum: true} }
func value(v Value) cell {
	if !v.Exposed {
		return text(NotExposed)
	}
	return number(v.Value)
}

// percent is a fraction 0..1 as a percentage with one decimal.
func percent(v Value) cell {
	switch {
	case !v.Exposed:
		return text(NotExposed)
	case math.IsNaN(v.Value) || math.IsInf(v.Value, 0) || math.Abs(v.Value) >= maxWhole:
		return number(v.Value)
	}
	return text(fmt.Sprintf("%.1f%%", 100*v.Value))
}

// table is a header and rows, written with two spaces between columns;
// a column holding a number is right-aligned.
type table struct {
	header []string
	// groups[j] is column j's format group: the numbers of a group are all
	// whole, or all shown with two decimals (default: a group per column).
	groups []int
	rows   [][]cell
}

// decimals is how many decimals the numbers not all whole are shown with.
const decimals = 2

func (t *table) add(cells ...cell) { t.rows = append(t.rows, cells) }

// maxWhole is the largest number printed in full; beyond it (no server
// counts that far) %g keeps the column narrow.
const maxWhole = 1e15

func (t *table) write(w io.Writer) {
	n := len(t.header)
	width := make([]int, n)
	right := make([]bool, n)
	for j, h := range t.header {
		width[j] = utf8.RuneCountInString(h)
	}
	group := func(j int) int {
		if j < len(t.groups) {
			return t.groups[j]
		}
		return j
	}
	whole := map[int]bool{}
	for j := 0; j < n; j++ {
		g := group(j)
		if _, seen := whole[g]; !seen {
			whole[g] = true
		}
		for _, r := range t.rows {
			if c := r[j]; c.isNum {
				right[j] = true
				whole[g] = whole[g] && (c.num == math.Trunc(c.num) || math.IsNaN(c.num) || math.IsInf(c.num, 0))
			}
		}
	}
	for j := 0; j < n; j++ {
		dec := decimals
		if whole[group(j)] {
			dec = 0
		}
		for _, r := range t.rows {
			c := &r[j]
			switch {
			case !c.isNum:
				c.format = c.text
				right[j] = right[j] || c.text == none.text || strings.HasSuffix(c.text, "%")
			case math.IsNaN(c.num):
				c.format = "NaN"
			case math.IsInf(c.num, 0):
				c.format = fmt.Sprintf("%+.0f", c.num) // +Inf, -Inf
			case math.Abs(c.num) >= maxWhole:
				c.format = fmt.Sprintf("%.6g", c.num)
			default:
				c.format = fmt.Sprintf("%.*f", dec, c.num)
			}
			width[j] = max(width[j], utf8.RuneCountInString(c.format))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		for j, c := range cells {
			pad := strings.Repeat(" ", width[j]-utf8.RuneCountInString(c))
			if j > 0 {
				b.WriteString("  ")
			}
			if right[j] {
				b.WriteString(pad + c)
			} else if j < len(cells)-1 {
				b.WriteString(c + pad)
			} else {
				b.WriteString(c) // no trailing spaces
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(t.header)
	for _, r := range t.rows {
		cells := make([]string, n)
		for j := range cells {
			cells[j] = r[j].format
		}
		line(cells)
	}
}
