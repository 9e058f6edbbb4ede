package report

import (
	"math"
	"strconv"
	"strings"
)

// SI formats v with at most three significant digits and an SI suffix:
// 11890 → "11.9k", 2.5e6 → "2.5M", 0.25 → "0.25", 0 → "0".
func SI(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		if v == 0 {
			return "0"
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	suffix := ""
	for _, s := range []struct {
		f float64
		n string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if v >= s.f*0.9995 {
			v, suffix = v/s.f, s.n
			break
		}
	}
	var txt string
	switch {
	case v >= 100:
		txt = strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		txt = strconv.FormatFloat(v, 'f', 1, 64)
	case v >= 1:
		txt = strconv.FormatFloat(v, 'f', 2, 64)
	default:
		txt = strconv.FormatFloat(v, 'g', 2, 64)
	}
	if strings.Contains(txt, ".") && !strings.ContainsAny(txt, "e") {
		txt = strings.TrimRight(strings.TrimRight(txt, "0"), ".")
	}
	return sign + txt + suffix
}

// niceTicks are about n round values (1, 2 or 5 × 10^k apart) from lo
// through at least hi.
func niceTicks(lo, hi float64, n int) []float64 {
	if !(hi > lo) {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(max(1, n))
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	start := math.Floor(lo/step) * step
	var out []float64
	for v := start; v < hi+step*0.999; v += step {
		out = append(out, math.Round(v/step)*step)
		if len(out) > 4*n+4 {
			break
		}
	}
	return out
}
