package experiments

import (
	"testing"

	"benchtop/report"
)

func TestSpreadCells(t *testing.T) {
	first := point{tps: report.Spread{Mean: 100, Min: 95, Max: 105, N: 3}}
	cases := []struct {
		name       string
		pt         point
		first      *point
		spread, vs string
		within     bool
	}{
		{"the first row", first, nil, "95.00–105.00", "—", false},
		{"overlapping spreads", point{tps: report.Spread{Mean: 104, Min: 101, Max: 108, N: 3}}, &first, "101.00–108.00", "within spread", true},
		{"faster beyond the spread", point{tps: report.Spread{Mean: 120, Min: 110, Max: 130, N: 3}}, &first, "110.00–130.00", "+20.0%", false},
		{"slower beyond the spread", point{tps: report.Spread{Mean: 90, Min: 89, Max: 91, N: 3}}, &first, "89.00–91.00", "-10.0%", false},
	}
	for _, c := range cases {
		cells, within := spreadCells(c.pt, c.first)
		if len(cells) != len(spreadHeaders) || cells[0] != c.spread || cells[1] != c.vs || within != c.within {
			t.Errorf("%s: cells %q within %v, want [%s %s] within %v", c.name, cells, within, c.spread, c.vs, c.within)
		}
	}
}
