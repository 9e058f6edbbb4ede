package session

// This file is the one place the session meets the metrics collector
// (the contract of issue 8: a bounded, non-blocking hand-off from the
// engine, the collector's own goroutine, goroutine-safe readers). No call
// here waits for an engine step.

import (
	"context"
	"time"

	"benchtop/engine"
	"benchtop/metrics"
	"benchtop/snapshot"
)

// stats is the session's collector.
type stats struct{ c *metrics.Collector }

func newStats(slo metrics.SLO) *stats {
	return &stats{c: metrics.NewCollector(metrics.WithSLO(slo))}
}

// observer is what a target's events go to, tagged with their source.
func (s *stats) observer(source int) engine.Observer { return s.c.Source(source) }

// run is the collector's own goroutine.
func (s *stats) run(ctx context.Context) { s.c.Run(ctx) }

// Latest is the newest snapshot; any goroutine.
func (s *stats) Latest() *metrics.Snapshot { return s.c.Latest() }

// Sync returns once every event handed off before it is in a published
// snapshot.
func (s *stats) Sync(ctx context.Context) error { return s.c.Sync(ctx) }

// Mark starts a new segment named what.
func (s *stats) Mark(_ context.Context, at time.Time, what string) error {
	s.c.Mark(at, what)
	return nil
}

// Reset clears every statistic and starts a new clock.
func (s *stats) Reset(context.Context) error {
	s.c.Reset()
	return nil
}

// RecordsSince copies the requests that finished at or after t.
func (s *stats) RecordsSince(_ context.Context, t time.Time) ([]metrics.RequestRecord, error) {
	return append([]metrics.RequestRecord{}, s.c.RecordsSince(t)...), nil
}

// SummarySince summarises the requests since t over a wall time (after
// Sync).
func (s *stats) SummarySince(ctx context.Context, t time.Time, wall time.Duration, slo metrics.SLO) (metrics.Summary, error) {
	if err := s.c.Sync(ctx); err != nil {
		return metrics.Summary{}, err
	}
	return s.c.SummarySince(t, wall, slo), nil
}

// DecodeStepsSince copies the pure-decode steps that started at or after t
// (after Sync).
func (s *stats) DecodeStepsSince(ctx context.Context, t time.Time) ([]engine.StepEvent, error) {
	if err := s.c.Sync(ctx); err != nil {
		return nil, err
	}
	return append([]engine.StepEvent{}, s.c.DecodeStepsSince(t)...), nil
}

// Segments summarises each segment (the span between two changes) as the
// snapshot file has them.
func (s *stats) Segments(context.Context) ([]snapshot.Segment, error) {
	ms := s.c.Segments()
	segs := make([]snapshot.Segment, len(ms))
	for i, x := range ms {
		segs[i] = snapshot.Segment{Index: x.Index, What: x.What, Start: x.Start, Requests: x.Requests, OutputTPS: x.OutputTPS,
			TTFTP50: x.TTFT.P50, TTFTP99: x.TTFT.P99, TPOTP50: x.TPOT.P50, E2EP50: x.E2E.P50}
	}
	return segs, nil
}
