package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strings"
	"time"
)

// Report is an experiment's outcome: tables to print, charts, and a typed
// JSON document.
type Report struct {
	Tables []*Table
	Charts []Chart
	Doc    any // a struct of this package's documents, marshalled by WriteJSON
}

// Print writes every table, then the charts as text.
func (r *Report) Print(w io.Writer) {
	for _, t := range r.Tables {
		t.Print(w)
	}
	for _, c := range r.Charts {
		fmt.Fprintf(w, "\n%s\n", c.Text(60, 12))
	}
}

// WriteJSON writes the report's document atomically.
func (r *Report) WriteJSON(path string) error { return WriteJSON(path, r.Doc) }

// HTML is the report as a self-contained page: the charts as inline SVG,
// then the tables.
func (r *Report) HTML(at time.Time) string {
	var b strings.Builder
	title := "benchtop report"
	if len(r.Tables) > 0 {
		title = r.Tables[0].Title
	}
	fmt.Fprintf(&b, "<!doctype html><html><head><meta charset=\"utf-8\"><title>%s</title><style>"+
		"body{font-family:sans-serif;margin:2em;color:#222;max-width:1100px}table{border-collapse:collapse;margin:1em 0}"+
		"td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td{white-space:nowrap}td:first-child,th:first-child,td.text{text-align:left}"+
		"th{background:#f2f0fb}p.note{color:#555}svg{display:block;margin:1em 0}</style></head><body>\n", html.EscapeString(title))
	fmt.Fprintf(&b, "<h1>%s</h1><p class=\"note\">Written by benchtop on %s.</p>\n", html.EscapeString(title), at.UTC().Format(time.RFC3339))
	for _, c := range r.Charts {
		b.WriteString(c.SVG(760, 380) + "\n")
	}
	for _, t := range r.Tables {
		fmt.Fprintf(&b, "<h2>%s</h2><table><tr>", html.EscapeString(t.Title))
		for _, h := range t.Headers {
			fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(h))
		}
		b.WriteString("</tr>")
		left := t.LeftAligned()
		for _, row := range t.Rows {
			b.WriteString("<tr>")
			for i, c := range row {
				if i > 0 && left[i] {
					fmt.Fprintf(&b, "<td class=\"text\">%s</td>", html.EscapeString(c))
					continue
				}
				fmt.Fprintf(&b, "<td>%s</td>", html.EscapeString(c))
			}
			b.WriteString("</tr>")
		}
		b.WriteString("</table>")
		for _, n := range t.Notes {
			fmt.Fprintf(&b, "<p class=\"note\">%s</p>", html.EscapeString(n))
		}
	}
	b.WriteString("</body></html>\n")
	return b.String()
}

// WriteHTML writes path (the HTML page) and, beside it, a CSV of the first
// table and the JSON document, as one set (WriteSet: none appears before
// all are whole; the JSON last), and returns what it wrote.
func (r *Report) WriteHTML(path string) ([]string, error) {
	base := strings.TrimSuffix(path, ".html")
	js, err := json.MarshalIndent(r.Doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %s.json: %w", base, err)
	}
	var parts []Part
	if len(r.Tables) > 0 {
		var cb bytes.Buffer
		w := csv.NewWriter(&cb)
		w.Write(r.Tables[0].Headers)
		w.WriteAll(r.Tables[0].Rows)
		parts = append(parts, Part{base + ".csv", cb.Bytes()})
	}
	parts = append(parts, Part{path, []byte(r.HTML(time.Now()))}, Part{base + ".json", append(js, '\n')})
	return WriteSet(parts)
}
