package experiments

import (
	"context"
	"fmt"

	"benchtop/metrics"
	"benchtop/workloads"
)

// Params are what an experiment run may change from the tutorial's.
type Params struct {
	Requests int   // requests per run (0: the tutorial's count)
	Seed     int64 // workload seed
	Warmup   int   // warm-up requests before measuring (bench); 0: none
}

func (s *Session) runNamed(ctx context.Context, name string, p Params) (*RunResult, error) {
	w, err := workloads.Lookup(name)
	if err != nil {
		return nil, err
	}
	return s.Run(ctx, w.WithCount(p.Requests), p.Seed)
}

func ms(d interface{ Nanoseconds() int64 }) string {
	return fmt.Sprintf("%.2f", float64(d.Nanoseconds())/1e6)
}

// Throughput is the tutorial's throughput test: N prompts at once, wall time
// around the whole run.
func Throughput(ctx context.Context, s *Session, p Params) (*Report, error) {
	run, err := s.runNamed(ctx, "throughput", p)
	if err != nil {
		return nil, err
	}
	sm := run.Summary
	t := &Table{Title: "Throughput (" + s.describe() + ")", Headers: []string{"Metric", "Value"}}
	t.Add("Requests", sm.Requests)
	t.Add("Output tokens", sm.OutputTokens)
	t.Add("Wall time (s)", fmt.Sprintf("%.3f", sm.WallTime))
	t.Add("Throughput (requests/s)", sm.RPS)
	t.Add("Output tokens/s", sm.OutputTPS)
	t.Add("Total tokens/s (prompt + output)", sm.TotalTPS)
	return &Report{Tables: []*Table{t}, JSON: s.baseJSON("throughput", run)}, nil
}

// Latency is the tutorial's latency test: one request, end to end.
func Latency(ctx context.Context, s *Session, p Params) (*Report, error) {
	run, err := s.runNamed(ctx, "latency", p)
	if err != nil {
		return nil, err
	}
	sm := run.Summary
	t := &Table{Title: "Latency (" + s.describe() + ")", Headers: []string{"Metric", "Value"}}
	t.Add("Requests", sm.Requests)
	t.Add("Output tokens", sm.OutputTokens)
	t.Add("End-to-end latency (ms)", ms(sm.E2E.Mean))
	t.Add("Time to first token (ms)", ms(sm.TTFT.Mean))
	t.Add("Time per output token (ms)", ms(sm.TPOT.Mean))
	t.Add("Tokens/s (one request)", sm.OutputTPS)
	return &Report{Tables: []*Table{t}, JSON: s.baseJSON("latency", run)}, nil
}

// TTFT measures time to first token, one short request at a time on an idle
// engine, and reports its distribution.
func TTFT(ctx context.Context, s *Session, p Params) (*Report, error) {
	run, err := s.runNamed(ctx, "ttft", p)
	if err != nil {
		return nil, err
	}
	d := run.Summary.TTFT
	t := &Table{Title: "Time to first token (" + s.describe() + ")", Headers: []string{"Statistic", "TTFT (ms)"}}
	t.Add("mean", ms(d.Mean))
	t.Add("p50", ms(d.P50))
	t.Add("p90", ms(d.P90))
	t.Add("p99", ms(d.P99))
	t.Add("max", ms(d.Max))
	t.Notes = append(t.Notes, fmt.Sprintf("%d requests; TTFT is arrival → first output token, queueing included.", d.Count))
	return &Report{Tables: []*Table{t}, JSON: s.baseJSON("ttft", run)}, nil
}

// Bench is the tutorial's comprehensive benchmark: a warm-up, then N
// prompts at once, with every metric.
func Bench(ctx context.Context, s *Session, p Params) (*Report, error) {
	if p.Warmup > 0 {
		if _, err := s.runNamed(ctx, "bench", Params{Requests: p.Warmup, Seed: p.Seed + 1}); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	run, err := s.runNamed(ctx, "bench", p)
	if err != nil {
		return nil, err
	}
	rep := &Report{Tables: s.runTables("Comprehensive benchmark", run), JSON: s.baseJSON("bench", run)}
	rf, ok, err := s.roofline(ctx, run.Start)
	if err != nil {
		return nil, err
	}
	if ok {
		rep.Tables = append(rep.Tables, rf.table())
		rep.JSON["roofline"] = rf
	}
	return rep, nil
}

func (s *Session) describe() string {
	c := s.Engine.Status().Config
	w := ""
	if note := s.Model.WeightsNote(); note != "" {
		w = ", " + note
	}
	return fmt.Sprintf("%s%s on %s, max_num_seqs=%d", s.Model.Source, w, s.Backend.Info().Backend, c.MaxNumSeqs)
}

// runTables are a run's comprehensive tables: totals and rates, SLO goodput
// when set, the generator's lag for open-loop arrivals, and percentiles.
func (s *Session) runTables(title string, run *RunResult) []*Table {
	sm := run.Summary
	t := &Table{Title: title + " (" + s.describe() + ")", Headers: []string{"Metric", "Value"}}
	t.Add("Requests", sm.Requests)
	t.Add("Prompt tokens", sm.PromptTokens)
	t.Add("Output tokens", sm.OutputTokens)
	t.Add("Wall time (s)", fmt.Sprintf("%.3f", sm.WallTime))
	t.Add("Throughput (requests/s)", sm.RPS)
	t.Add("Output tokens/s", sm.OutputTPS)
	t.Add("Total tokens/s", sm.TotalTPS)
	t.Add("Average latency (ms)", ms(sm.E2E.Mean))
	t.Add("Preemptions", sm.Preemptions)
	if !sm.SLO.Empty() {
		t.Add("SLO ("+sm.SLO.String()+") met", fmt.Sprintf("%.1f%%", 100*sm.Attainment))
		t.Add("Goodput (requests/s meeting the SLO)", sm.Goodput)
	}
	if run.Lag.Count > 0 {
		t.Add("Generator lag p50 / p99 / max (ms)", fmt.Sprintf("%s / %s / %s", ms(run.Lag.P50), ms(run.Lag.P99), ms(run.Lag.Max)))
	}
	t.Add("Memory in use (GB)", fmt.Sprintf("%.3f", float64(s.Backend.MemoryInUse())/1e9))
	if u, why, ok := s.gpuUtilization(run); ok {
		t.Add("GPU utilization (%, NVML mean)", fmt.Sprintf("%.1f", u))
	} else {
		t.Add("GPU utilization (%)", why)
	}
	pt := &Table{Title: "Latency percentiles (ms)", Headers: []string{"Metric", "n", "mean", "p50", "p90", "p99", "max"}}
	for _, row := range []struct {
		name string
		d    metrics.Dist
	}{{"TTFT", sm.TTFT}, {"TPOT", sm.TPOT}, {"ITL", sm.ITL}, {"E2E", sm.E2E}} {
		pt.Add(row.name, row.d.Count, ms(row.d.Mean), ms(row.d.P50), ms(row.d.P90), ms(row.d.P99), ms(row.d.Max))
	}
	return []*Table{t, pt}
}

// RunReport runs any workload and reports every metric.
func RunReport(ctx context.Context, s *Session, w workloads.Workload, p Params) (*Report, error) {
	run, err := s.Run(ctx, w.WithCount(p.Requests), p.Seed)
	if err != nil {
		return nil, err
	}
	rep := &Report{Tables: s.runTables("Workload "+w.Name, run), JSON: s.baseJSON("run", run)}
	rep.Tables[0].Notes = append(rep.Tables[0].Notes, w.Description)
	rep.JSON["description"] = w.Description
	if run.Lag.Count > 0 {
		rep.JSON["generator_lag_ms"] = dist(run.Lag)
	}
	return rep, nil
}
