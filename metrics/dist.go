package metrics

import (
	"math"
	"slices"
	"time"
)

// Dist summarises a distribution of durations: p50, p90, p99, max and mean,
// with the sample count. Count 0 means there was no sample (a view shows
// "—"), never that the values are 0.
type Dist struct {
	Count int           `json:"count"`
	Mean  time.Duration `json:"mean_ns"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns"`
}

// Valid says whether d summarises at least one sample.
func (d Dist) Valid() bool { return d.Count > 0 }

// CountDist summarises a distribution of counts (tokens per chunk) as Dist
// does durations; Count 0 means no sample.
type CountDist struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean"`
	P50   int64   `json:"p50"`
	P90   int64   `json:"p90"`
	P99   int64   `json:"p99"`
	Max   int64   `json:"max"`
}

// Valid says whether d summarises at least one sample.
func (d CountDist) Valid() bool { return d.Count > 0 }

// Summarize computes a Dist of a small sample exactly (nearest-rank
// percentiles on a sorted copy). The collector itself uses histograms; this
// is for the few short lists callers keep themselves (generator lag).
func Summarize(xs []time.Duration) Dist {
	if len(xs) == 0 {
		return Dist{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	var sum float64
	for _, x := range s {
		sum += float64(x)
	}
	return Dist{
		Count: len(s), Mean: time.Duration(sum / float64(len(s))),
		P50: Percentile(s, 50), P90: Percentile(s, 90), P99: Percentile(s, 99), Max: s[len(s)-1],
	}
}

// Percentile is the nearest-rank percentile of an ascending slice (0 when
// empty).
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}

// Ms is a duration in milliseconds, for tables.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
