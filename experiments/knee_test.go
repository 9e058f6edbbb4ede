package experiments

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestKnee(t *testing.T) {
	cases := []struct {
		name      string
		tput, lat []float64
		want      int
	}{
		{"linear scaling, flat latency", []float64{10, 20, 40, 80}, []float64{50, 51, 52, 53}, -1},
		{"saturates at the third point", []float64{10, 20, 28, 29}, []float64{50, 52, 80, 200}, 2},
		{"latency jumps while throughput still grows", []float64{10, 20, 40, 60}, []float64{50, 55, 60, 130}, 3},
		{"first step already bad", []float64{10, 11}, []float64{50, 100}, 1},
		{"zeros are skipped", []float64{0, 10, 20}, []float64{0, 50, 55}, -1},
		{"too short", []float64{10}, []float64{50}, -1},
	}
	for _, c := range cases {
		if got := Knee(c.tput, c.lat); got != c.want {
			t.Errorf("%s: knee %d, want %d", c.name, got, c.want)
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
	if s := one.Text(10, 4); strings.Contains(s, "NaN") {
		t.Fatalf("degenerate chart: %s", s)
	}
}
