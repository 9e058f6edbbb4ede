package metrics

import (
	"math"
	"time"
)

// Summary is the aggregate of the requests that arrived in a span: counts
// and tokens of those that finished, their rates over a wall time, and
// their distributions (TTFT and ITL also of those still in flight).
type Summary struct {
	Since        time.Time      `json:"since"` // the first arrival counted
	Requests     int            `json:"num_requests"`
	Failed       int            `json:"failed"`
	Finishes     map[string]int `json:"finishes"`
	OutputTokens int            `json:"output_tokens"`
	PromptTokens int            `json:"prompt_tokens"`
	WallTime     float64        `json:"wall_time_s"`
	RPS          float64        `json:"throughput_rps"`
	OutputTPS    float64        `json:"throughput_tps"`
	TotalTPS     float64        `json:"total_tps"`
	TTFT         Dist           `json:"ttft"`
	TPOT         Dist           `json:"tpot"`
	E2E          Dist           `json:"e2e"`
	ITL          Dist           `json:"itl"`
	Queue        Dist           `json:"queue"`
	Preemptions  int            `json:"preemptions"`
	// With SLOs set: requests that met all of them, per second and as a share.
	SLO        SLO     `json:"slo"`
	Goodput    float64 `json:"goodput_rps"`
	Attainment float64 `json:"slo_attainment"`
}

// The histograms of an epoch.
const (
	eTTFT = iota
	eTPOT
	eE2E
	eQueue
	eITL
	numEpochHists
)

// Why an epoch began.
const (
	cutTime = iota // EpochSpan after the previous one began
	cutIdle        // no request was in flight
	cutMark        // the first arrival after a Mark or Reset
)

// EpochSpan is how much arrival time an epoch covers before the next
// begins; MaxEpochs bounds how many are kept (older ones merge).
const (
	EpochSpan = time.Second
	MaxEpochs = 32
)

// epoch holds the whole-run statistics of the requests that arrived in it.
// Epochs begin every EpochSpan of arrivals, at a Mark, and at an arrival
// when nothing was in flight; beyond MaxEpochs two neighbours merge,
// time-cut ones first, so a run's boundary (its first request arrives
// after the previous run's last one finished) survives.
type epoch struct {
	first, last                                       int64 // arrival times (Unix ns)
	cut                                               int
	reqs, failed, sloMet, preempts, outTok, promptTok int64
	finishes                                          map[string]int
	h                                                 [numEpochHists]hist
	into                                              *epoch // where it merged
}

func (e *epoch) resolve() *epoch {
	for e.into != nil {
		e = e.into
	}
	return e
}

func (e *epoch) add(p *histPool, r *RequestRecord, failed, met bool) {
	e.reqs++
	e.failed += b2i(failed)
	e.sloMet += b2i(met)
	e.preempts += int64(r.Preemptions)
	e.outTok += int64(r.OutputTokens)
	e.promptTok += int64(r.PromptTokens)
	if e.finishes == nil {
		e.finishes = map[string]int{}
	}
	e.finishes[r.Finish]++
	if r.OutputTokens > 0 {
		e.h[eE2E].record(p, int64(r.E2E), 1)
	}
	if r.OutputTokens > 1 {
		e.h[eTPOT].record(p, int64(r.TPOT), 1)
	}
}

// absorb merges y into e and frees y's histograms.
func (e *epoch) absorb(p *histPool, y *epoch) {
	e.first, e.last = min(e.first, y.first), max(e.last, y.last)
	e.reqs += y.reqs
	e.failed += y.failed
	e.sloMet += y.sloMet
	e.preempts += y.preempts
	e.outTok += y.outTok
	e.promptTok += y.promptTok
	if e.finishes == nil {
		e.finishes = map[string]int{}
	}
	addCounts(e.finishes, y.finishes)
	for i := range e.h {
		e.h[i].merge(p, &y.h[i])
	}
	y.release(p)
	y.into = e
}

func (e *epoch) release(p *histPool) {
	for i := range e.h {
		e.h[i].release(p)
	}
}

// epochFor is the epoch of a request arriving at t (before it counts as in
// flight).
func (a *aggregator) epochFor(t int64) *epoch {
	cut := -1
	n := len(a.epochs)
	switch {
	case n == 0 || a.cutNext:
		cut = cutMark
	case a.inFlight == 0:
		cut = cutIdle
	case t >= a.epochs[n-1].first+int64(EpochSpan):
		cut = cutTime
	}
	if cut < 0 {
		e := a.epochs[n-1]
		e.first, e.last = min(e.first, t), max(e.last, t)
		return e
	}
	a.cutNext = false
	e := &epoch{first: t, last: t, cut: cut}
	a.epochs = append(a.epochs, e)
	if len(a.epochs) > MaxEpochs {
		a.mergeEpochs()
	}
	return e
}

// mergeEpochs merges one neighbour pair (never the newest epoch): the
// time-cut pair spanning the least time, else the two oldest.
func (a *aggregator) mergeEpochs() {
	best, span := 1, int64(math.MaxInt64)
	for i := 1; i < len(a.epochs)-1; i++ {
		if e := a.epochs[i]; e.cut == cutTime && e.last-a.epochs[i-1].first < span {
			best, span = i, e.last-a.epochs[i-1].first
		}
	}
	a.epochs[best-1].absorb(&a.pool, a.epochs[best])
	a.epochs = append(a.epochs[:best], a.epochs[best+1:]...)
}

// SummarySince summarises the requests that arrived at or after t (all of
// them for a zero t), with rates over wall, from the histograms of the
// epochs that began at or after t: exact to Precision at an epoch boundary,
// which every run's start is when the previous run's requests had all
// finished, and within one epoch (EpochSpan, coarser for old history)
// otherwise; Since says where the summary begins. Goodput and attainment
// come from the epochs when slo is the collector's SLO, else from the
// records kept. As aggregated so far: Sync first.
func (c *Collector) SummarySince(t time.Time, wall time.Duration, slo SLO) Summary {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := &c.agg
	tn := int64(math.MinInt64)
	if !t.IsZero() {
		tn = t.UnixNano()
	}
	s := Summary{WallTime: wall.Seconds(), Finishes: map[string]int{}, SLO: slo}
	var h [numEpochHists]hist
	defer func() {
		for i := range h {
			h[i].release(&a.pool)
		}
	}()
	since, met := int64(math.MaxInt64), int64(0)
	for _, e := range a.epochs {
		if e.first < tn {
			continue
		}
		since = min(since, e.first)
		s.Requests += int(e.reqs)
		s.Failed += int(e.failed)
		s.OutputTokens += int(e.outTok)
		s.PromptTokens += int(e.promptTok)
		s.Preemptions += int(e.preempts)
		met += e.sloMet
		addCounts(s.Finishes, e.finishes)
		for i := range h {
			h[i].merge(&a.pool, &e.h[i])
		}
	}
	if since != math.MaxInt64 {
		s.Since = time.Unix(0, since)
	}
	s.TTFT, s.TPOT, s.E2E, s.Queue, s.ITL = h[eTTFT].dist(), h[eTPOT].dist(), h[eE2E].dist(), h[eQueue].dist(), h[eITL].dist()
	if wall > 0 {
		s.RPS = float64(s.Requests) / wall.Seconds()
		s.OutputTPS = float64(s.OutputTokens) / wall.Seconds()
		s.TotalTPS = float64(s.OutputTokens+s.PromptTokens) / wall.Seconds()
	}
	if slo.Empty() || s.Requests == 0 {
		return s
	}
	if slo != a.opts.SLO {
		met = 0
		n := int64(0)
		a.records.each(func(r *RequestRecord) {
			if r.Arrival.UnixNano() >= tn {
				n++
				met += b2i(slo.Met(*r))
			}
		})
		if n > 0 {
			s.Attainment = float64(met) / float64(n)
		}
	} else {
		s.Attainment = float64(met) / float64(s.Requests)
	}
	if wall > 0 {
		s.Goodput = float64(met) / wall.Seconds()
	}
	return s
}

func addCounts(into, from map[string]int) {
	for k, v := range from {
		into[k] += v
	}
}
