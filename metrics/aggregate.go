package metrics

import (
	"time"

	"benchtop/engine"
)

// aggregator is the collector's state. Only a holder of Collector.mu
// touches it: Run's goroutine, or a caller of Sync or of a reader.
type aggregator struct {
	opts    Options
	pool    histPool
	spare   batch
	dropped int64 // events the queue dropped, as of the last batch taken

	start int64 // the clock's origin (Unix ns): NewCollector or the last Reset
	lastT int64 // the newest event time seen
	win   window

	live     map[string]*request
	free     []*request
	inFlight int // requests arrived and not finished (stale ones too)
	tot      totals
	finishes map[string]int
	sources  []sourceState
	last     engine.StepEvent // the newest step of any source
	lastSrc  int
	haveStep bool

	segs    []*segment // retained segments, the current one last
	markers []Marker
	epochs  []*epoch
	cutNext bool // the next arrival starts an epoch (after a Mark or Reset)

	records ring[RequestRecord]
	decode  ring[engine.StepEvent]
	series  []Point
}

type totals struct {
	arrived, finished, failed, preempts, outTok, promptTok, steps int64
}

// sourceState is what a source's row needs beyond the window.
type sourceState struct {
	last                      engine.StepEvent
	haveStep                  bool
	arrived, finished, failed int64
	outTok, steps             int64
}

// request is a request in flight. Times are Unix ns; 0 means not yet.
type request struct {
	arrival, sched, first, last, seen int64
	out, preempts                     int32
	source                            uint16
	started, promptCounted, stale     bool // stale: arrived before a Reset
	ep                                *epoch
	seg                               *segment
}

func (a *aggregator) init(o Options, start int64) {
	a.opts = o
	a.live = map[string]*request{}
	a.win.init(o, &a.pool)
	a.win.onClose = a.closeBucket
	a.clear(start)
}

// clear empties every statistic and starts the clock at start. Requests in
// flight become stale: they finish without being counted.
func (a *aggregator) clear(start int64) {
	for _, r := range a.live {
		r.stale, r.ep, r.seg = true, nil, nil
	}
	a.start, a.lastT = start, start
	a.win.clear(start)
	a.tot, a.finishes, a.sources = totals{}, map[string]int{}, nil
	a.last, a.lastSrc, a.haveStep = engine.StepEvent{}, 0, false
	for _, s := range a.segs {
		s.release(&a.pool)
	}
	for _, e := range a.epochs {
		e.release(&a.pool)
	}
	a.segs = []*segment{{what: "start", start: start}}
	a.markers, a.epochs, a.cutNext = nil, nil, true
	a.records = ring[RequestRecord]{max: a.opts.MaxRecords}
	a.decode = ring[engine.StepEvent]{max: a.opts.MaxDecodeSteps}
	a.series = nil
}

func (a *aggregator) process(b *batch) {
	for i := range b.ev {
		e := &b.ev[i]
		switch e.kind {
		case kindStep:
			a.lastT = max(a.lastT, e.t)
			a.step(e, &b.steps[e.aux])
		case kindMark:
			what := ""
			if e.aux >= 0 {
				what = b.texts[e.aux]
			}
			a.mark(e.t, what)
		case kindReset:
			a.clear(e.t)
		default:
			a.lastT = max(a.lastT, e.t)
			text := ""
			if e.aux >= 0 {
				text = b.texts[e.aux]
			}
			a.request(e, text)
		}
	}
}

func (a *aggregator) source(i uint16) *sourceState {
	for len(a.sources) <= int(i) {
		a.sources = append(a.sources, sourceState{})
	}
	return &a.sources[i]
}

func (a *aggregator) step(e *event, st *engine.StepEvent) {
	a.tot.steps++
	src := a.source(e.source)
	src.last, src.haveStep = *st, true
	src.steps++
	a.last, a.lastSrc, a.haveStep = *st, int(e.source), true
	if st.PrefillTokens == 0 && st.DecodeTokens > 0 {
		a.decode.add(*st)
	}
	if s := a.win.slotAt(e.t); s != nil {
		p := &a.pool
		s.h[hStep].record(p, int64(st.Total), 1)
		s.h[hSchedule].record(p, int64(st.ScheduleTime), 1)
		s.h[hForward].record(p, int64(st.ExecuteTime), 1)
		s.h[hSample].record(p, int64(st.SampleTime), 1)
		if st.DeviceTime > 0 {
			s.h[hDevice].record(p, int64(st.DeviceTime), 1)
		}
		s.src(e.source).step.record(p, int64(st.Total), 1)
	}
}

func (a *aggregator) request(e *event, text string) {
	r := a.live[e.id]
	if r != nil {
		r.seen = e.t
	}
	switch engine.RequestEventKind(e.kind) {
	case engine.EvArrived:
		if r == nil {
			a.arrive(e)
		}
	case engine.EvScheduled:
		if r == nil {
			return
		}
		if r.sched == 0 {
			r.sched = e.t
			if !r.stale {
				q := e.t - r.arrival
				if s := a.win.slotAt(e.t); s != nil {
					s.h[hQueue].record(&a.pool, q, 1)
				}
				r.ep.resolve().h[eQueue].record(&a.pool, q, 1)
			}
		}
		if !r.promptCounted && e.output == 0 {
			r.promptCounted = true
			a.tot.promptTok += int64(e.prompt)
			if s := a.win.slotAt(e.t); s != nil {
				s.prompt += int64(e.prompt)
			}
		}
	case engine.EvPreempted:
		a.tot.preempts++
		if r != nil {
			r.preempts++
		}
	case engine.EvFirstToken, engine.EvToken:
		a.tokens(e, r)
	case engine.EvFinished:
		if r != nil {
			a.finish(e, r, text)
		}
	}
}

func (a *aggregator) arrive(e *event) {
	a.tot.arrived++
	a.source(e.source).arrived++
	var r *request
	if n := len(a.free); n > 0 {
		r, a.free = a.free[n-1], a.free[:n-1]
	} else {
		r = new(request)
	}
	*r = request{arrival: e.arrival, seen: e.t, source: e.source}
	r.ep = a.epochFor(e.arrival)
	r.seg = a.segs[len(a.segs)-1]
	r.seg.live++
	a.inFlight++
	a.live[e.id] = r
}

// tokens counts a chunk of k ≥ 1 output tokens (OutputTokens grew by k; a
// source that does not count them gives one token a chunk). The first
// chunk gives TTFT; a later one its gap to the previous chunk (ChunkGap)
// and k ITL samples of gap/k.
func (a *aggregator) tokens(e *event, r *request) {
	k := int64(1)
	if r != nil {
		if e.output > r.out {
			k = int64(e.output - r.out)
			r.out = e.output
		} else {
			r.out++
		}
	}
	a.tot.outTok += k
	a.source(e.source).outTok += k
	a.segs[len(a.segs)-1].outTok += k
	s := a.win.slotAt(e.t)
	if s != nil {
		s.tokens += k
		s.src(e.source).tokens += k
	}
	if r == nil {
		return
	}
	p := &a.pool
	if !r.stale {
		if s != nil {
			s.h[hTokensPerChunk].record(p, k, 1)
		}
		if !r.started {
			ttft := e.t - r.arrival
			if s != nil {
				s.h[hTTFT].record(p, ttft, 1)
			}
			r.ep.resolve().h[eTTFT].record(p, ttft, 1)
			r.seg.h[sTTFT].record(p, ttft, 1)
		} else {
			gap := e.t - r.last
			if s != nil {
				s.h[hChunkGap].record(p, gap, 1)
				s.h[hITL].record(p, gap/k, k)
			}
			r.ep.resolve().h[eITL].record(p, gap/k, k)
		}
	}
	if !r.started {
		r.started, r.first = true, e.t
	}
	r.last = e.t
}

func (a *aggregator) finish(e *event, r *request, errText string) {
	id := e.id
	delete(a.live, id)
	a.inFlight--
	defer func() { *r = request{}; a.free = append(a.free, r) }()
	if r.stale {
		return
	}
	r.seg.live--
	out := int64(max(e.output, r.out))
	rec := RequestRecord{ID: id, Source: int(r.source), PromptTokens: int(e.prompt), OutputTokens: int(out),
		Arrival: time.Unix(0, r.arrival), E2E: time.Duration(e.t - r.arrival), Preemptions: int(r.preempts),
		Finish: finishName(e.finish), Error: errText, Segment: r.seg.index}
	if r.started {
		rec.TTFT = time.Duration(r.first - r.arrival)
	}
	if r.sched > 0 {
		rec.Queue = time.Duration(r.sched - r.arrival)
	}
	if out > 1 {
		rec.TPOT = (rec.E2E - rec.TTFT) / time.Duration(out-1)
	}
	failed := rec.Failed()
	met := !a.opts.SLO.Empty() && a.opts.SLO.Met(rec)
	a.tot.finished++
	a.finishes[rec.Finish]++
	src := a.source(r.source)
	src.finished++
	if failed {
		a.tot.failed++
		src.failed++
	}
	p := &a.pool
	if s := a.win.slotAt(e.t); s != nil {
		s.finished++
		s.failed += b2i(failed)
		s.sloMet += b2i(met)
		if out > 0 {
			s.h[hE2E].record(p, int64(rec.E2E), 1)
		}
		if out > 1 {
			s.h[hTPOT].record(p, int64(rec.TPOT), 1)
		}
	}
	r.ep.resolve().add(p, &rec, failed, met)
	seg := r.seg
	seg.requests++
	if out > 0 {
		seg.h[sE2E].record(p, int64(rec.E2E), 1)
	}
	if out > 1 {
		seg.h[sTPOT].record(p, int64(rec.TPOT), 1)
	}
	if seg.live == 0 && seg != a.segs[len(a.segs)-1] {
		seg.freeze(p)
	}
	a.records.add(rec)
}

// sweep forgets requests not heard of for ten minutes once events have been
// dropped (a lost EvFinished would otherwise keep its request forever).
func (a *aggregator) sweep(now int64) {
	if a.dropped == 0 {
		return
	}
	for id, r := range a.live {
		if now-r.seen > int64(10*time.Minute) {
			delete(a.live, id)
			a.inFlight--
			if r.seg != nil {
				r.seg.live--
			}
		}
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// finishNames are the engine's finish reasons by value, read once (the
// engine's String panics past its last reason).
var finishNames = func() []string {
	var names []string
	for f := 0; f < 256; f++ {
		name, ok := reasonString(engine.FinishReason(f))
		if !ok {
			break
		}
		names = append(names, name)
	}
	return names
}()

func reasonString(f engine.FinishReason) (name string, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return f.String(), true
}

func finishName(f uint8) string {
	if int(f) < len(finishNames) && finishNames[f] != "" {
		return finishNames[f]
	}
	return "unknown"
}
