package report

import "math"

// SpreadOf summarises repeated measurements of one quantity.
func SpreadOf(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := Spread{Min: xs[0], Max: xs[0], N: len(xs)}
	var sum float64
	for _, x := range xs {
		sum += x
		s.Min, s.Max = math.Min(s.Min, x), math.Max(s.Max, x)
	}
	s.Mean = sum / float64(len(xs))
	if len(xs) > 1 {
		var ss float64
		for _, x := range xs {
			ss += (x - s.Mean) * (x - s.Mean)
		}
		s.StdDev = math.Sqrt(ss / float64(len(xs)-1))
	}
	return s
}

// Overlaps says whether two measured ranges [min, max] overlap: with
// repeats, a difference inside the spread is not a difference. A single
// repeat has no spread and never overlaps another value.
func (s Spread) Overlaps(o Spread) bool {
	if s.N < 2 || o.N < 2 {
		return false
	}
	return s.Min <= o.Max && o.Min <= s.Max
}

// String is "mean ± half the range" (just the mean for one repeat).
func (s Spread) String() string {
	if s.N < 2 {
		return fmtF(s.Mean)
	}
	return fmtF(s.Mean) + " ± " + fmtF((s.Max-s.Min)/2)
}

func fmtF(v float64) string {
	return formatFloat(v)
}
