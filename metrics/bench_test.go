package metrics

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"benchtop/engine"
)

// BenchmarkCollector measures the hand-off and the aggregation together:
// an engine-like producer (256 requests in flight, one token each per 4 ms
// step of fake time — 64k output tokens/s of fake time — plus the step
// event, arrivals, scheduling and finishes) hands events to a collector
// whose Run goroutine aggregates them and publishes every 100 ms of real
// time. The producer yields after each step, as the engine does while the
// device works; with -cpu 1 both share one core. ns/op is per event;
// events/s is the rate; dropped must stay 0.
//
//	go test -run - -bench Collector -cpu 1 ./metrics
func BenchmarkCollector(b *testing.B) {
	c, clk := newFake(b)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { c.Run(ctx); close(ran) }()
	const inflight, outLen = 256, 100
	ids := make([]string, 1<<14)
	for i := range ids {
		ids[i] = "bench-" + strconv.Itoa(i)
	}
	type slot struct {
		id           string
		arrival, out int
	}
	reqs := make([]slot, inflight)
	next := 0
	now := base
	stamp := func() time.Time { return time.Unix(0, now) }
	ev := engine.RequestEvent{PromptTokens: 128}
	st := engine.StepEvent{NumSeqs: inflight, MaxNumSeqs: 256, DecodeTokens: inflight, KVBlocksTotal: 10000,
		ScheduleTime: 50 * time.Microsecond, ExecuteTime: 3 * time.Millisecond, SampleTime: 100 * time.Microsecond}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	n := 0
	for n < b.N {
		now += int64(4 * time.Millisecond)
		clk.set(now)
		at := stamp()
		for i := range reqs {
			r := &reqs[i]
			if r.out == 0 {
				r.id, r.arrival = ids[next%len(ids)], int(now)
				next++
				ev = engine.RequestEvent{Kind: engine.EvArrived, ID: r.id, Time: at, PromptTokens: 128, Arrival: at}
				c.OnRequest(&ev)
				ev.Kind = engine.EvScheduled
				c.OnRequest(&ev)
				n += 2
			}
			r.out++
			ev = engine.RequestEvent{Kind: engine.EvToken, ID: r.id, Time: at, PromptTokens: 128, OutputTokens: r.out,
				Arrival: time.Unix(0, int64(r.arrival))}
			if r.out == 1 {
				ev.Kind = engine.EvFirstToken
			}
			c.OnRequest(&ev)
			n++
			if r.out == outLen {
				ev.Kind, ev.Finish = engine.EvFinished, engine.FinishLength
				c.OnRequest(&ev)
				n++
				r.out = 0
			}
		}
		st.Start, st.Total, st.Index = at.Add(-4*time.Millisecond), 4*time.Millisecond, st.Index+1
		st.KVBlocksUsed = next % 10000
		c.OnStep(&st)
		n++
		runtime.Gosched() // the device's turn
	}
	if err := c.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	<-ran
	s := c.Latest()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(s.DroppedEvents), "dropped")
	if s.DroppedEvents == 0 && s.OutputTokens == 0 {
		b.Fatal("nothing was aggregated")
	}
}

// BenchmarkHandOff is the engine side alone: what one token event costs the
// goroutine that hands it off (the queue is emptied without aggregating).
func BenchmarkHandOff(b *testing.B) {
	c, _ := newFake(b)
	ev := engine.RequestEvent{Kind: engine.EvToken, ID: "bench-1", Time: time.Unix(0, base), PromptTokens: 128,
		OutputTokens: 7, Arrival: time.Unix(0, base)}
	spare := batch{ev: make([]event, 0, c.opts.QueueSize)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%4096 == 0 {
			spare, _ = c.q.take(spare)
		}
		c.OnRequest(&ev)
	}
}
