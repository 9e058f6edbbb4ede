package experiments

import (
	"slices"
	"testing"

	"benchtop/report"
)

func TestSpreadColumns(t *testing.T) {
	spread := func(mean, lo, hi float64) point {
		return point{tps: report.Spread{Mean: mean, Min: lo, Max: hi, N: 3}}
	}
	rows := []struct {
		name       string
		pt         point
		spread, vs string
		within     bool
	}{
		{"the first row", spread(100, 95, 105), "95.00–105.00", "—", false},
		{"overlapping spreads", spread(104, 101, 108), "101.00–108.00", "within spread", true},
		{"faster beyond the spread", spread(120, 110, 130), "110.00–130.00", "+20.0%", false},
		{"slower beyond the spread", spread(90, 89, 91), "89.00–91.00", "-10.0%", false},
	}
	tab := &report.Table{Headers: []string{"Configuration"}}
	cols := addSpreadColumns(tab, 3)
	if !slices.Equal(tab.Headers, []string{"Configuration", "Output tok/s spread", "vs first"}) {
		t.Fatalf("headers %q", tab.Headers)
	}
	for _, r := range rows {
		got, within := cols.fill([]any{r.name}, r.pt)
		if len(got) != 3 || got[1] != r.spread || got[2] != r.vs || within != r.within {
			t.Errorf("%s: row %q within %v, want [%s %s] within %v", r.name, got, within, r.spread, r.vs, r.within)
		}
	}

	// One run each: no spread, no columns.
	tab = &report.Table{Headers: []string{"Configuration"}}
	cols = addSpreadColumns(tab, 1)
	for _, r := range rows {
		if got, within := cols.fill([]any{r.name}, r.pt); len(got) != 1 || within || len(tab.Headers) != 1 {
			t.Errorf("%s without repeats: row %q within %v, headers %q", r.name, got, within, tab.Headers)
		}
	}
}
