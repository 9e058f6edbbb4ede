package metrics

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"benchtop/engine"
)

// near says whether got is want read back from a histogram: at or above
// it by at most Precision.
func near(got, want time.Duration) bool {
	return got >= want && float64(got-want) <= Precision*float64(want)
}

func TestCollectorDefinitions(t *testing.T) {
	c, clk := newFake(t)
	ev := func(k engine.RequestEventKind, msec int64, out int) { rqa(c, k, "a", msec, 0, 5, out) }
	ev(engine.EvArrived, 0, 0)
	ev(engine.EvScheduled, 10, 0)
	ev(engine.EvFirstToken, 40, 1) // TTFT 40 ms, queueing included
	ev(engine.EvToken, 50, 2)
	ev(engine.EvToken, 70, 3)
	ev(engine.EvToken, 100, 4)
	c.OnRequest(&engine.RequestEvent{Kind: engine.EvFinished, ID: "a", Time: at(100), PromptTokens: 5, OutputTokens: 4,
		Finish: engine.FinishLength, Arrival: at(0)})
	c.OnStep(&engine.StepEvent{Start: at(100), NumSeqs: 3, MaxNumSeqs: 4, KVBlocksUsed: 5, KVBlocksTotal: 10})
	s := syncAt(t, c, clk, 2000)
	r := c.Records()[0]
	if r.TTFT != 40*time.Millisecond || r.E2E != 100*time.Millisecond || r.TPOT != 20*time.Millisecond ||
		r.Queue != 10*time.Millisecond || r.Finish != "length" || r.Failed() {
		t.Fatalf("record %+v", r)
	}
	if s.Finished != 1 || s.OutputTokens != 4 || s.PromptTokens != 5 || s.Occupancy != 0.75 || s.KVUsed != 5 ||
		s.TTFT.P50 != 40*time.Millisecond || s.Finishes["length"] != 1 {
		t.Fatalf("snapshot %+v", s)
	}
	if s.ITL.Count != 3 || s.ITL.Max != 30*time.Millisecond || !near(s.ITL.P50, 20*time.Millisecond) || s.ITL.Mean != 20*time.Millisecond {
		t.Fatalf("ITL %+v", s.ITL)
	}
	// 4 tokens in a 2 s window (the session is 2 s old), which ends now.
	if s.Window != 2*time.Second || !s.WindowEnd.Equal(at(2000)) || s.OutputTPS != 2 || s.TotalTPS != 4.5 || s.RPS != 0.5 {
		t.Fatalf("window %v to %v, %g tok/s, %g total tok/s, %g req/s", s.Window, s.WindowEnd, s.OutputTPS, s.TotalTPS, s.RPS)
	}
	sm := c.SummarySince(time.Time{}, time.Second, SLO{})
	if sm.Requests != 1 || sm.RPS != 1 || sm.OutputTPS != 4 || sm.TotalTPS != 9 || sm.ITL.Count != 3 ||
		sm.TTFT.P50 != 40*time.Millisecond || sm.Queue.Max != 10*time.Millisecond || !sm.Since.Equal(at(0)) {
		t.Fatalf("summary %+v", sm)
	}
}

// Missing statistics stay distinguishable from zero: a Dist with Count 0.
func TestMissingIsNotZero(t *testing.T) {
	c, clk := newFake(t)
	s := c.Latest()
	if s == nil || s.TTFT.Valid() || s.StepTime.Valid() || s.TokensPerChunk.Valid() || s.Window != 0 {
		t.Fatalf("fresh snapshot %+v", s)
	}
	rqa(c, engine.EvArrived, "a", 0, 0, 5, 0) // never gets a token
	s = syncAt(t, c, clk, 5000)
	if s.Arrived != 1 || s.TTFT.Count != 0 || s.ITL.Count != 0 || s.E2E.Count != 0 || s.Window != 5*time.Second {
		t.Fatalf("snapshot %+v", s)
	}
	if sm := c.SummarySince(time.Time{}, time.Second, SLO{}); sm.TTFT.Valid() || sm.Requests != 0 {
		t.Fatalf("summary %+v", sm)
	}
}

// A full queue drops data events and counts them; the observer methods
// return at once even while the aggregator holds its lock; controls are
// never dropped.
func TestDropsCountedAndHandOffNeverBlocks(t *testing.T) {
	c, clk := newFake(t, WithQueueSize(64))
	c.mu.Lock() // the aggregator, stuck
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 10_000 {
			rq(c, engine.EvToken, "x", int64(i%1000), 1, 0)
		}
		c.Mark(at(999), "max_num_seqs=5")
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the hand-off blocked on the aggregator")
	}
	c.mu.Unlock()
	s := syncAt(t, c, clk, 1000)
	if s.DroppedEvents != 10_000-64 || s.OutputTokens != 64 || len(s.Markers) != 1 || s.Segment != 1 {
		t.Fatalf("dropped %d, tokens %d, markers %v, segment %d", s.DroppedEvents, s.OutputTokens, s.Markers, s.Segment)
	}
	// Room again once taken.
	rq(c, engine.EvToken, "x", 1000, 1, 0)
	if s := syncAt(t, c, clk, 1001); s.OutputTokens != 65 || s.DroppedEvents != 10_000-64 {
		t.Fatalf("after draining: tokens %d, dropped %d", s.OutputTokens, s.DroppedEvents)
	}
}

// Sync returns after everything handed off before it is aggregated and
// published, with Run aggregating at the same time; Run aggregates what was
// handed off before it returns.
func TestSyncAndRun(t *testing.T) {
	c, clk := newFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { c.Run(ctx); close(ran) }()
	const clients, each = 4, 200
	var wg sync.WaitGroup
	for g := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := c.Source(g)
			for i := range each {
				id := fmt.Sprintf("g%d-%d", g, i)
				lifecycle(o, id, int64(i*10), int64(i*10+1), int64(i*10+2), 1, 3)
				if i%50 == 0 {
					if err := c.Sync(context.Background()); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	readers := make(chan struct{})
	go func() { // readers from another goroutine, for the race detector
		defer close(readers)
		for i := 0; i < 100; i++ {
			_ = c.Latest().OutputTPS
			_ = c.Records()
			_ = c.Segments()
			_ = c.SummarySince(time.Time{}, time.Second, SLO{})
		}
	}()
	wg.Wait()
	<-readers
	s := syncAt(t, c, clk, 10_000)
	if s.Finished != clients*each || s.OutputTokens != 3*clients*each || len(s.Sources) != clients {
		t.Fatalf("after Sync: %d finished, %d tokens, %d sources", s.Finished, s.OutputTokens, len(s.Sources))
	}
	lifecycle(c, "last", 9000, 9001, 9002, 1, 3)
	cancel()
	<-ran
	if s := c.Latest(); s.Finished != clients*each+1 {
		t.Fatalf("Run returned without aggregating the last request: %d finished", s.Finished)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if err := c.Sync(ctx); err == nil {
		t.Fatal("Sync with an ended context succeeded")
	}
}

// Mark and Reset take effect between the events handed off before and
// after them, whenever they are aggregated.
func TestMarkResetOrdering(t *testing.T) {
	c, clk := newFake(t)
	rqa(c, engine.EvArrived, "a", 0, 0, 10, 0)
	rqa(c, engine.EvFirstToken, "a", 100, 0, 10, 1)
	rqa(c, engine.EvToken, "a", 200, 0, 10, 2)
	c.Mark(at(300), "max_num_seqs=5")
	rqa(c, engine.EvToken, "a", 400, 0, 10, 3)
	rqa(c, engine.EvArrived, "b", 450, 450, 10, 0)
	rqa(c, engine.EvFirstToken, "b", 500, 450, 10, 1)
	c.OnRequest(&engine.RequestEvent{Kind: engine.EvFinished, ID: "a", Time: at(500), OutputTokens: 3, Finish: engine.FinishEOS, Arrival: at(0)})
	clk.set(base + 1300*ms)
	segs := c.Segments() // before any aggregation: one segment
	if len(segs) != 1 {
		t.Fatalf("segments before aggregation: %d", len(segs))
	}
	s := syncAt(t, c, clk, 1300)
	segs = c.Segments()
	if len(segs) != 2 || segs[0].OutputTokens != 2 || segs[1].OutputTokens != 2 || segs[0].Requests != 1 ||
		segs[1].Requests != 0 || segs[1].What != "max_num_seqs=5" || !segs[1].Start.Equal(at(300)) ||
		segs[1].Span != time.Second || segs[1].OutputTPS != 2 || s.Segment != 1 || c.Records()[0].Segment != 0 {
		t.Fatalf("segments %+v", segs)
	}
	c.Reset() // b is in flight
	rqa(c, engine.EvToken, "b", 1400, 450, 10, 2)
	c.OnRequest(&engine.RequestEvent{Kind: engine.EvFinished, ID: "b", Time: at(1400), OutputTokens: 2, Finish: engine.FinishEOS, Arrival: at(450)})
	lifecycle(c, "c", 1500, 1500, 1600, 10, 4)
	s = syncAt(t, c, clk, 2000)
	if s.Finished != 1 || s.OutputTokens != 5 || len(s.Markers) != 0 || s.Segment != 0 || len(c.Records()) != 1 ||
		c.Records()[0].ID != "c" || !s.Start.Equal(at(1300)) {
		t.Fatalf("after reset: %d finished, %d tokens, markers %v, records %v, start %v", s.Finished, s.OutputTokens, s.Markers, c.Records(), s.Start)
	}
	if sm := c.SummarySince(time.Time{}, time.Second, SLO{}); sm.Requests != 1 || sm.TTFT.Count != 1 {
		t.Fatalf("summary after reset %+v", sm)
	}
}

// A chunk of k tokens counts k tokens and k ITL samples of gap/k; its gap
// and size go to ChunkGap and TokensPerChunk.
func TestMultiTokenChunks(t *testing.T) {
	c, clk := newFake(t)
	rqa(c, engine.EvArrived, "a", 0, 0, 7, 0)
	rqa(c, engine.EvFirstToken, "a", 50, 0, 7, 2) // two tokens in the first chunk: no ITL
	rqa(c, engine.EvToken, "a", 80, 0, 7, 5)      // three after 30 ms: 3 × 10 ms
	rqa(c, engine.EvToken, "a", 90, 0, 7, 6)      // one after 10 ms
	c.OnRequest(&engine.RequestEvent{Kind: engine.EvFinished, ID: "a", Time: at(90), PromptTokens: 7, OutputTokens: 6,
		Finish: engine.FinishStop, Arrival: at(0)})
	s := syncAt(t, c, clk, 1000)
	ten := 10 * time.Millisecond
	if s.OutputTokens != 6 || s.ITL.Count != 4 || s.ITL.Max != ten || s.ITL.Mean != ten || s.ITL.P50 != ten {
		t.Fatalf("tokens %d, ITL %+v", s.OutputTokens, s.ITL)
	}
	if s.ChunkGap.Count != 2 || s.ChunkGap.Max != 30*time.Millisecond || s.ChunkGap.Mean != 20*time.Millisecond {
		t.Fatalf("chunk gap %+v", s.ChunkGap)
	}
	if tc := s.TokensPerChunk; tc.Count != 3 || tc.Max != 3 || tc.Mean != 2 || tc.P50 != 2 {
		t.Fatalf("tokens per chunk %+v", tc)
	}
	r := c.Records()[0]
	if r.OutputTokens != 6 || r.TTFT != 50*time.Millisecond || r.TPOT != 8*time.Millisecond {
		t.Fatalf("record %+v", r)
	}
	if sm := c.SummarySince(time.Time{}, time.Second, SLO{}); sm.ITL.Count != 4 || sm.OutputTokens != 6 {
		t.Fatalf("summary %+v", sm)
	}
}

// Each source gets its row; the aggregate sums them.
func TestSources(t *testing.T) {
	c, clk := newFake(t)
	s0, s1 := c.Source(0), c.Source(1)
	if c.Source(0) != s0 || c.Source(-3) != s0 {
		t.Fatal("Source is not stable")
	}
	for i := int64(0); i < 100; i++ { // 10 s: source 0 at 100 tok/s, source 1 at 300
		lifecycle(s0, fmt.Sprint("a", i), i*100, i*100, i*100+1, 1, 10)
		lifecycle(s1, fmt.Sprint("b", i), i*100, i*100, i*100+1, 1, 30)
		step(s0, i*100+50, 10*time.Millisecond, 4, 5, 1, 100)
		step(s1, i*100+50, 20*time.Millisecond, 8, 7, 2, 300)
	}
	s1.OnRequest(&engine.RequestEvent{Kind: engine.EvArrived, ID: "big", Time: at(9990), PromptTokens: 1 << 20})
	s1.OnRequest(&engine.RequestEvent{Kind: engine.EvFinished, ID: "big", Time: at(9990), PromptTokens: 1 << 20,
		Finish: engine.FinishRejected, Err: "too long"})
	s := syncAt(t, c, clk, 10_000)
	if len(s.Sources) != 2 || s.OutputTPS != 400 || s.Sources[0].OutputTPS != 100 || s.Sources[1].OutputTPS != 300 {
		t.Fatalf("rates %g: %+v", s.OutputTPS, s.Sources)
	}
	r0, r1 := s.Sources[0], s.Sources[1]
	if r0.StepTime.P50 != 10*time.Millisecond || r1.StepTime.P50 != 20*time.Millisecond || r0.Running != 5 || r1.Running != 7 ||
		r1.Waiting != 2 || r1.KVUsage != 0.3 || r0.Finished != 100 || r1.Finished != 101 || r1.Failed != 1 || r0.Failed != 0 || r1.Steps != 100 {
		t.Fatalf("rows %+v", s.Sources)
	}
	if s.Running != 12 || s.Waiting != 3 || s.KVUsed != 400 || s.KVTotal != 2000 || s.Occupancy != 12.0/512 ||
		s.Failed != 1 || s.Finishes["rejected"] != 1 || s.Finishes["length"] != 200 || s.StepTime.Count != 200 ||
		s.StepPhases.Forward.Count != 200 || s.StepPhases.Device.Valid() {
		t.Fatalf("aggregate %+v", s)
	}
	var rejected RequestRecord
	for _, r := range c.Records() {
		if r.ID == "big" {
			rejected = r
		}
	}
	if rejected.Error != "too long" || !rejected.Failed() || rejected.Source != 1 || rejected.TTFT != 0 {
		t.Fatalf("rejected record %+v", rejected)
	}
}

// A segment counts the tokens produced inside it, whoever produced them:
// one where requests only ran reads their rate, not 0.
func TestSegmentTokens(t *testing.T) {
	c, clk := newFake(t)
	rqa(c, engine.EvArrived, "a", 0, 0, 10, 0)
	rqa(c, engine.EvFirstToken, "a", 500, 0, 10, 1)
	c.Mark(at(1000), "workload=latency")
	for i := 1; i <= 100; i++ { // 100 tokens in (1 s, 2 s]
		rqa(c, engine.EvToken, "a", 1000+int64(i)*10, 0, 10, 1+i)
	}
	clk.set(base + 2000*ms)
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	segs := c.Segments()
	if len(segs) != 2 || segs[0].OutputTokens != 1 || segs[0].OutputTPS != 1 || segs[1].OutputTokens != 100 ||
		segs[1].OutputTPS != 100 || segs[1].Requests != 0 || segs[1].TTFT.Valid() || segs[0].TTFT.P50 != 500*time.Millisecond {
		t.Fatalf("segments %+v", segs)
	}
}

// Records are bounded (the newest kept); whole-run statistics are not cut.
func TestRecordsBounded(t *testing.T) {
	c, clk := newFake(t, WithMaxRecords(100))
	for i := int64(0); i < 1000; i++ {
		lifecycle(c, fmt.Sprint(i), i*10, i*10, i*10+5, 1, 2)
	}
	s := syncAt(t, c, clk, 20_000)
	recs := c.Records()
	if len(recs) != 100 || recs[0].ID != "900" || recs[99].ID != "999" || s.RecordsDropped != 900 || s.Finished != 1000 {
		t.Fatalf("%d records from %s, %d dropped", len(recs), recs[0].ID, s.RecordsDropped)
	}
	if got := c.RecordsSince(at(9950)); len(got) != 5 || got[0].ID != "995" {
		t.Fatalf("RecordsSince: %d", len(got))
	}
	sm := c.SummarySince(time.Time{}, 10*time.Second, SLO{})
	if sm.Requests != 1000 || sm.TTFT.Count != 1000 || sm.ITL.Count != 1000 || sm.TTFT.Max != 5*time.Millisecond {
		t.Fatalf("summary %+v", sm)
	}
	c.mu.Lock()
	live, epochs := len(c.agg.live), len(c.agg.epochs)
	c.mu.Unlock()
	if live != 0 || epochs > MaxEpochs {
		t.Fatalf("%d requests still live, %d epochs", live, epochs)
	}
}

// SummarySince at a run's start counts exactly that run's requests when
// the previous run's had all finished, even within one epoch's span.
func TestSummaryRunBoundary(t *testing.T) {
	c, clk := newFake(t)
	var tp tape
	for i := int64(0); i < 20; i++ { // run 1: arrivals 0–95 ms, all in flight together, finished by 385 ms
		lifecycle(&tp, fmt.Sprint("r1-", i), i*5, i*5+1, i*5+100, 10, 20)
	}
	tp.play(c)
	start2 := at(420)
	for i := int64(0); i < 10; i++ {
		lifecycle(&tp, fmt.Sprint("r2-", i), 421+i*5, 421+i*5, 421+i*5+50, 5, 10)
	}
	tp.play(c)
	syncAt(t, c, clk, 1000)
	sm := c.SummarySince(start2, time.Second, SLO{})
	if sm.Requests != 10 || sm.OutputTokens != 100 || sm.TTFT.Max != 50*time.Millisecond || !sm.Since.Equal(at(421)) {
		t.Fatalf("run 2: %+v", sm)
	}
	if all := c.SummarySince(time.Time{}, time.Second, SLO{}); all.Requests != 30 {
		t.Fatalf("both runs: %d requests", all.Requests)
	}
	if got := c.RecordsSince(start2); len(got) != 10 {
		t.Fatalf("RecordsSince: %d", len(got))
	}
}

// Events of several sources arrive slightly out of order across a bucket
// boundary; the window still counts each in its bucket.
func TestLateEventsAcrossSources(t *testing.T) {
	c, clk := newFake(t)
	s0, s1 := c.Source(0), c.Source(1)
	for i := int64(0); i < 20; i++ { // 240–259 ms
		rq(s0, engine.EvToken, "x", 240+i, 1, 0)
	}
	syncAt(t, c, clk, 255) // bucket 0 is closed now
	for i := int64(0); i < 10; i++ {
		rq(s1, engine.EvToken, "y", 245+i/2, 1, 0) // late, into bucket 0
	}
	s := syncAt(t, c, clk, 500)
	if s.Window != 500*time.Millisecond || s.OutputTPS != 60 || s.Sources[1].OutputTPS != 20 {
		t.Fatalf("window %v: %g tok/s, rows %+v", s.Window, s.OutputTPS, s.Sources)
	}
}

func TestSLOAndGoodput(t *testing.T) {
	slo, err := ParseSLO("ttft=100ms, tpot=20ms,e2e=1s")
	if err != nil || slo.TTFT != 100*time.Millisecond || slo.TPOT != 20*time.Millisecond || slo.E2E != time.Second {
		t.Fatalf("%+v %v", slo, err)
	}
	for _, bad := range []string{"ttft", "ttft=fast", "ttft=-1s", "latency=1s"} {
		if _, err := ParseSLO(bad); err == nil {
			t.Errorf("ParseSLO(%q) accepted", bad)
		}
	}
	c, clk := newFake(t, WithSLO(slo))
	lifecycle(c, "meets", 0, 0, 50, 10, 10)      // TTFT 50, TPOT 10, E2E 140
	lifecycle(c, "ttft", 0, 0, 150, 10, 10)      // TTFT missed
	lifecycle(c, "tpot", 0, 0, 50, 30, 10)       // TPOT missed
	lifecycle(c, "one", 0, 0, 90, 10, 1)         // one token: TPOT does not apply
	rqa(c, engine.EvArrived, "none", 0, 0, 5, 0) // nothing produced: never meets
	c.OnRequest(&engine.RequestEvent{Kind: engine.EvFinished, ID: "none", Time: at(10), Finish: engine.FinishAborted, Arrival: at(0)})
	s := syncAt(t, c, clk, 2000)
	if s.Attainment != 0.4 || s.Goodput != 1 || s.SLO != slo {
		t.Fatalf("window: attainment %g (want 0.4), goodput %g (want 1)", s.Attainment, s.Goodput)
	}
	sm := c.SummarySince(time.Time{}, 2*time.Second, slo)
	if sm.Attainment != 0.4 || sm.Goodput != 1 || sm.Failed != 1 {
		t.Fatalf("summary: attainment %g (want 0.4), goodput %g (want 1), failed %d", sm.Attainment, sm.Goodput, sm.Failed)
	}
	// Another objective is judged on the records kept.
	if other := c.SummarySince(time.Time{}, 2*time.Second, SLO{TTFT: 200 * time.Millisecond}); other.Attainment != 0.8 {
		t.Fatalf("other SLO: attainment %g (want 0.8)", other.Attainment)
	}
	if none := c.SummarySince(time.Time{}, time.Second, SLO{}); none.Goodput != 0 || none.Attainment != 0 {
		t.Fatal("goodput without an SLO")
	}
}

func TestSummarize(t *testing.T) {
	var xs []time.Duration
	for i := 100; i >= 1; i-- {
		xs = append(xs, time.Duration(i)*time.Millisecond)
	}
	d := Summarize(xs)
	if d.Count != 100 || d.P50 != 50*time.Millisecond || d.P90 != 90*time.Millisecond || d.P99 != 99*time.Millisecond ||
		d.Max != 100*time.Millisecond || d.Mean != 50500*time.Microsecond {
		t.Fatalf("%+v", d)
	}
	if (Summarize(nil) != Dist{}) {
		t.Fatal("empty sample")
	}
}

func TestKeepLast(t *testing.T) {
	s := []int{1, 2, 3, 4}
	if got := keepLast(s, 2); &got[0] != &s[0] || len(got) != 4 {
		t.Fatal("a list within twice the bound was changed")
	}
	s = append(s, 5)
	got := keepLast(s, 2)
	if len(got) != 2 || got[0] != 4 || got[1] != 5 || &got[0] == &s[3] {
		t.Fatalf("got %v: want a fresh [4 5]", got)
	}
}

// An event stamped far in the future counts, but stays out of the window:
// it must not push the window ahead of the clock for good.
func TestFutureTimestamp(t *testing.T) {
	c, clk := newFake(t)
	rq(c, engine.EvToken, "x", 3_600_000, 1, 0) // an hour ahead
	for i := int64(0); i < 100; i++ {
		rq(c, engine.EvToken, "x", 1000+i, 1, 0)
	}
	s := syncAt(t, c, clk, 2000)
	if s.OutputTokens != 101 || s.OutputTPS != 50 || s.Window != 2*time.Second {
		t.Fatalf("%d tokens, %g tok/s over %v", s.OutputTokens, s.OutputTPS, s.Window)
	}
}
