package servermetrics

import (
	"math"
	"sort"
)

// Bucket is one cumulative histogram bucket: the observations ≤ UpperBound.
type Bucket struct {
	UpperBound float64 `json:"le"`
	Count      float64 `json:"count"`
}

// Histogram is a server-side histogram (seconds for the latency ones),
// summed over the series the mapping takes, with its source metric name.
// Its quantiles are estimated from the buckets, as Prometheus'
// histogram_quantile does: linear interpolation inside the bucket holding
// the rank, so they are only as fine as the server's bucket bounds.
type Histogram struct {
	Exposed bool
	Source  string
	Buckets []Bucket // ascending bounds; the last is +Inf
	Count   float64
	Sum     float64
}

// Quantile estimates the q-quantile (0 ≤ q ≤ 1) from the buckets; NaN when
// not exposed, empty, q is out of range or a count is not a number. A rank
// in the +Inf bucket gives the highest finite bound (the estimate is a floor
// there).
func (h *Histogram) Quantile(q float64) float64 {
	if !h.Exposed || len(h.Buckets) == 0 || !(q >= 0 && q <= 1) {
		return math.NaN()
	}
	total := h.Buckets[len(h.Buckets)-1].Count
	if !(total > 0) || math.IsInf(total, 0) {
		return math.NaN()
	}
	rank := q * total
	prevBound, prevCount := 0.0, 0.0
	for i, b := range h.Buckets {
		if math.IsNaN(b.Count) {
			return math.NaN()
		}
		if b.Count >= rank && b.Count > prevCount {
			if math.IsInf(b.UpperBound, 1) {
				if i == 0 {
					return math.NaN()
				}
				return prevBound
			}
			lower := prevBound
			if i == 0 && b.UpperBound <= 0 {
				return b.UpperBound
			}
			return lower + (b.UpperBound-lower)*(rank-prevCount)/(b.Count-prevCount)
		}
		prevBound, prevCount = b.UpperBound, b.Count
	}
	return prevBound
}

// Mean is Sum / Count; NaN when empty.
func (h *Histogram) Mean() float64 {
	if !h.Exposed || !(h.Count > 0) {
		return math.NaN()
	}
	return h.Sum / h.Count
}

// Sub returns the observations made between prev and h (two scrapes of the
// same histogram): the window's distribution. Where the bounds differ or a
// count went down (the server restarted), h itself is returned.
func (h Histogram) Sub(prev Histogram) Histogram {
	if !h.Exposed || !prev.Exposed || len(h.Buckets) != len(prev.Buckets) || h.Count < prev.Count {
		return h
	}
	out := h
	out.Buckets = make([]Bucket, len(h.Buckets))
	for i, b := range h.Buckets {
		p := prev.Buckets[i]
		if p.UpperBound != b.UpperBound || b.Count < p.Count {
			return h
		}
		out.Buckets[i] = Bucket{UpperBound: b.UpperBound, Count: b.Count - p.Count}
	}
	out.Count, out.Sum = h.Count-prev.Count, h.Sum-prev.Sum
	return out
}

// add merges o's buckets into h (same-named histograms of several series:
// data-parallel engines). Buckets are matched by bound; a bound only one
// side has keeps the other side's count at the next lower bound, which
// cumulative buckets make exact.
func (h *Histogram) add(o Histogram) {
	if len(h.Buckets) == 0 {
		h.Buckets = append([]Bucket(nil), o.Buckets...)
		h.Count, h.Sum = o.Count, o.Sum
		return
	}
	bounds := map[float64]bool{}
	for _, b := range h.Buckets {
		bounds[b.UpperBound] = true
	}
	for _, b := range o.Buckets {
		bounds[b.UpperBound] = true
	}
	les := make([]float64, 0, len(bounds))
	for le := range bounds {
		les = append(les, le)
	}
	sort.Float64s(les)
	merged := make([]Bucket, len(les))
	for i, le := range les {
		merged[i] = Bucket{UpperBound: le, Count: cumulativeAt(h.Buckets, le) + cumulativeAt(o.Buckets, le)}
	}
	h.Buckets = merged
	h.Count += o.Count
	h.Sum += o.Sum
}

// cumulativeAt is the count of observations ≤ le in ascending buckets.
func cumulativeAt(bs []Bucket, le float64) float64 {
	c := 0.0
	for _, b := range bs {
		if b.UpperBound > le {
			break
		}
		c = b.Count
	}
	return c
}
