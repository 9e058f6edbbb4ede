package metrics

import (
	"time"
)

// The histograms of a live-window bucket.
const (
	hTTFT = iota
	hTPOT
	hITL
	hE2E
	hQueue
	hChunkGap
	hTokensPerChunk
	hStep
	hSchedule
	hForward
	hSample
	hDevice
	numSlotHists
)

// slot is one bucket of the live window: what happened in [start +
// idx·Interval, start + (idx+1)·Interval), by event time.
type slot struct {
	idx                                      int64
	tokens, prompt, finished, failed, sloMet int64
	h                                        [numSlotHists]hist
	srcs                                     []srcSlot
}

type srcSlot struct {
	tokens int64
	step   hist
}

func (s *slot) src(i uint16) *srcSlot {
	for len(s.srcs) <= int(i) {
		s.srcs = append(s.srcs, srcSlot{})
	}
	return &s.srcs[i]
}

func (s *slot) reset(idx int64, p *histPool) {
	s.idx = idx
	s.tokens, s.prompt, s.finished, s.failed, s.sloMet = 0, 0, 0, 0, 0
	for i := range s.h {
		s.h[i].recycle(p)
	}
	for i := range s.srcs {
		s.srcs[i].tokens = 0
		s.srcs[i].step.recycle(p)
	}
}

// window is the live window: a ring of buckets by event time. Bucket cur is
// open; the window covers the n buckets before it, so its span is exact
// (n·Interval, less while the run is younger) and it ends at a bucket
// boundary. Rates are exact counts over that span; percentiles come from the
// buckets' histograms merged, recomputed when a bucket closes or a late
// event lands in a closed one, never per event and never by sorting.
type window struct {
	pool     *histPool
	start    int64
	interval int64
	n        int64 // buckets in the window
	slots    []slot
	cur      int64
	horizon  int64 // events stamped later than this (a minute past the clock) stay out of the window
	dirty    bool
	stats    windowStats
	merged   [numSlotHists]hist // scratch
	srcStep  []hist             // scratch
	onClose  func()             // called as each bucket closes (a series point)
}

// windowStats is the window as last computed.
type windowStats struct {
	span, end                                int64
	tokens, prompt, finished, failed, sloMet int64
	d                                        [numSlotHists]Dist
	tokensPerChunk                           CountDist
	srcTokens                                []int64
	srcStep                                  []Dist
}

func (w *window) init(o Options, p *histPool) {
	w.pool = p
	w.interval = int64(o.Interval)
	w.n = (int64(o.Window) + w.interval - 1) / w.interval
	w.slots = make([]slot, w.n+1)
}

func (w *window) clear(start int64) {
	w.start, w.cur, w.dirty = start, 0, true
	w.horizon = max(w.horizon, start+int64(time.Minute))
	for i := range w.slots {
		w.slots[i].reset(-1, w.pool)
	}
}

func (w *window) bucketOf(t int64) int64 {
	if t < w.start {
		return -1
	}
	return (t - w.start) / w.interval
}

// slotAt is the bucket of an event at t, opening buckets up to it; nil when
// t is before the start, older than the window, or past the horizon (a
// bogus timestamp must not push the window into the future for good).
func (w *window) slotAt(t int64) *slot {
	i := w.bucketOf(t)
	if i < 0 || t > w.horizon {
		return nil
	}
	if i > w.cur {
		w.advance(i)
	}
	if i < w.cur-w.n {
		return nil
	}
	if i < w.cur {
		w.dirty = true // a late event in a closed bucket
	}
	s := &w.slots[i%int64(len(w.slots))]
	if s.idx != i {
		s.reset(i, w.pool)
	}
	return s
}

// advance closes the buckets before to. Each close gives a series point;
// after a long silence only the first window's worth, then it jumps.
func (w *window) advance(to int64) {
	for steps := 0; w.cur < to; steps++ {
		if steps > len(w.slots) {
			w.cur = to
			break
		}
		w.cur++
		if w.onClose != nil {
			w.onClose()
		}
	}
	w.dirty = true
}

// compute merges the closed buckets of the window: every histogram when
// full, else only the counts and TTFT (what a series point needs).
func (w *window) compute(full bool) windowStats {
	lo, hi := max(w.cur-w.n, 0), w.cur
	st := windowStats{span: (hi - lo) * w.interval, end: w.start + hi*w.interval}
	for i := range w.merged {
		w.merged[i].clear()
	}
	for i := range w.srcStep {
		w.srcStep[i].clear()
	}
	for j := lo; j < hi; j++ {
		s := &w.slots[j%int64(len(w.slots))]
		if s.idx != j {
			continue
		}
		st.tokens += s.tokens
		st.prompt += s.prompt
		st.finished += s.finished
		st.failed += s.failed
		st.sloMet += s.sloMet
		for len(st.srcTokens) < len(s.srcs) {
			st.srcTokens = append(st.srcTokens, 0)
		}
		for i := range s.srcs {
			st.srcTokens[i] += s.srcs[i].tokens
		}
		if !full {
			w.merged[hTTFT].merge(w.pool, &s.h[hTTFT])
			continue
		}
		for i := range s.h {
			w.merged[i].merge(w.pool, &s.h[i])
		}
		for len(w.srcStep) < len(s.srcs) {
			w.srcStep = append(w.srcStep, hist{})
		}
		for i := range s.srcs {
			w.srcStep[i].merge(w.pool, &s.srcs[i].step)
		}
	}
	st.d[hTTFT] = w.merged[hTTFT].dist()
	if full {
		for i := range w.merged {
			if i != hTokensPerChunk {
				st.d[i] = w.merged[i].dist()
			}
		}
		st.tokensPerChunk = w.merged[hTokensPerChunk].counts()
		for i := range w.srcStep {
			st.srcStep = append(st.srcStep, w.srcStep[i].dist())
		}
	}
	return st
}

// current is the window's full statistics, recomputed when stale.
func (w *window) current() *windowStats {
	if w.dirty {
		w.stats = w.compute(true)
		w.dirty = false
	}
	return &w.stats
}

// rate is n per second of the window's span.
func (st *windowStats) rate(n int64) float64 {
	if st.span <= 0 {
		return 0
	}
	return float64(n) / (float64(st.span) / float64(time.Second))
}
