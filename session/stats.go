package session

// This file is the one place the session meets the metrics collector. The
// methods below are the collector contract of issue 8 (Latest, Sync, Mark,
// Reset, RecordsSince, SummarySince, DecodeStepsSince, Segments; an
// observer per source). The current collector is not safe off the engine
// goroutine, so until the lock-free one lands each call but Latest runs
// there through Engine.Exec; swapping in the new collector changes only
// this file.

import (
	"context"
	"time"

	"benchtop/engine"
	"benchtop/metrics"
	"benchtop/snapshot"
)

// stats is the session's collector.
type stats struct {
	c    *metrics.Collector
	exec func(ctx context.Context, f func()) error // runs f where c may be read
}

func newStats(slo metrics.SLO) *stats {
	c := metrics.NewCollector()
	c.SLO = slo
	return &stats{c: c, exec: func(_ context.Context, f func()) error { f(); return nil }}
}

// observer is what a target's events go to, tagged with their source.
func (s *stats) observer(source int) engine.Observer { return s.c }

// run is the collector's own goroutine (none yet: the current collector
// aggregates on the engine goroutine).
func (s *stats) run(ctx context.Context) {}

// Latest is the newest snapshot; any goroutine.
func (s *stats) Latest() *metrics.Snapshot { return s.c.Latest() }

// call runs f where the collector may be read and returns its result.
// The result travels on a channel, not a captured variable: when ctx ends
// first, f may still run later, and must then write nothing the caller
// reads.
func call[T any](ctx context.Context, s *stats, f func() T) (T, error) {
	ch := make(chan T, 1)
	if err := s.exec(ctx, func() { ch <- f() }); err != nil {
		var zero T
		return zero, err
	}
	return <-ch, nil
}

// Sync returns once every event handed off before it is in a published
// snapshot.
func (s *stats) Sync(ctx context.Context) error {
	_, err := call(ctx, s, func() bool { s.c.Flush(); return true })
	return err
}

// Mark starts a new segment named what.
func (s *stats) Mark(ctx context.Context, at time.Time, what string) error {
	_, err := call(ctx, s, func() bool { s.c.Mark(at, what); return true })
	return err
}

// Reset clears every statistic and starts a new clock.
func (s *stats) Reset(ctx context.Context) error {
	_, err := call(ctx, s, func() bool { s.c.Reset(); return true })
	return err
}

// RecordsSince copies the requests that finished at or after t.
func (s *stats) RecordsSince(ctx context.Context, t time.Time) ([]metrics.RequestRecord, error) {
	return call(ctx, s, func() []metrics.RequestRecord { return append([]metrics.RequestRecord{}, s.c.RecordsSince(t)...) })
}

// SummarySince summarises the requests since t over a wall time.
func (s *stats) SummarySince(ctx context.Context, t time.Time, wall time.Duration, slo metrics.SLO) (metrics.Summary, error) {
	return call(ctx, s, func() metrics.Summary {
		s.c.Flush()
		return metrics.Summarise(s.c.RecordsSince(t), wall, s.c.ITLSince(t), slo)
	})
}

// DecodeStepsSince copies the pure-decode steps that started at or after t.
func (s *stats) DecodeStepsSince(ctx context.Context, t time.Time) ([]engine.StepEvent, error) {
	return call(ctx, s, func() []engine.StepEvent { return append([]engine.StepEvent{}, s.c.DecodeStepsSince(t)...) })
}

// Segments summarises each segment (the span between two changes).
func (s *stats) Segments(ctx context.Context) ([]snapshot.Segment, error) {
	return call(ctx, s, func() []snapshot.Segment {
		s.c.Flush()
		snap := s.c.Latest()
		return segments(s.c.Records(), snap.Markers, snap.Start, snap.Time)
	})
}

// segments splits finished requests by the segment they arrived in and
// summarises each; markers name the changes that started segments 1, 2, …
func segments(recs []metrics.RequestRecord, markers []metrics.Marker, start, now time.Time) []snapshot.Segment {
	n := len(markers) + 1
	segs := make([]snapshot.Segment, n)
	for i := range segs {
		segs[i].Index, segs[i].What, segs[i].Start = i, "start", start
		if i > 0 {
			segs[i].What, segs[i].Start = markers[i-1].What, markers[i-1].Time
		}
	}
	ttft, tpot, e2e := make([][]time.Duration, n), make([][]time.Duration, n), make([][]time.Duration, n)
	tokens := make([]int, n)
	for _, r := range recs {
		i := min(max(r.Segment, 0), n-1)
		segs[i].Requests++
		tokens[i] += r.OutputTokens
		if r.OutputTokens > 0 {
			ttft[i] = append(ttft[i], r.TTFT)
			e2e[i] = append(e2e[i], r.E2E)
		}
		if r.OutputTokens > 1 {
			tpot[i] = append(tpot[i], r.TPOT)
		}
	}
	for i := range segs {
		end := now
		if i+1 < n {
			end = segs[i+1].Start
		}
		if d := end.Sub(segs[i].Start).Seconds(); d > 0 {
			segs[i].OutputTPS = float64(tokens[i]) / d
		}
		t := metrics.Summarize(ttft[i])
		segs[i].TTFTP50, segs[i].TTFTP99 = t.P50, t.P99
		segs[i].TPOTP50 = metrics.Summarize(tpot[i]).P50
		segs[i].E2EP50 = metrics.Summarize(e2e[i]).P50
	}
	return segs
}
