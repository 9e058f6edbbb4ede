package metrics

import (
	"testing"
	"time"

	"benchtop/engine"
)

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

func TestCollectorDefinitions(t *testing.T) {
	c := NewCollector()
	t0 := time.Unix(1000, 0)
	c.now = func() time.Time { return t0 }
	c.Reset()
	c.now = func() time.Time { return t0.Add(2 * time.Second) }
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ev := func(k engine.RequestEventKind, ms, out int) {
		c.OnRequest(&engine.RequestEvent{Kind: k, ID: "a", Time: at(ms), PromptTokens: 5, OutputTokens: out, Arrival: at(0)})
	}
	ev(engine.EvArrived, 0, 0)
	ev(engine.EvScheduled, 10, 0)
	ev(engine.EvFirstToken, 40, 1) // TTFT 40 ms, queueing included
	ev(engine.EvToken, 50, 2)
	ev(engine.EvToken, 70, 3)
	ev(engine.EvToken, 100, 4)
	c.OnRequest(&engine.RequestEvent{Kind: engine.EvFinished, ID: "a", Time: at(100), PromptTokens: 5, OutputTokens: 4, Finish: engine.FinishLength})
	r := c.Records()[0]
	if r.TTFT != 40*time.Millisecond || r.E2E != 100*time.Millisecond || r.TPOT != 20*time.Millisecond || r.Queue != 10*time.Millisecond {
		t.Fatalf("record %+v", r)
	}
	itl := Summarize(c.ITLSince(t0))
	if itl.Count != 3 || itl.Max != 30*time.Millisecond || itl.P50 != 20*time.Millisecond {
		t.Fatalf("ITL %+v", itl)
	}
	c.OnStep(&engine.StepEvent{Start: at(100), NumSeqs: 3, MaxNumSeqs: 4, KVBlocksUsed: 5, KVBlocksTotal: 10})
	c.Flush()
	s := c.Latest()
	if s.Finished != 1 || s.OutputTokens != 4 || s.Occupancy != 0.75 || s.KVUsed != 5 || s.TTFT.P50 != 40*time.Millisecond {
		t.Fatalf("snapshot %+v", s)
	}
	// 4 tokens in a 2 s window (the session is 2 s old).
	if s.Window != 2*time.Second || s.OutputTPS != 2 {
		t.Fatalf("window %v, %g tok/s", s.Window, s.OutputTPS)
	}
	sm := Summarise(c.Records(), time.Second, c.ITLSince(t0), SLO{})
	if sm.RPS != 1 || sm.OutputTPS != 4 || sm.TotalTPS != 9 {
		t.Fatalf("summary %+v", sm)
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
