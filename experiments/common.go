package experiments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"benchtop/engine"
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
// utilization over it.
func header(s *session.Session, experiment string, run *session.RunResult) report.Header {
	st := s.Status()
	m, dev := s.Model(), s.Device()
	h := report.Header{SchemaVersion: report.SchemaVersion, Experiment: experiment, Timestamp: time.Now().UTC().Truncate(time.Second),
		Model: m.Source, SyntheticWeights: m.Synthetic, Parameters: m.Cfg.ParamCount(), Backend: dev.Backend, Device: dev.Name,
		GPUMemoryGB: float64(memoryInUse(st.Plan)) / 1e9, Config: report.ConfigOf(st.Config), Memory: report.MemoryOf(st.Plan)}
	if run != nil {
		if u, _, ok := s.GPU().MeanUtilization(run.Start, run.Start.Add(run.Wall)); ok {
			h.GPUUtilizationPct = &u
		}
	}
	return h
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
