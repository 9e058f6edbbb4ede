package metrics

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"benchtop/engine"
)

// The truth test: a synthetic closed-loop stream of known distributions at
// GPU rates (about 500k output tokens/s for 20 s of fake clock; scaled down
// by truthScale under the race detector), some requests streaming chunks of
// several tokens, handed off as an engine would. The live window's rates
// and percentiles must equal the truth counted over the same window within
// 1%, and the whole run's percentiles must be within Precision of the true
// ones.
func TestTruthAtGPURate(t *testing.T) {
	g := newGenerator(5000/truthScale, 20*time.Second, 1)
	c, clk := newFake(t)
	winLo, winHi := int64(10*time.Second), int64(20*time.Second)
	var live, whole truth
	g.run(c, func(n int, now int64) {
		if n%8192 == 0 {
			clk.set(base + now)
			if err := c.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}, func(s sample) {
		whole.add(s)
		if s.t >= winLo && s.t < winHi {
			live.add(s)
		}
	})
	snap := syncAt(t, c, clk, 20_000)
	if snap.DroppedEvents != 0 || snap.Window != 10*time.Second || !snap.WindowEnd.Equal(at(20_000)) {
		t.Fatalf("dropped %d, window %v to %v", snap.DroppedEvents, snap.Window, snap.WindowEnd)
	}
	secs := 10.0
	t.Logf("window: %.0f output tok/s over %v (truth %.0f), %d requests finished, %d ITL samples, %d chunks",
		snap.OutputTPS, snap.Window, float64(live.tokens)/secs, live.finished, live.itl.n, live.chunks)
	within := func(what string, got, want float64, tol float64) {
		t.Helper()
		if want == 0 || math.Abs(got-want)/want > tol {
			t.Errorf("%s: %g, truth %g (tolerance %.2f%%)", what, got, want, 100*tol)
		}
	}
	within("output tok/s", snap.OutputTPS, float64(live.tokens)/secs, 0.01)
	within("total tok/s", snap.TotalTPS, float64(live.tokens+live.prompt)/secs, 0.01)
	within("requests/s", snap.RPS, float64(live.finished)/secs, 0.01)
	if snap.OutputTPS < 400_000/truthScale {
		t.Errorf("the stream ran at %.0f tok/s: not the rate it is meant to test", snap.OutputTPS)
	}
	for _, d := range []struct {
		name string
		got  Dist
		want *values
	}{{"TTFT", snap.TTFT, &live.ttft}, {"TPOT", snap.TPOT, &live.tpot}, {"E2E", snap.E2E, &live.e2e},
		{"queue", snap.Queue, &live.queue}, {"ITL", snap.ITL, &live.itl}, {"chunk gap", snap.ChunkGap, &live.gap},
		{"step time", snap.StepTime, &live.step}} {
		checkDist(t, "window "+d.name, d.got, d.want, 0.01)
	}
	if tc := snap.TokensPerChunk; tc.Count != int(live.chunks) || tc.Max != 4 || math.Abs(tc.Mean-float64(live.tokens)/float64(live.chunks)) > 1e-9 {
		t.Errorf("tokens per chunk %+v; truth %d chunks, %d tokens", tc, live.chunks, live.tokens)
	}

	sm := c.SummarySince(time.Time{}, 20*time.Second, SLO{})
	t.Logf("whole run: %d requests, %d output tokens, ITL p50/p99 %v/%v (truth %v/%v)", sm.Requests, sm.OutputTokens,
		sm.ITL.P50, sm.ITL.P99, time.Duration(whole.itl.at(50)[1]), time.Duration(whole.itl.at(99)[1]))
	if sm.Requests != int(whole.finished) || sm.OutputTokens != int(whole.finishedTokens) {
		t.Errorf("summary: %d requests, %d tokens; truth %d, %d", sm.Requests, sm.OutputTokens, whole.finished, whole.finishedTokens)
	}
	for _, d := range []struct {
		name string
		got  Dist
		want *values
	}{{"TTFT", sm.TTFT, &whole.ttft}, {"TPOT", sm.TPOT, &whole.tpot}, {"E2E", sm.E2E, &whole.e2e},
		{"queue", sm.Queue, &whole.queue}, {"ITL", sm.ITL, &whole.itl}} {
		checkDist(t, "whole-run "+d.name, d.got, d.want, Precision)
	}
}

// checkDist compares a Dist with the truth: count and max exactly, mean
// to 1e-6, and each percentile within tol above the true value at the
// percentile's rank (or a neighbouring rank: ranks are rounded, not cut).
func checkDist(t *testing.T, name string, got Dist, want *values, tol float64) {
	t.Helper()
	if got.Count != int(want.n) || int64(got.Max) != want.max() || math.Abs(float64(got.Mean)-want.mean()) > 1e-6*want.mean()+1 {
		t.Errorf("%s: count %d max %v mean %v; truth %d, %v, %v", name, got.Count, got.Max, got.Mean,
			want.n, time.Duration(want.max()), time.Duration(want.mean()))
		return
	}
	for _, p := range []struct {
		p   float64
		got time.Duration
	}{{50, got.P50}, {90, got.P90}, {99, got.P99}} {
		ok := false
		for _, x := range want.at(p.p) {
			if float64(p.got) >= float64(x) && float64(p.got-time.Duration(x)) <= tol*float64(x) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s p%g: %v; truth %v (ranks around it: %v)", name, p.p, p.got, time.Duration(want.at(p.p)[1]), want.at(p.p))
		}
	}
}

// values is an exact multiset of samples (nanoseconds, drawn in whole
// microseconds), kept as counts per microsecond below half a second and in
// a map above, so ten million samples cost a few megabytes.
type values struct {
	dense  []int64 // counts by microsecond
	sparse map[int64]int64
	n      int64
	sum    float64
	keys   []int64 // sorted sparse keys, built on first read
}

const denseUS = 1 << 19

func (v *values) add(x, n int64) {
	if us := x / 1000; us < denseUS && x%1000 == 0 {
		if int(us) >= len(v.dense) {
			v.dense = append(v.dense, make([]int64, int(us)+1-len(v.dense))...)
		}
		v.dense[us] += n
	} else {
		if v.sparse == nil {
			v.sparse = map[int64]int64{}
		}
		v.sparse[x] += n
		v.keys = nil
	}
	v.n += n
	v.sum += float64(x) * float64(n)
}

// each visits the distinct values in order with their counts until f says stop.
func (v *values) each(f func(x, n int64) bool) {
	if v.keys == nil {
		for k := range v.sparse {
			v.keys = append(v.keys, k)
		}
		slices.Sort(v.keys)
	}
	i := 0
	for us, n := range v.dense {
		x := int64(us) * 1000
		for ; i < len(v.keys) && v.keys[i] < x; i++ {
			if !f(v.keys[i], v.sparse[v.keys[i]]) {
				return
			}
		}
		if n > 0 && !f(x, n) {
			return
		}
	}
	for ; i < len(v.keys); i++ {
		if !f(v.keys[i], v.sparse[v.keys[i]]) {
			return
		}
	}
}

func (v *values) max() int64 {
	var m int64
	v.each(func(x, _ int64) bool { m = x; return true })
	return m
}

func (v *values) mean() float64 { return v.sum / float64(v.n) }

func (v *values) rank(r int64) int64 {
	r = min(max(r, 1), v.n)
	var seen, at int64
	v.each(func(x, n int64) bool {
		seen += n
		at = x
		return seen < r
	})
	return at
}

// at is the values at the ranks around the p-th percentile's.
func (v *values) at(p float64) [3]int64 {
	r := int64(math.Ceil(p / 100 * float64(v.n)))
	return [3]int64{v.rank(r - 1), v.rank(r), v.rank(r + 1)}
}

// truth counts what the generator produced.
type truth struct {
	tokens, prompt, finished, finishedTokens, chunks int64
	ttft, tpot, e2e, queue, itl, gap, step           values
}

func (tr *truth) add(s sample) {
	switch s.kind {
	case sampleChunk:
		tr.tokens += s.k
		tr.chunks++
		if s.gap > 0 {
			tr.gap.add(s.gap, 1)
			tr.itl.add(s.gap/s.k, s.k)
		} else {
			tr.ttft.add(s.v, 1)
		}
	case sampleScheduled:
		tr.prompt += s.k
		tr.queue.add(s.v, 1)
	case sampleFinished:
		tr.finished++
		tr.finishedTokens += s.k
		tr.e2e.add(s.v, 1)
		tr.tpot.add(s.gap, 1)
	case sampleStep:
		tr.step.add(s.v, 1)
	}
}

// sample is one fact of the stream, as the truth counts it.
type sample struct {
	kind   int
	t      int64 // event time, since the start
	k      int64 // tokens (a chunk's, prompt, a request's output)
	v, gap int64 // the value; a chunk's gap (0 for the first), a finish's TPOT
}

const (
	sampleChunk = iota
	sampleScheduled
	sampleFinished
	sampleStep
)

// generator is a closed loop of `clients` requests in flight: each arrives,
// is scheduled after a queueing delay, produces its first chunk at its TTFT
// and then chunks at a per-token ITL; a quarter stream chunks of 1–4
// tokens. When one finishes, the next arrives. A step event ends every
// stepDt (a millisecond). Every duration is drawn in whole microseconds.
type generator struct {
	clients int
	span    int64
	stepDt  int64 // between step events
	rng     *rand.Rand
	reqs    []genReq
	q       genQueue
	nextID  int
}

type genReq struct {
	id                               string
	arrival, first, last, ttft       int64
	out, maxOut, prompt, chunkTokens int64
	next                             int64 // tokens in the next chunk
}

func newGenerator(clients int, span time.Duration, seed uint64) *generator {
	return &generator{clients: clients, span: int64(span), stepDt: int64(time.Millisecond), rng: rand.New(rand.NewPCG(seed, 7))}
}

func (g *generator) us(mean float64, sigma float64, lo, hi int64) int64 {
	x := int64(mean * math.Exp(sigma*g.rng.NormFloat64()))
	return min(max(x, lo), hi) * 1000
}

// chunk draws the size of r's next chunk.
func (g *generator) chunk(r *genReq) int64 {
	return min(1+int64(g.rng.IntN(int(r.chunkTokens))), r.maxOut-r.out)
}

// genItem is a pending event: request i's next move, or a step (i < 0).
type genItem struct {
	t     int64
	i     int
	stage int // 0 arrive, 1 scheduled, 2 chunk
}

// genQueue is a binary min-heap of pending events by time.
type genQueue []genItem

func (q *genQueue) push(it genItem) {
	*q = append(*q, it)
	h := *q
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if h[p].t <= h[i].t {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (q *genQueue) pop() genItem {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && h[l].t < h[m].t {
			m = l
		}
		if l+1 < n && h[l+1].t < h[m].t {
			m = l + 1
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}

// run hands the stream to o until span, calling tick after each event and
// count for each fact.
func (g *generator) run(o engine.Observer, tick func(n int, now int64), count func(sample)) {
	g.reqs = make([]genReq, g.clients)
	for i := range g.reqs {
		g.q.push(genItem{t: int64(g.rng.IntN(50_000)) * 1000, i: i})
	}
	g.q.push(genItem{t: g.stepDt, i: -1})
	abs := func(t int64) time.Time { return time.Unix(0, base+t) }
	for n := 0; ; n++ {
		it := g.q.pop()
		if it.t >= g.span {
			return
		}
		if it.i < 0 {
			total := int64(600+g.rng.IntN(400)) * 1000
			o.OnStep(&engine.StepEvent{Start: abs(it.t - total), Total: time.Duration(total), NumSeqs: g.clients, MaxNumSeqs: 8192})
			count(sample{kind: sampleStep, t: it.t, v: total})
			g.q.push(genItem{t: it.t + g.stepDt, i: -1})
			tick(n, it.t)
			continue
		}
		r := &g.reqs[it.i]
		switch it.stage {
		case 0:
			g.nextID++
			*r = genReq{id: "req-" + strconv.Itoa(g.nextID), arrival: it.t, maxOut: 40 + int64(g.rng.IntN(121)),
				prompt: 50 + int64(g.rng.IntN(100)), ttft: g.us(30_000, 0.6, 500, 2_000_000), chunkTokens: 1}
			if g.rng.IntN(4) == 0 {
				r.chunkTokens = 4
			}
			r.next = g.chunk(r)
			o.OnRequest(&engine.RequestEvent{Kind: engine.EvArrived, ID: r.id, Time: abs(it.t), PromptTokens: int(r.prompt), Arrival: abs(it.t)})
			g.q.push(genItem{t: it.t + r.ttft*3/10/1000*1000, i: it.i, stage: 1})
		case 1:
			o.OnRequest(&engine.RequestEvent{Kind: engine.EvScheduled, ID: r.id, Time: abs(it.t), PromptTokens: int(r.prompt), Arrival: abs(r.arrival)})
			count(sample{kind: sampleScheduled, t: it.t, k: r.prompt, v: it.t - r.arrival})
			g.q.push(genItem{t: r.arrival + r.ttft, i: it.i, stage: 2})
		case 2:
			k := r.next
			kind, gap := engine.EvToken, it.t-r.last
			if r.out == 0 {
				kind, gap, r.first = engine.EvFirstToken, 0, it.t
			}
			r.out += k
			r.last = it.t
			o.OnRequest(&engine.RequestEvent{Kind: kind, ID: r.id, Time: abs(it.t), PromptTokens: int(r.prompt), OutputTokens: int(r.out), Arrival: abs(r.arrival)})
			count(sample{kind: sampleChunk, t: it.t, k: k, v: it.t - r.arrival, gap: gap})
			if r.out < r.maxOut {
				// The next chunk: its tokens each take one per-token ITL.
				r.next = g.chunk(r)
				g.q.push(genItem{t: it.t + r.next*g.us(10_000, 0.35, 1000, 100_000), i: it.i, stage: 2})
			} else {
				o.OnRequest(&engine.RequestEvent{Kind: engine.EvFinished, ID: r.id, Time: abs(it.t), PromptTokens: int(r.prompt),
					OutputTokens: int(r.out), Finish: engine.FinishLength, Arrival: abs(r.arrival)})
				count(sample{kind: sampleFinished, t: it.t, k: r.out, v: it.t - r.arrival, gap: (r.last - r.first) / (r.out - 1)})
				g.q.push(genItem{t: it.t + 1000, i: it.i})
			}
		}
		tick(n, it.t)
	}
}
