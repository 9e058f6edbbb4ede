package experiments

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"strings"
	"time"

	"benchtop/snapshot"
)

// WriteReport writes path (a self-contained HTML page: the tables and the
// charts as inline SVG) and, beside it, the JSON and a CSV of the first
// table, each atomically.
func (r *Report) WriteReport(path string) ([]string, error) {
	base := strings.TrimSuffix(path, ".html")
	var b strings.Builder
	title := "benchtop report"
	if len(r.Tables) > 0 {
		title = r.Tables[0].Title
	}
	fmt.Fprintf(&b, "<!doctype html><html><head><meta charset=\"utf-8\"><title>%s</title><style>"+
		"body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"+
		"td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"+
		"th{background:#f2f0fb}p.note{color:#555}</style></head><body>\n", html.EscapeString(title))
	fmt.Fprintf(&b, "<h1>%s</h1><p class=\"note\">Written by benchtop on %s.</p>\n", html.EscapeString(title), time.Now().UTC().Format(time.RFC3339))
	for _, c := range r.Charts {
		b.WriteString(c.SVG(720, 360) + "\n")
	}
	for _, t := range r.Tables {
		fmt.Fprintf(&b, "<h2>%s</h2><table><tr>", html.EscapeString(t.Title))
		for _, h := range t.Headers {
			fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(h))
		}
		b.WriteString("</tr>")
		for _, row := range t.Rows {
			b.WriteString("<tr>")
			for _, c := range row {
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
	out := []string{path}
	if err := snapshot.WriteFileAtomic(path, []byte(b.String())); err != nil {
		return nil, err
	}
	if err := r.WriteJSON(base + ".json"); err != nil {
		return out, err
	}
	out = append(out, base+".json")
	if len(r.Tables) > 0 {
		var cb bytes.Buffer
		w := csv.NewWriter(&cb)
		w.Write(r.Tables[0].Headers)
		w.WriteAll(r.Tables[0].Rows)
		if err := snapshot.WriteFileAtomic(base+".csv", cb.Bytes()); err != nil {
			return out, err
		}
		out = append(out, base+".csv")
	}
	return out, nil
}
