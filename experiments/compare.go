package experiments

import (
	"context"
	"fmt"

	"benchtop/engine"
	"benchtop/metrics"
	"benchtop/workloads"
)

// Variant is one named configuration of a comparison.
type Variant struct {
	Name   string
	Config engine.Config
	// NotApplicable, when set, is why the variant cannot run here.
	NotApplicable string
}

// TutorialVariants are the tutorial's four configurations on top of base.
func TutorialVariants(base engine.Config, cudaGraphs bool) []Variant {
	hi, lo, eager, graphs := base, base, base, base
	hi.GPUMemoryUtilization, lo.GPUMemoryUtilization = 0.95, 0.7
	eager.EnforceEager, graphs.EnforceEager = true, false
	vs := []Variant{{Name: "default", Config: base},
		{Name: "gpu_memory_utilization=0.95", Config: hi},
		{Name: "gpu_memory_utilization=0.7", Config: lo}}
	ev := Variant{Name: "enforce_eager=True", Config: eager}
	gv := Variant{Name: "cuda_graphs", Config: graphs}
	if !cudaGraphs {
		ev.NotApplicable = "the CPU backend is always eager"
		gv.NotApplicable = "CUDA graphs need the CUDA backend"
	}
	return append(vs, ev, gv)
}

// Compare runs the same workload under each variant, reconfiguring the
// engine between runs, and prints one table side by side.
func Compare(ctx context.Context, s *Session, variants []Variant, w workloads.Workload, p Params) (*Report, error) {
	w = w.WithCount(p.Requests)
	t := &Table{Title: "Configuration comparison (" + s.describe() + ", workload " + w.Name + ")",
		Headers: []string{"Configuration", "KV blocks", "Throughput (req/s)", "Output tok/s", "Avg latency (ms)", "TTFT p50 (ms)"}}
	var rows []map[string]any
	base := s.Engine.Status().Config
	// A warm-up, so the first row does not pay for first-use costs (cuBLAS
	// picking kernels for new shapes) that the others skip.
	if _, err := s.Run(ctx, w.WithCount(min(10, w.Count)), p.Seed+1); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	for _, v := range variants {
		if v.NotApplicable != "" {
			t.Add(v.Name, "-", "n/a", "n/a", "n/a", "n/a")
			t.Notes = append(t.Notes, fmt.Sprintf("%s: not applicable: %s.", v.Name, v.NotApplicable))
			rows = append(rows, map[string]any{"name": v.Name, "not_applicable": v.NotApplicable})
			continue
		}
		if err := s.Reconfigure(v.Config, v.Name); err != nil {
			return nil, fmt.Errorf("configuration %s: %w", v.Name, err)
		}
		run, err := s.Run(ctx, w, p.Seed)
		if err != nil {
			return nil, fmt.Errorf("configuration %s: %w", v.Name, err)
		}
		sm := run.Summary
		plan := s.Engine.Status().Plan
		t.Add(v.Name, plan.NumBlocks, sm.RPS, sm.OutputTPS, ms(sm.E2E.Mean), ms(sm.TTFT.P50))
		rows = append(rows, map[string]any{"name": v.Name, "config": configJSON(v.Config), "memory": memoryJSON(plan),
			"throughput_rps": sm.RPS, "throughput_tps": sm.OutputTPS, "avg_latency_ms": metrics.Ms(sm.E2E.Mean),
			"ttft_ms": dist(sm.TTFT), "e2e_ms": dist(sm.E2E)})
	}
	if err := s.Reconfigure(base, "restore"); err != nil {
		return nil, err
	}
	j := s.baseJSON("compare", nil)
	j["workload"] = w.Name
	j["results"] = rows
	return &Report{Tables: []*Table{t}, JSON: j}, nil
}
