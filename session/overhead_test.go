package session

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"benchtop/engine"
)

// What the collector costs an engine step, measured like for like: one
// session, one warm engine, one workload kept running, and the collector's
// observer switched on and off between rounds (collectorGate), so that the
// rounds differ in nothing but the hand-off and the work it feeds. The GPU
// test (gpu_test.go) and its CPU twin on a fake device (fakedevice_test.go)
// share it.

// collectorGate forwards the engine's events to the session's collector
// while on. The session opens with DetachCollector and the gate among its
// Observers; off, a step costs the engine a call and an atomic load more
// per event kind it hands off than with no collector at all.
type collectorGate struct {
	on  atomic.Bool
	obs engine.Observer      // the collector's, set before the load starts
	bat engine.BatchObserver // obs as a BatchObserver, when it is one
}

func (g *collectorGate) attach(o engine.Observer) {
	g.obs = o
	g.bat, _ = o.(engine.BatchObserver)
}

func (g *collectorGate) OnStep(ev *engine.StepEvent) {
	if g.on.Load() {
		g.obs.OnStep(ev)
	}
}

func (g *collectorGate) OnRequest(ev *engine.RequestEvent) {
	if g.on.Load() {
		g.obs.OnRequest(ev)
	}
}

func (g *collectorGate) OnRequests(evs []engine.RequestEvent) {
	if !g.on.Load() {
		return
	}
	if g.bat != nil {
		g.bat.OnRequests(evs)
		return
	}
	for i := range evs {
		g.obs.OnRequest(&evs[i])
	}
}

// stepRecord is what the overhead test keeps of a step.
type stepRecord struct {
	index                    int64
	start                    time.Time
	seqs, prefill, decode    int
	total, sched, exec, samp time.Duration
}

// stepLog records every step (one small copy under an uncontended mutex,
// the same whether the collector is on or off) and ignores request events.
type stepLog struct {
	mu    sync.Mutex
	steps []stepRecord
}

func (l *stepLog) OnStep(ev *engine.StepEvent) {
	l.mu.Lock()
	l.steps = append(l.steps, stepRecord{index: ev.Index, start: ev.Start, seqs: ev.NumSeqs, prefill: ev.PrefillTokens,
		decode: ev.DecodeTokens, total: ev.Total, sched: ev.ScheduleTime, exec: ev.ExecuteTime, samp: ev.SampleTime})
	l.mu.Unlock()
}
func (l *stepLog) OnRequest(*engine.RequestEvent)   {}
func (l *stepLog) OnRequests([]engine.RequestEvent) {}

// take returns the steps recorded since the last take.
func (l *stepLog) take() []stepRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.steps
	l.steps = make([]stepRecord, 0, max(1024, cap(out)))
	return out
}

// roundStats are one round's pure decode steps at its most common batch
// size: the median step (host time, schedule → sample: StepEvent.Total),
// its phases, and the median period (one step's start to the next's, for
// consecutive steps both of that kind: the step plus what the engine
// goroutine does after it — the update, the observers — and before the
// next).
type roundStats struct {
	attached                 bool
	batch, steps, periods    int
	step, period             time.Duration
	sched, exec, samp        time.Duration
	tokensPerSec, stepsTotal float64
}

func median(xs []time.Duration) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	return xs[len(xs)/2]
}

func summarise(recs []stepRecord, attached bool, wall time.Duration) roundStats {
	r := roundStats{attached: attached}
	count := map[int]int{}
	var tokens int
	for _, s := range recs {
		tokens += s.decode
		if s.prefill == 0 && s.decode > 0 {
			count[s.seqs]++
		}
	}
	for b, n := range count {
		if n > r.steps || (n == r.steps && b > r.batch) {
			r.batch, r.steps = b, n
		}
	}
	pure := func(s stepRecord) bool { return s.prefill == 0 && s.decode > 0 && s.seqs == r.batch }
	var step, sched, exec, samp, period []time.Duration
	for i, s := range recs {
		if !pure(s) {
			continue
		}
		step, sched, exec, samp = append(step, s.total), append(sched, s.sched), append(exec, s.exec), append(samp, s.samp)
		if i+1 < len(recs) && recs[i+1].index == s.index+1 && pure(recs[i+1]) {
			period = append(period, recs[i+1].start.Sub(s.start))
		}
	}
	r.periods = len(period)
	r.step, r.sched, r.exec, r.samp, r.period = median(step), median(sched), median(exec), median(samp), median(period)
	r.tokensPerSec = float64(tokens) / wall.Seconds()
	r.stepsTotal = float64(len(recs)) / wall.Seconds()
	return r
}

func (r roundStats) String() string {
	mode := "detached"
	if r.attached {
		mode = "attached"
	}
	return fmt.Sprintf("%s: batch %d, %d steps: step %s (schedule %s, execute %s, sample %s), period %s; %.0f decode tok/s, %.0f steps/s",
		mode, r.batch, r.steps, r.step, r.sched, r.exec, r.samp, r.period, r.tokensPerSec, r.stepsTotal)
}

// overheadResult is the ratio attached/detached − 1 of each pair of
// rounds, for the step and the period, and their medians.
type overheadResult struct {
	rounds               []roundStats
	stepRel, periodRel   []float64
	medStep, medPeriod   float64
	batchesDiffer, empty bool
}

// measureOverhead runs pairs× (detached, attached) rounds of d each on the
// session's kept-running load, alternating which comes first so that a
// drift in the machine falls on both; each round starts after settle.
func measureOverhead(t *testing.T, gate *collectorGate, log *stepLog, pairs int, settle, d time.Duration) overheadResult {
	t.Helper()
	var res overheadResult
	for p := range pairs {
		order := []bool{false, true}
		if p%2 == 1 {
			order = []bool{true, false}
		}
		var pair [2]roundStats // detached, attached
		for _, attached := range order {
			gate.on.Store(attached)
			time.Sleep(settle)
			log.take()
			t0 := time.Now()
			time.Sleep(d)
			recs := log.take()
			r := summarise(recs, attached, time.Since(t0))
			t.Logf("round %d %s", len(res.rounds)+1, r)
			res.rounds = append(res.rounds, r)
			pair[b2i(attached)] = r
		}
		if pair[0].batch != pair[1].batch {
			res.batchesDiffer = true
		}
		if pair[0].step == 0 || pair[1].step == 0 || pair[0].period == 0 || pair[1].period == 0 {
			res.empty = true
			continue
		}
		res.stepRel = append(res.stepRel, float64(pair[1].step)/float64(pair[0].step)-1)
		res.periodRel = append(res.periodRel, float64(pair[1].period)/float64(pair[0].period)-1)
	}
	gate.on.Store(true)
	res.medStep, res.medPeriod = medianF(res.stepRel), medianF(res.periodRel)
	t.Logf("collector attached / detached − 1, per pair: step %s (median %+.2f%%), period %s (median %+.2f%%)",
		percents(res.stepRel), 100*res.medStep, percents(res.periodRel), 100*res.medPeriod)
	return res
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func medianF(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	ys := slices.Clone(xs)
	slices.Sort(ys)
	if len(ys)%2 == 0 {
		return (ys[len(ys)/2-1] + ys[len(ys)/2]) / 2
	}
	return ys[len(ys)/2]
}

func percents(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%+.2f%%", 100*x)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
