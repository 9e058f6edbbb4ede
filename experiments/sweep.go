package experiments

import (
	"context"
	"fmt"

	"benchtop/workloads"
)

// Sweep is the tutorial's batch-size sweep: for each size, that many prompts
// at once; throughput and average latency per size, and the best size.
func Sweep(ctx context.Context, s *Session, sizes []int, p Params) (*Report, error) {
	if len(sizes) == 0 {
		sizes = workloads.SweepBatchSizes
	}
	t := &Table{Title: "Batch-size sweep (" + s.describe() + ")",
		Headers: []string{"Batch size", "Throughput (req/s)", "Output tok/s", "Avg latency (ms)", "TTFT p50 (ms)"}}
	var rows []map[string]any
	best, bestRPS := 0, -1.0
	for _, n := range sizes {
		if n < 1 {
			return nil, fmt.Errorf("batch size %d: must be at least 1", n)
		}
		run, err := s.Run(ctx, workloads.Batch(n), p.Seed)
		if err != nil {
			return nil, fmt.Errorf("batch size %d: %w", n, err)
		}
		sm := run.Summary
		t.Add(n, sm.RPS, sm.OutputTPS, ms(sm.E2E.Mean), ms(sm.TTFT.P50))
		rows = append(rows, map[string]any{"batch_size": n, "throughput_rps": sm.RPS, "throughput_tps": sm.OutputTPS,
			"avg_latency_ms": float64(sm.E2E.Mean.Nanoseconds()) / 1e6, "ttft_ms": dist(sm.TTFT), "e2e_ms": dist(sm.E2E)})
		if sm.RPS > bestRPS {
			best, bestRPS = n, sm.RPS
		}
	}
	t.Notes = append(t.Notes, fmt.Sprintf("Best batch size: %d (%.2f requests/s)", best, bestRPS))
	j := s.baseJSON("sweep", nil)
	j["results"] = rows
	j["best_batch_size"] = best
	return &Report{Tables: []*Table{t}, JSON: j}, nil
}
