package experiments

import "testing"

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
