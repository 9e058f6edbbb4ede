package experiments

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"benchtop/engine"
	"benchtop/metrics"
	"benchtop/snapshot"
)

// SchemaVersion versions the JSON reports.
const SchemaVersion = 1

// Report is an experiment's outcome: tables to print and a JSON document
// with the tutorial's MetricsCollector fields and more.
type Report struct {
	Tables []*Table
	JSON   map[string]any
	Charts []Chart
}

// Print writes every table, then the charts as text.
func (r *Report) Print(w io.Writer) {
	for _, t := range r.Tables {
		t.Print(w)
	}
	for _, c := range r.Charts {
		fmt.Fprintf(w, "\n%s\n", c.Text(60, 12))
	}
}

// dist is a Dist in milliseconds for JSON.
func dist(d metrics.Dist) map[string]any {
	return map[string]any{"count": d.Count, "mean": metrics.Ms(d.Mean), "p50": metrics.Ms(d.P50),
		"p90": metrics.Ms(d.P90), "p99": metrics.Ms(d.P99), "max": metrics.Ms(d.Max)}
}

// baseJSON is what every report carries: when, what ran where, and the
// tutorial collector's fields for a run.
func (s *Session) baseJSON(experiment string, run *RunResult) map[string]any {
	st := s.Engine.Status()
	info := s.Backend.Info()
	j := map[string]any{
		"schema_version":      SchemaVersion,
		"experiment":          experiment,
		"timestamp":           time.Now().UTC().Format(time.RFC3339),
		"model":               s.Model.Source,
		"synthetic_weights":   s.Model.Synthetic,
		"parameters":          s.Model.Cfg.ParamCount(),
		"backend":             info.Backend,
		"device":              info.Name,
		"gpu_memory_gb":       float64(s.Backend.MemoryInUse()) / 1e9,
		"gpu_utilization_pct": nil, // set from NVML samples of a run; null where there are none
		"config":              configJSON(st.Config),
		"memory":              memoryJSON(st.Plan),
	}
	if run != nil {
		sm := run.Summary
		j["num_requests"] = sm.Requests
		j["throughput_rps"] = sm.RPS
		j["throughput_tps"] = sm.OutputTPS
		j["total_tps"] = sm.TotalTPS
		j["avg_latency_ms"] = metrics.Ms(sm.E2E.Mean)
		j["wall_time_s"] = sm.WallTime
		j["output_tokens"] = sm.OutputTokens
		j["prompt_tokens"] = sm.PromptTokens
		j["preemptions"] = sm.Preemptions
		j["ttft_ms"], j["tpot_ms"], j["itl_ms"], j["e2e_ms"] = dist(sm.TTFT), dist(sm.TPOT), dist(sm.ITL), dist(sm.E2E)
		j["workload"] = run.Workload
		if u, _, ok := s.gpuUtilization(run); ok {
			j["gpu_utilization_pct"] = u
		}
		if !sm.SLO.Empty() {
			j["slo"], j["goodput_rps"], j["slo_attainment"] = sm.SLO.String(), sm.Goodput, sm.Attainment
		}
	}
	return j
}

func configJSON(c engine.Config) map[string]any {
	return map[string]any{"max_num_seqs": c.MaxNumSeqs, "max_num_batched_tokens": c.MaxNumBatchedTokens,
		"block_size": c.BlockSize, "gpu_memory_utilization": c.GPUMemoryUtilization, "max_model_len": c.MaxModelLen,
		"enforce_eager": c.EnforceEager, "enable_chunked_prefill": c.EnableChunkedPrefill, "seed": c.Seed}
}

func memoryJSON(p engine.MemoryPlan) map[string]any {
	return map[string]any{"total_bytes": p.TotalBytes, "weights_bytes": p.WeightBytes,
		"activation_bytes": p.ActivationBytes, "kv_cache_bytes": p.KVBytes, "kv_blocks": p.NumBlocks,
		"block_size": p.BlockSize, "kv_bytes_per_block": p.BytesPerBlock, "kv_tokens": p.KVTokens(),
		"kv_dtype": p.KVDType.String(), "kv_heads": p.KVHeads, "head_dim": p.HeadDim, "num_layers": p.NumLayers}
}

// CheckWritable fails early when path cannot be written, before minutes of
// benchmarking are spent.
func CheckWritable(path string) error {
	if path == "" {
		return nil
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("output %s is a directory", path)
	}
	f, err := os.CreateTemp(dir, ".benchtop-check-*")
	if err != nil {
		return fmt.Errorf("output %s is not writable: %w", path, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// WriteJSON writes the report's JSON atomically.
func (r *Report) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r.JSON, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	return snapshot.WriteFileAtomic(path, append(data, '\n'))
}

// gpuUtilization is the mean NVML utilization of the GPUs over a run's
// samples (taken every 250 ms; NVML itself averages over a fraction of a
// second). why says what stands in for it when there is none.
func (s *Session) gpuUtilization(run *RunResult) (pct float64, why string, ok bool) {
	st := s.GPU.Latest()
	if !st.Available {
		return 0, "n/a (" + st.Reason + ")", false
	}
	end := run.Start.Add(run.Wall)
	var sum float64
	n := 0
	for _, smp := range st.History {
		if smp.Time.Before(run.Start) || smp.Time.After(end.Add(s.GPU.Interval)) {
			continue // the sample just after the end still covers the run's tail
		}
		for _, g := range smp.GPUs {
			if g.UtilPct >= 0 {
				sum += g.UtilPct
				n++
			}
		}
	}
	if n == 0 {
		return 0, fmt.Sprintf("n/a (the run took %s, shorter than NVML's %s sampling)", run.Wall.Round(time.Millisecond), s.GPU.Interval), false
	}
	return sum / float64(n), "", true
}
