package metrics

import (
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Every histogram records integers from 0 to an hour's worth of nanoseconds
// (or plain counts, such as tokens per chunk) with two significant digits:
// HDR keeps values below 256 exactly and gives every larger value a bucket at
// most 1/128 of it wide, so a percentile read back is within Precision of a
// value that was recorded. Larger values are clamped for the percentiles; the
// maximum and the mean stay exact.
const (
	histHighest = int64(time.Hour)
	histDigits  = 2
)

// Precision is the relative error bound of every percentile the collector
// reports: a percentile is the upper edge of the HDR bucket that holds it,
// at most 1/128 (0.78%) above the recorded value.
const Precision = 1.0 / 128

// hist is an HDR histogram with the exact count, sum and maximum beside
// it. Its first few distinct values are kept exactly, inline; the HDR part
// (37 KB) is allocated, from a free list, only when they overflow. Most
// buckets of the live window and most epochs see few samples of a kind, and
// merging or reading a small one touches a handful of values instead of
// every HDR bucket.
type hist struct {
	h     *hdr.Histogram
	n     int64
	sum   float64
	max   int64
	small int                // distinct values in sv/sc while h is nil
	sv    [smallValues]int64 // values
	sc    [smallValues]int64 // their counts
}

const smallValues = 8

// histPool recycles HDR histograms: they are 37 KB each and the collector
// retires some every interval.
type histPool struct{ free []*hdr.Histogram }

func (p *histPool) get() *hdr.Histogram {
	if n := len(p.free); n > 0 {
		h := p.free[n-1]
		p.free = p.free[:n-1]
		return h
	}
	return hdr.New(1, histHighest, histDigits)
}

func (p *histPool) put(h *hdr.Histogram) {
	if h != nil && len(p.free) < 64 {
		h.Reset()
		p.free = append(p.free, h)
	}
}

// record adds n samples of v (a negative v counts as 0).
func (x *hist) record(p *histPool, v, n int64) {
	if n <= 0 {
		return
	}
	v = max(v, 0)
	x.n += n
	x.sum += float64(v) * float64(n)
	x.max = max(x.max, v)
	x.add(p, v, n)
}

// add puts n samples of v in the inline values or the HDR part.
func (x *hist) add(p *histPool, v, n int64) {
	if x.h == nil {
		for i := 0; i < x.small; i++ {
			if x.sv[i] == v {
				x.sc[i] += n
				return
			}
		}
		if x.small < smallValues {
			x.sv[x.small], x.sc[x.small] = v, n
			x.small++
			return
		}
		x.h = p.get()
		for i := 0; i < x.small; i++ {
			_ = x.h.RecordValues(min(x.sv[i], histHighest), x.sc[i])
		}
		x.small = 0
	}
	_ = x.h.RecordValues(min(v, histHighest), n) // in range by the clamp
}

// merge adds y's samples to x.
func (x *hist) merge(p *histPool, y *hist) {
	if y.n == 0 {
		return
	}
	x.n += y.n
	x.sum += y.sum
	x.max = max(x.max, y.max)
	if y.h == nil {
		for i := 0; i < y.small; i++ {
			x.add(p, y.sv[i], y.sc[i])
		}
		return
	}
	if x.h == nil {
		x.h = p.get()
		for i := 0; i < x.small; i++ {
			_ = x.h.RecordValues(min(x.sv[i], histHighest), x.sc[i])
		}
		x.small = 0
	}
	x.h.Merge(y.h)
}

// clear empties x, keeping its HDR part for reuse.
func (x *hist) clear() {
	if x.n > 0 && x.h != nil {
		x.h.Reset()
	}
	x.n, x.sum, x.max, x.small = 0, 0, 0, 0
}

// recycle empties x for its next interval: a busy histogram keeps its HDR
// part, a quiet one (few samples last time) gives it back, so a bucket's
// memory follows the load instead of the busiest interval ever seen.
func (x *hist) recycle(p *histPool) {
	if x.n >= 512 {
		x.clear()
	} else {
		x.release(p)
	}
}

// release empties x and gives its HDR part back to the pool.
func (x *hist) release(p *histPool) {
	p.put(x.h)
	*x = hist{}
}

// quantile is the p-th percentile (0 < p ≤ 100): the value of rank
// round(p/100·n) as HDR counts, exact for inline values and the upper edge
// of its HDR bucket otherwise, never above the exact max.
func (x *hist) quantile(p float64) int64 {
	if x.n == 0 {
		return 0
	}
	if x.h != nil {
		return min(x.h.ValueAtQuantile(p), x.max)
	}
	// Insertion-sort the few inline values (a copy: x stays as recorded).
	v, c, k := x.sv, x.sc, x.small
	for i := 1; i < k; i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1], c[j], c[j-1] = v[j-1], v[j], c[j-1], c[j]
		}
	}
	rank := max(int64(p/100*float64(x.n)+0.5), 1)
	var seen int64
	for i := 0; i < k; i++ {
		if seen += c[i]; seen >= rank {
			return v[i]
		}
	}
	return v[k-1]
}

// dist summarises x as durations; a Dist with Count 0 when x is empty.
func (x *hist) dist() Dist {
	if x.n == 0 {
		return Dist{}
	}
	return Dist{Count: int(x.n), Mean: time.Duration(x.sum / float64(x.n)),
		P50: time.Duration(x.quantile(50)), P90: time.Duration(x.quantile(90)),
		P99: time.Duration(x.quantile(99)), Max: time.Duration(x.max)}
}

// counts summarises x as plain numbers.
func (x *hist) counts() CountDist {
	if x.n == 0 {
		return CountDist{}
	}
	return CountDist{Count: int(x.n), Mean: x.sum / float64(x.n),
		P50: x.quantile(50), P90: x.quantile(90), P99: x.quantile(99), Max: x.max}
}
