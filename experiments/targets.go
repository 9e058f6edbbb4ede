package experiments

import (
	"context"
	"fmt"

	"benchtop/report"
	"benchtop/session"
	"benchtop/workloads"
)

// CompareTargets runs the same workload against each remote target alone
// (the targets are the configurations: servers, or the same server behind
// different settings), warmed and measured p.Repeats times each, and prints
// them side by side.
func CompareTargets(ctx context.Context, s *session.Session, w workloads.Workload, p Params) (*report.Report, error) {
	pool := s.Pool()
	if !s.Remote() || pool == nil {
		return nil, fmt.Errorf("a comparison of targets needs --target servers")
	}
	defer pool.Only(-1)
	w = w.WithCount(p.Requests)
	t := &report.Table{Title: "Target comparison (workload " + w.Name + ", " + s.Options().Remote.API.String() + " API)",
		Headers: []string{"Target", "Model", "Throughput (req/s)", "Output tok/s", "Avg latency (ms)", "TTFT p50 (ms)", "Failed"}}
	spread := addSpreadColumns(t, p.repeats())
	doc := report.Compare{Header: header(s, "compare", nil), Workload: w.Name, Repeats: p.repeats(), Results: []report.Variant{}}
	targets := s.Targets()
	for i, tg := range targets {
		if err := pool.Only(i); err != nil {
			return nil, err
		}
		pt, err := repeat(ctx, s, w, p.Seed, p.repeats())
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", tg.URL, err)
		}
		sm := pt.first.Summary
		row := []any{tg.URL, tg.Model, pt.rps.Mean, pt.tps.Mean, fmt.Sprintf("%.2f", pt.lat.Mean), ms(sm.TTFT.P50), pt.first.Failed}
		row, within := spread.fill(row, pt)
		t.Add(row...)
		m := report.MeasuresOf(sm, pt.first.Wall, pt.first.Failures, lag(pt.first))
		doc.Results = append(doc.Results, report.Variant{Name: tg.URL, Measures: &m, ThroughputTPS: pt.tps, AvgLatency: pt.lat, WithinSpread: within})
	}
	t.Notes = append(t.Notes, "Each target ran the workload alone; times are measured at the client (TTFT at the first content chunk).")
	return &report.Report{Tables: []*report.Table{t}, Doc: doc}, nil
}
