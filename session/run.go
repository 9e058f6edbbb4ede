package session

import (
	"context"
	"fmt"
	"sync"
	"time"

	"benchtop/engine"
	"benchtop/metrics"
	"benchtop/workloads"
)

// RunResult is one workload sent Once, to completion.
type RunResult struct {
	Workload string
	Start    time.Time
	Wall     time.Duration
	Results  []engine.Result
	Summary  metrics.Summary
	Failed   int // rejected or aborted requests
	FirstErr string
	// Lag is how late each request was sent against its arrival offset: a
	// generator that cannot keep up shows here (open loops only; Count 0
	// otherwise).
	Lag metrics.Dist
}

// Run sends a workload Once and waits for every request, then summarises
// the requests of the run from the collector. The wall time is measured
// around the whole run, as the tutorial times llm.generate. Failed
// requests are an error naming the first reason.
func (s *Session) Run(ctx context.Context, w workloads.Workload, seed int64) (*RunResult, error) {
	l, err := s.vocab.Load(w, seed, "")
	if err != nil {
		return nil, err
	}
	stop := s.progress(w.Name, len(l.Requests))
	o := Drive(ctx, s.target, l, Once, s.nextID("r"), nil)
	stop()
	if o.Err != nil {
		return nil, fmt.Errorf("workload %s: %w", w.Name, o.Err)
	}
	res := &RunResult{Workload: w.Name, Start: o.Start, Wall: o.Wall, Results: o.Results}
	for _, r := range o.Results {
		if r.Finish == engine.FinishRejected || r.Finish == engine.FinishAborted {
			res.Failed++
			if res.FirstErr == "" {
				res.FirstErr = r.Err
			}
		}
	}
	if res.Failed > 0 {
		return nil, fmt.Errorf("workload %s: %d of %d requests failed: %s", w.Name, res.Failed, len(o.Results), res.FirstErr)
	}
	if err := s.stats.Sync(ctx); err != nil {
		return nil, err
	}
	if res.Summary, err = s.stats.SummarySince(ctx, o.Start, o.Wall, s.opts.SLO); err != nil {
		return nil, err
	}
	res.Lag = metrics.Summarize(o.Lags)
	return res, nil
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
		return fmt.Errorf("warm-up for %s: %w", w.Name, o.Err)
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
// is in flight (a CPU run of opt-125m takes minutes), from published frames
// only. The returned stop ends the printer and waits for it.
func (s *Session) progress(name string, total int) func() {
	if s.opts.Log == nil || !s.opts.Progress {
		return func() {}
	}
	start := time.Now()
	finished0 := 0
	if f := s.Frame(); f != nil && f.Metrics != nil {
		finished0 = f.Metrics.Finished
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
				if f := s.Frame(); f != nil && f.Metrics != nil {
					m := f.Metrics
					fmt.Fprintf(s.opts.Log, "benchtop: %s: %d/%d requests done, %d running, %.0f output tok/s (last %s), %s elapsed\n",
						name, m.Finished-finished0, total, m.Running, m.OutputTPS, m.Window.Round(time.Second), time.Since(start).Round(time.Second))
				}
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}
