package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"benchtop/engine"
	"benchtop/metrics"
	"benchtop/report"
	"benchtop/workloads"
)

// RunResult is one workload sent Once: to completion, or, Partial, until
// the run stopped.
type RunResult struct {
	Workload string
	Start    time.Time
	Wall     time.Duration
	Requests int // in the workload
	// Results are one per request, in the workload's order; a request
	// whose result never came back (a partial run) has an empty ID.
	Results []engine.Result
	// Summary is every request of the run that finished, failed ones
	// included (counted by finish reason in Summary.Finishes).
	Summary metrics.Summary
	// Failures are the failed and truncated requests by finish reason,
	// each with an example; Failed and Truncated count them.
	Failures          []report.Failure
	Failed, Truncated int
	// Partial: the run stopped before every request finished (ctx ended
	// or the target failed); the numbers are those of the requests that
	// finished by then, and Wall runs to the stop.
	Partial bool
	// Lag is how late each request was sent against its arrival offset: a
	// generator that cannot keep up shows here (open loops only; Count 0
	// otherwise).
	Lag metrics.Dist
}

// ErrStopped is wrapped by the error of a run (or warm-up) that stopped
// before every request finished: its ctx ended or the target failed.
var ErrStopped = errors.New("stopped")

// summaryTimeout bounds the summary of a run that stopped (its ctx has
// ended, so the collector is waited for under a context of its own).
const summaryTimeout = 10 * time.Second

// Run sends a workload Once and waits for every request, then summarises
// the requests of the run from the collector. The wall time is measured
// around the whole run, as the tutorial times llm.generate. A request that
// fails (rejected, aborted) or is cut short (max_model_len) is counted by
// its reason beside the others, and the run goes on. When ctx ends or the
// target fails first, Run returns the result of the requests that finished
// by then, marked Partial, with an error that wraps the cause.
func (s *Session) Run(ctx context.Context, w workloads.Workload, seed int64) (*RunResult, error) {
	l, err := s.vocab.Load(w, seed, "")
	if err != nil {
		return nil, err
	}
	stop := s.progress(ctx, w.Name, len(l.Requests))
	o := Drive(ctx, s.target, l, Once, s.nextID("r"), nil)
	stop()
	res := &RunResult{Workload: w.Name, Start: o.Start, Wall: o.Wall, Requests: len(l.Requests), Results: o.Results, Partial: o.Err != nil}
	if res.Partial {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), summaryTimeout)
		defer cancel()
	}
	if err := s.summarize(ctx, res, o.Lags); err != nil {
		return nil, err
	}
	if res.Partial {
		return res, fmt.Errorf("workload %s: %w after %d of %d requests: %w", w.Name, ErrStopped, res.Summary.Requests, res.Requests, o.Err)
	}
	return res, nil
}

// summarize fills res's summary, failures and lag from the collector.
func (s *Session) summarize(ctx context.Context, res *RunResult, lags []time.Duration) error {
	var err error
	if res.Summary, err = s.stats.SummarySince(ctx, res.Start, res.Wall, s.opts.SLO); err != nil {
		return err
	}
	examples := map[string]string{}
	note := func(finish, id, why string) {
		if _, ok := examples[finish]; !ok && !report.Completed(finish) {
			examples[finish] = id + ": " + why
		}
	}
	for _, r := range res.Results {
		if r.ID != "" {
			note(r.Finish.String(), r.ID, r.Err)
		}
	}
	recs, err := s.stats.RecordsSince(ctx, res.Start)
	if err != nil {
		return err
	}
	for _, r := range recs {
		note(r.Finish, r.ID, r.Error)
	}
	res.Failures = report.FailuresOf(res.Summary.Finishes, examples)
	res.Failed, res.Truncated = report.CountFinishes(res.Summary.Finishes)
	res.Lag = metrics.Summarize(lags)
	return nil
}

// Warm runs the shapes a measured run of w will run, unmeasured: its
// requests (up to max_num_seqs of them, all at once) with outputs cut to a
// few tokens of spread lengths, so that the prefill shapes, the decode batch
// and the sizes it shrinks through have been seen (cuBLAS picks its kernels
// and CUDA graphs are captured on first use) before the clock starts.
func (s *Session) Warm(ctx context.Context, w workloads.Workload, seed int64) error {
	l, err := s.vocab.Load(w, seed, "")
	if err != nil {
		return err
	}
	n := min(len(l.Requests), max(1, s.Status().Config.MaxNumSeqs))
	warm := Load{Name: "warm-up " + w.Name, Requests: make([]*engine.Request, n)}
	for i := range warm.Requests {
		r := *l.Requests[i]
		r.Params.MaxTokens = min(r.Params.MaxTokens, 2+i%8)
		warm.Requests[i] = &r
	}
	o := Drive(ctx, s.target, warm, Once, s.nextID("warm"), nil)
	if o.Err != nil {
		return fmt.Errorf("warm-up for %s: %w: %w", w.Name, ErrStopped, o.Err)
	}
	return nil
}

// Sync waits until the collector has aggregated every event so far.
func (s *Session) Sync(ctx context.Context) error { return s.stats.Sync(ctx) }

// DecodeStepsSince are the pure-decode steps since t (for the roofline).
func (s *Session) DecodeStepsSince(ctx context.Context, t time.Time) ([]engine.StepEvent, error) {
	return s.stats.DecodeStepsSince(ctx, t)
}

// progress prints a status line to the log every second while a finite run
// is in flight (a CPU run of opt-125m takes minutes), from the collector's
// published snapshots, counting from what had finished when it started
// (after a Sync, so that no earlier request is counted). The returned stop
// ends the printer and waits for it.
func (s *Session) progress(ctx context.Context, name string, total int) func() {
	if s.opts.Log == nil || !s.opts.Progress {
		return func() {}
	}
	start := time.Now()
	if s.stats.Sync(ctx) != nil {
		return func() {}
	}
	finished0 := 0
	if m := s.stats.Latest(); m != nil {
		finished0 = m.Finished
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if m := s.stats.Latest(); m != nil {
					fmt.Fprintf(s.opts.Log, "benchtop: %s: %d/%d requests done, %d running, %.0f output tok/s (last %s), %s elapsed\n",
						name, m.Finished-finished0, total, m.Running, m.OutputTPS, m.Window.Round(time.Second), time.Since(start).Round(time.Second))
				}
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}
