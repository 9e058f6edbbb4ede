package experiments

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"benchtop/engine"
	"benchtop/gpumon"
	"benchtop/metrics"
	"benchtop/report"
	"benchtop/session"
	"benchtop/workloads"
)

// Params are what an experiment run may change from the tutorial's.
type Params struct {
	Requests int   // requests per run (0: the tutorial's count)
	Seed     int64 // workload seed
	Warmup   int   // the tutorial's warm-up requests before measuring (bench); 0: none
	Repeats  int   // measured runs per point (sweep, compare); 0 or 1: one
}

func (p Params) repeats() int { return max(1, p.Repeats) }

// measure warms the session for w's shapes, then runs w once, measured.
// A run that stopped (session.ErrStopped) comes back with its error and
// the result of what finished, marked partial: empty when the warm-up
// stopped. Any other error comes back alone.
func measure(ctx context.Context, s *session.Session, w workloads.Workload, seed int64) (*session.RunResult, error) {
	if err := s.Warm(ctx, w, seed); err != nil {
		return stoppedEarly(w.Name, err)
	}
	return s.Run(ctx, w, seed)
}

// stoppedEarly is the empty, partial result of a run that stopped before
// its measured requests were sent (err wraps session.ErrStopped), or just
// err otherwise.
func stoppedEarly(workload string, err error) (*session.RunResult, error) {
	if !errors.Is(err, session.ErrStopped) {
		return nil, err
	}
	return &session.RunResult{Workload: workload, Start: time.Now(), Partial: true}, err
}

// measures are a run's numbers as written.
func measures(run *session.RunResult) report.Measures {
	return report.MeasuresOf(run.Summary, run.Wall, run.Failures, lag(run))
}

// partialNote says what a partial run measured.
func partialNote(run *session.RunResult) string {
	if run.Requests == 0 {
		return "Partial: stopped before the measured requests were sent."
	}
	return fmt.Sprintf("Partial: %d of %d requests finished before the run stopped; the numbers are theirs.", run.Summary.Requests, run.Requests)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", metrics.Ms(d)) }

// header is what every document carries; run, when set, adds NVML's mean
// utilization over it and, with several sources or remote targets, each
// source's figures over it.
func header(s *session.Session, experiment string, run *session.RunResult) report.Header {
	st := s.Status()
	dev := s.Device()
	h := report.Header{SchemaVersion: report.SchemaVersion, Experiment: experiment, Timestamp: time.Now().UTC().Truncate(time.Second),
		Model: st.Model, Backend: dev.Backend, Device: dev.Name,
		GPUMemoryGB: float64(deviceMemory(s)) / 1e9, Config: report.ConfigOf(st.Config), Memory: report.MemoryOf(st.Plan)}
	if m := s.Model(); m != nil {
		h.Model, h.SyntheticWeights, h.Parameters = m.Source, m.Synthetic, m.Cfg.ParamCount()
	}
	if run != nil {
		if u, why, ok := gpuUtilization(s, run); ok {
			h.GPUUtilizationPct = &u
		} else {
			h.GPUUtilizationNA = strings.TrimSuffix(strings.TrimPrefix(why, "n/a ("), ")")
		}
		if !s.Remote() {
			h.GPUUtilizationPerGPU = perGPUUtilization(s.GPU(), run.Start, run.Start.Add(run.Wall))
		}
	}
	if p := s.Pool(); p != nil {
		h.Policy = p.Policy().String()
		for _, t := range s.Targets() {
			t.Gauges.Series = nil // the latest scrape (with each gauge's source) is enough for a report
			h.Targets = append(h.Targets, t)
		}
		if run != nil {
			if rows, err := s.SourcesOver(context.Background(), run.Start, run.Wall); err == nil && rows != nil {
				imb := report.Imbalance(rows)
				h.Sources, h.Imbalance = rows, &imb
			}
		}
	}
	return h
}

// NotLocalGPU is why a run against servers has no GPU utilization: NVML
// sees this machine's GPUs, not the servers'.
const NotLocalGPU = "remote target"

// gpuUtilization is NVML's mean utilization over run, or why there is
// none ("n/a (…)"): against servers always none.
func gpuUtilization(s *session.Session, run *session.RunResult) (pct float64, why string, ok bool) {
	if s.Remote() {
		return 0, "n/a (" + NotLocalGPU + ")", false
	}
	return s.GPU().MeanUtilization(run.Start, run.Start.Add(run.Wall))
}

// deviceMemory is the device memory the engines hold: each replica's
// weights, step workspace and KV pool, as allocated (0 against servers).
func deviceMemory(s *session.Session) int64 {
	return memoryInUse(s.Status().Plan) * int64(len(s.Engines()))
}

// lag is a run's generator lag for a document: nil for closed loops.
func lag(run *session.RunResult) *metrics.Dist {
	if run.Lag.Count == 0 {
		return nil
	}
	l := run.Lag
	return &l
}

func runDoc(s *session.Session, experiment string, run *session.RunResult) report.Run {
	h := header(s, experiment, run)
	h.Partial = run.Partial
	return report.Run{Header: h, Workload: run.Workload, Measures: measures(run)}
}

// runTable is a one-run table with its failed and truncated requests
// beside the rest, and what a partial run measured.
func runTable(title string, run *session.RunResult, headers ...string) *report.Table {
	t := &report.Table{Title: title, Headers: headers}
	if run.Partial {
		t.Title += " — partial"
		t.Notes = append(t.Notes, partialNote(run))
	}
	return t
}

// memoryInUse is the device memory the engine holds: weights, the step
// workspace and the KV pool, as allocated.
func memoryInUse(p engine.MemoryPlan) int64 { return p.WeightBytes + p.ActivationBytes + p.KVBytes }

// perGPUUtilization is NVML's mean utilization of each GPU over [from, to
// + one interval], as gpumon's MeanUtilization takes its samples; nil
// without NVML or a sample in the span.
func perGPUUtilization(g *gpumon.State, from, to time.Time) []float64 {
	if g == nil || !g.Available {
		return nil
	}
	var sum []float64
	var n []int
	for _, smp := range g.History {
		if smp.Time.Before(from) || smp.Time.After(to.Add(g.Interval)) {
			continue
		}
		for i, x := range smp.GPUs {
			for len(sum) <= i {
				sum, n = append(sum, 0), append(n, 0)
			}
			if x.UtilPct >= 0 {
				sum[i] += x.UtilPct
				n[i]++
			}
		}
	}
	for i := range sum {
		if n[i] > 0 {
			sum[i] /= float64(n[i])
		}
	}
	return sum
}
