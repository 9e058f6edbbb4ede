package report

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Table is a titled text table with right-aligned numbers.
type Table struct {
	Title   string
	Headers []string
	Rows    [][]string
	Notes   []string
}

// Add appends a row, formatting each cell with %v (floats to 2 places).
func (t *Table) Add(cells ...any) {
	row := make([]string, len(cells))
	for i, c := range cells {
		switch v := c.(type) {
		case float64:
			row[i] = fmt.Sprintf("%.2f", v)
		case string:
			row[i] = v
		default:
			row[i] = fmt.Sprint(v)
		}
	}
	t.Rows = append(t.Rows, row)
}

// columns is the table's column count: its headers', or a longer row's.
func (t *Table) columns() int {
	n := len(t.Headers)
	for _, r := range t.Rows {
		n = max(n, len(r))
	}
	return n
}

// LeftAligned says which columns read from the left: the first (names),
// and any whose cells are all text (a sweep's "← knee", a source's
// state); numbers, and columns mixing numbers with "n/a" or "-", align
// right.
func (t *Table) LeftAligned() []bool {
	left := make([]bool, t.columns())
	for i := range left {
		text, any := true, false
		for _, r := range t.Rows {
			if i < len(r) && r[i] != "" {
				any = true
				text = text && !numeric(r[i])
			}
		}
		left[i] = i == 0 || any && text
	}
	return left
}

// numeric says whether a cell is a number or stands for one ("-", "—",
// "n/a ...").
func numeric(c string) bool {
	c = strings.TrimLeft(c, "+-.")
	if c == "" || c == "—" || strings.HasPrefix(c, "n/a") {
		return true
	}
	r, _ := utf8.DecodeRuneInString(c)
	return r >= '0' && r <= '9'
}

// Print writes the table.
func (t *Table) Print(w io.Writer) {
	widths := make([]int, t.columns())
	for i, h := range t.Headers {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.Rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	left := t.LeftAligned()
	line := func(cells []string) {
		var b strings.Builder
		for i, c := range cells {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if left[i] {
				b.WriteString(c + pad)
			} else {
				b.WriteString(pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	total := len(widths)*2 - 2
	for _, wd := range widths {
		total += wd
	}
	fmt.Fprintf(w, "\n%s\n%s\n", t.Title, strings.Repeat("=", max(total, utf8.RuneCountInString(t.Title))))
	line(t.Headers)
	fmt.Fprintln(w, strings.Repeat("-", total))
	for _, r := range t.Rows {
		line(r)
	}
	for _, n := range t.Notes {
		fmt.Fprintln(w, n)
	}
}

func formatFloat(v float64) string { return fmt.Sprintf("%.2f", v) }
