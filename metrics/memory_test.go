package metrics

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// Memory stays flat over a long run: 30 minutes of fake clock of a closed
// loop, the live heap at the end within 10% of the heap at minute 5 (the
// series, four points a second, is the only thing that grows).
func TestFlatMemoryOverLongRun(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("30 minutes of fake clock; it measures allocation, not synchronization")
	}
	const longRun, longRunClients = 30 * time.Minute, 8
	g := newGenerator(longRunClients, longRun, 2)
	g.stepDt = int64(10 * time.Millisecond)
	c, clk := newFake(t, WithMaxRecords(200))
	heapAt := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var heap5, syncs int
	g.run(c, func(n int, now int64) {
		if n%4096 != 0 {
			return
		}
		clk.set(base + now)
		if err := c.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
		syncs++
		if heap5 == 0 && now >= int64(longRun/6) {
			heap5 = int(heapAt())
		}
	}, func(sample) {})
	s := syncAt(t, c, clk, int64(longRun/time.Millisecond))
	heap30 := int(heapAt())
	t.Logf("%d output tokens, %d requests in %v; live heap %.1f MB at %v, %.1f MB at the end; %d points",
		s.OutputTokens, s.Finished, longRun, float64(heap5)/1e6, longRun/6, float64(heap30)/1e6, len(s.Series))
	if heap5 == 0 || float64(heap30) > 1.1*float64(heap5) {
		t.Errorf("heap grew from %d to %d bytes", heap5, heap30)
	}
	c.mu.Lock()
	live, epochs, recs := len(c.agg.live), len(c.agg.epochs), len(c.agg.records.buf)
	c.mu.Unlock()
	if live > longRunClients || epochs > MaxEpochs || recs != 200 || s.DroppedEvents != 0 || len(s.Series) != int(longRun/(250*time.Millisecond)) {
		t.Errorf("%d live requests, %d epochs, %d records, %d dropped, %d points", live, epochs, recs, s.DroppedEvents, len(s.Series))
	}
	if sm := c.SummarySince(time.Time{}, longRun, SLO{}); sm.Requests != s.Finished {
		t.Errorf("whole-run summary counts %d requests of %d", sm.Requests, s.Finished)
	}
}
