package metrics

import (
	"strconv"
	"testing"
	"time"

	"benchtop/engine"
)

// engineStep is one engine step's hand-off as the engine makes it: the
// step's token events in one call (engine.BatchObserver), then the step.
func engineStep(c *Collector, evs []engine.RequestEvent, st *engine.StepEvent) {
	c.OnRequests(evs)
	c.OnStep(st)
}

func stepEvents(n int) ([]engine.RequestEvent, *engine.StepEvent) {
	evs := make([]engine.RequestEvent, n)
	for i := range evs {
		evs[i] = engine.RequestEvent{Kind: engine.EvToken, ID: "r-" + strconv.Itoa(i), Time: at(1), PromptTokens: 9,
			OutputTokens: 3, Arrival: at(0)}
	}
	return evs, &engine.StepEvent{Start: at(0), Total: time.Millisecond, NumSeqs: n, DecodeTokens: n, MaxNumSeqs: 256}
}

// woken says whether the aggregator has a wake-up pending, taking it.
func woken(q *queue) bool {
	select {
	case <-q.wake:
		return true
	default:
		return false
	}
}

// A step's hand-off wakes nobody (no system call on the engine goroutine):
// the aggregator drains on its own clock. Only the push that fills the
// queue to a quarter wakes it, once, so a burst is drained before it is
// dropped.
func TestHandOffWakesOnlyAQuarterFullQueue(t *testing.T) {
	c, _ := newFake(t, WithQueueSize(1000))
	evs, st := stepEvents(100)
	for i := 0; i < 2; i++ { // 202 events pending
		engineStep(c, evs, st)
		if woken(c.q) {
			t.Fatalf("step %d woke the aggregator with %d events pending", i, len(c.q.cur.ev))
		}
	}
	engineStep(c, evs, st) // 303: crosses 250 in the middle of the step's tokens
	if !woken(c.q) {
		t.Fatalf("a quarter-full queue (%d of 1000 events) did not wake the aggregator", len(c.q.cur.ev))
	}
	engineStep(c, evs, st)
	if woken(c.q) {
		t.Fatal("a second wake-up past the mark")
	}
	c.q.take(batch{})
	for i := 0; i < 249; i++ { // one event at a time, up to the mark
		c.OnRequest(&evs[0])
	}
	if woken(c.q) {
		t.Fatal("woken below the mark")
	}
	c.OnStep(st)
	if !woken(c.q) {
		t.Fatal("the push that reached the mark did not wake the aggregator")
	}
}

// A step's hand-off allocates nothing once the queue's buffers have grown.
func TestHandOffAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's bookkeeping allocates")
	}
	c, _ := newFake(t)
	evs, st := stepEvents(100)
	spare := batch{ev: make([]event, 0, c.opts.QueueSize)}
	round := func() {
		engineStep(c, evs, st)
		spare, _ = c.q.take(spare)
	}
	for range 4 { // both buffers' step slices grown
		round()
	}
	if n := testing.AllocsPerRun(100, round); n != 0 {
		t.Fatalf("a step's hand-off allocates %.1f times", n)
	}
}

// BenchmarkStepHandOff is what one engine step of 100 sequences costs the
// engine goroutine with the collector attached: its token events in one
// call and the step (the queue is emptied every 14 steps, as a 10 ms drain
// does at 1,400 steps/s, without aggregating). ns/op is per step.
//
//	go test -run - -bench StepHandOff ./metrics
func BenchmarkStepHandOff(b *testing.B) {
	c, _ := newFake(b)
	evs, st := stepEvents(100)
	spare := batch{ev: make([]event, 0, c.opts.QueueSize)}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%14 == 0 {
			spare, _ = c.q.take(spare)
		}
		engineStep(c, evs, st)
	}
}
