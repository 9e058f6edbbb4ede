package experiments

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"benchtop/engine"
	"benchtop/metrics"
	"benchtop/workloads"
)

// RunResult is one workload run to completion.
type RunResult struct {
	Workload string
	Start    time.Time
	Wall     time.Duration
	Results  []engine.Result
	Records  []metrics.RequestRecord
	Summary  metrics.Summary
	Failed   int // rejected or aborted requests
	FirstErr string
	// Lag is how late each request was sent against its arrival time: a
	// generator that cannot keep up shows here (open-loop processes only).
	Lag metrics.Dist
}

// Requests tokenizes a workload's specs for this session's model.
func (s *Session) Requests(w workloads.Workload, seed int64, prefix string) ([]*engine.Request, []time.Duration, error) {
	specs := w.Specs(seed)
	reqs := make([]*engine.Request, len(specs))
	arrivals := make([]time.Duration, len(specs))
	for i, sp := range specs {
		ids, err := s.promptIDs(sp, seed, i)
		if err != nil {
			return nil, nil, fmt.Errorf("workload %s: %w", w.Name, err)
		}
		reqs[i] = &engine.Request{ID: prefix + sp.ID, Prompt: ids, Params: engine.SamplingParams{
			Temperature: sp.Temperature, TopP: sp.TopP, TopK: sp.TopK, MaxTokens: sp.MaxTokens, IgnoreEOS: sp.IgnoreEOS}}
		arrivals[i] = sp.Arrival
	}
	return reqs, arrivals, nil
}

// promptIDs tokenizes a spec's text, or makes its synthetic prompt: BOS,
// then PrefixLen tokens the same for every request of the seed, then the
// request's own tokens, all drawn from the vocabulary's ordinary range.
func (s *Session) promptIDs(sp workloads.Spec, seed int64, i int) ([]int32, error) {
	if sp.Prompt != "" || sp.PromptLen == 0 {
		return s.Model.Encode(sp.Prompt)
	}
	vocab := min(s.Model.Cfg.VocabSize, 50000)
	ids := make([]int32, 0, sp.PromptLen+1)
	ids = append(ids, int32(s.Model.Cfg.BOS))
	shared := rand.New(rand.NewPCG(uint64(seed), 0x9f))
	own := rand.New(rand.NewPCG(uint64(seed), uint64(i)+1))
	for j := 0; j < sp.PromptLen; j++ {
		r := own
		if j < sp.PrefixLen {
			r = shared
		}
		ids = append(ids, int32(1000+r.IntN(vocab-1000)))
	}
	return ids, nil
}

var runCounter struct {
	sync.Mutex
	n int
}

// Run sends a workload to the engine (at its arrival offsets, or as a closed
// loop of its concurrency) and waits for every request. The wall time is
// measured around the whole run, as the tutorial times llm.generate.
func (s *Session) Run(ctx context.Context, w workloads.Workload, seed int64) (*RunResult, error) {
	runCounter.Lock()
	runCounter.n++
	prefix := fmt.Sprintf("r%d-", runCounter.n)
	runCounter.Unlock()
	reqs, arrivals, err := s.Requests(w, seed, prefix)
	if err != nil {
		return nil, err
	}
	res := &RunResult{Workload: w.Name, Results: make([]engine.Result, len(reqs))}
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	res.Start = time.Now()
	stopProgress := s.progress(w.Name, len(reqs), res.Start)
	defer stopProgress()
	var wg sync.WaitGroup
	var lags []time.Duration
	if w.Concurrency > 0 {
		next := make(chan int, len(reqs))
		for i := range reqs {
			next <- i
		}
		close(next)
		for range min(w.Concurrency, len(reqs)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					out, err := s.Engine.Generate(ctx, reqs[i:i+1])
					if err != nil {
						fail(err)
						return
					}
					res.Results[i] = out[0]
				}
			}()
		}
	} else {
		// Requests due at the same offset go in one submission, so "all at
		// once" reaches the scheduler as one batch.
		for lo := 0; lo < len(reqs); {
			hi := lo + 1
			for hi < len(reqs) && arrivals[hi] == arrivals[lo] {
				hi++
			}
			wg.Add(1)
			go func(lo, hi int) {
				defer wg.Done()
				due := res.Start.Add(arrivals[lo])
				if d := time.Until(due); d > 0 {
					select {
					case <-time.After(d):
					case <-ctx.Done():
						fail(ctx.Err())
						return
					}
				}
				mu.Lock()
				lags = append(lags, max(0, time.Since(due)))
				mu.Unlock()
				out, err := s.Engine.Generate(ctx, reqs[lo:hi])
				if err != nil {
					fail(err)
					return
				}
				copy(res.Results[lo:hi], out)
			}(lo, hi)
			lo = hi
		}
	}
	wg.Wait()
	res.Wall = time.Since(res.Start)
	stopProgress()
	if firstErr != nil {
		return nil, fmt.Errorf("workload %s: %w", w.Name, firstErr)
	}
	var itl []time.Duration
	if err := s.Engine.Exec(ctx, func() {
		s.Collector.Flush()
		res.Records = append(res.Records, s.Collector.RecordsSince(res.Start)...)
		itl = append(itl, s.Collector.ITLSince(res.Start)...)
	}); err != nil {
		return nil, err
	}
	for _, r := range res.Results {
		if r.Finish == engine.FinishRejected || r.Finish == engine.FinishAborted {
			res.Failed++
			if res.FirstErr == "" {
				res.FirstErr = r.Err
			}
		}
	}
	if res.Failed > 0 {
		return nil, fmt.Errorf("workload %s: %d of %d requests failed: %s", w.Name, res.Failed, len(reqs), res.FirstErr)
	}
	res.Summary = metrics.Summarise(res.Records, res.Wall, itl, s.Opts.SLO)
	res.Lag = metrics.Summarize(lags)
	return res, nil
}

// progress prints a status line to the log every second while a run is in
// flight (a CPU run of opt-125m takes minutes), from published snapshots
// only, so it never touches the engine goroutine's state. The returned stop
// function is idempotent.
func (s *Session) progress(name string, total int, start time.Time) func() {
	if s.Opts.Log == nil || !s.Opts.Progress {
		return func() {}
	}
	done, exited := make(chan struct{}), make(chan struct{})
	var once sync.Once
	finished0 := 0
	if snap := s.Collector.Latest(); snap != nil {
		finished0 = snap.Finished
	}
	go func() {
		defer close(exited)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if snap := s.Collector.Latest(); snap != nil {
					fmt.Fprintf(s.Opts.Log, "benchtop: %s: %d/%d requests done, %d running, %.0f output tok/s (last %s), %s elapsed\n",
						name, snap.Finished-finished0, total, snap.Running, snap.OutputTPS, snap.Window.Round(time.Second), time.Since(start).Round(time.Second))
				}
			}
		}
	}()
	// Stopping waits for a line being printed, so the caller's next write
	// to the same log never races it.
	return func() { once.Do(func() { close(done); <-exited }) }
}
