package metrics

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"benchtop/engine"
)

// fakeClock is a settable clock in Unix nanoseconds.
type fakeClock struct{ ns atomic.Int64 }

func (f *fakeClock) now() time.Time { return time.Unix(0, f.ns.Load()) }
func (f *fakeClock) set(ns int64)   { f.ns.Store(ns) }

// base is the fake clock's origin: every test collector starts here.
var base = time.Unix(1_000_000, 0).UnixNano()

const ms = int64(time.Millisecond)

func newFake(t testing.TB, opts ...Option) (*Collector, *fakeClock) {
	t.Helper()
	clk := &fakeClock{}
	clk.set(base)
	c := NewCollector(append([]Option{WithClock(clk.now)}, opts...)...)
	return c, clk
}

// at is base plus ms milliseconds, as a time.
func at(msec int64) time.Time { return time.Unix(0, base+msec*ms) }

// rq hands off a request event at base+msec.
func rq(o engine.Observer, kind engine.RequestEventKind, id string, msec int64, prompt, out int) {
	o.OnRequest(&engine.RequestEvent{Kind: kind, ID: id, Time: at(msec), PromptTokens: prompt, OutputTokens: out})
}

// rqa is rq with an arrival time.
func rqa(o engine.Observer, kind engine.RequestEventKind, id string, msec, arrival int64, prompt, out int) {
	o.OnRequest(&engine.RequestEvent{Kind: kind, ID: id, Time: at(msec), PromptTokens: prompt, OutputTokens: out, Arrival: at(arrival)})
}

// lifecycle hands off a whole request: arrival, scheduling, one token every
// itl from first, and its finish.
func lifecycle(o engine.Observer, id string, arrival, sched, first, itl int64, tokens int) {
	rqa(o, engine.EvArrived, id, arrival, arrival, 10, 0)
	rqa(o, engine.EvScheduled, id, sched, arrival, 10, 0)
	for i := 1; i <= tokens; i++ {
		k := engine.EvToken
		if i == 1 {
			k = engine.EvFirstToken
		}
		rqa(o, k, id, first+int64(i-1)*itl, arrival, 10, i)
	}
	o.OnRequest(&engine.RequestEvent{Kind: engine.EvFinished, ID: id, Time: at(first + int64(tokens-1)*itl),
		PromptTokens: 10, OutputTokens: tokens, Finish: engine.FinishLength, Arrival: at(arrival)})
}

// syncAt sets the clock and syncs.
func syncAt(t testing.TB, c *Collector, clk *fakeClock, msec int64) *Snapshot {
	t.Helper()
	clk.set(base + msec*ms)
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c.Latest()
}

func step(o engine.Observer, msec int64, total time.Duration, seqs, running, waiting, kvUsed int) {
	o.OnStep(&engine.StepEvent{Start: at(msec).Add(-total), Total: total, NumSeqs: seqs, MaxNumSeqs: 256,
		NumRunning: running, NumWaiting: waiting, KVBlocksUsed: kvUsed, KVBlocksTotal: 1000, DecodeTokens: seqs,
		ScheduleTime: total / 10, ExecuteTime: total * 8 / 10, SampleTime: total / 10})
}

// tape records request events to hand them off in time order (a request's
// own events keep their order at equal times).
type tape struct{ evs []engine.RequestEvent }

func (tp *tape) OnStep(*engine.StepEvent)          {}
func (tp *tape) OnRequest(ev *engine.RequestEvent) { tp.evs = append(tp.evs, *ev) }

func (tp *tape) play(o engine.Observer) {
	slices.SortStableFunc(tp.evs, func(a, b engine.RequestEvent) int { return a.Time.Compare(b.Time) })
	for i := range tp.evs {
		o.OnRequest(&tp.evs[i])
	}
	tp.evs = nil
}
