package session

import (
	"flag"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"benchtop/engine"
	"benchtop/workloads"
)

// The GPU checks of issue 8 (run on the GPU machine by
// scripts/gpu_session_check.sh; they skip without CUDA):
//   - the live output tokens/s a frame shows equals the tokens counted over
//     the same window, within 2%, on the closed-loop bench workload;
//   - the engine's step time with the collector attached is within 2% of
//     without.
var gpuSeconds = flag.Duration("gpu-seconds", 15*time.Second, "how long each GPU check drives the workload")

// tokenCounter is the truth: every output token's time, and every pure
// decode step's time at each batch size.
type tokenCounter struct {
	mu     sync.Mutex
	tokens []time.Time
	steps  map[int][]time.Duration
}

func (c *tokenCounter) OnRequest(ev *engine.RequestEvent) {
	if ev.Kind == engine.EvToken || ev.Kind == engine.EvFirstToken {
		c.mu.Lock()
		c.tokens = append(c.tokens, ev.Time)
		c.mu.Unlock()
	}
}

func (c *tokenCounter) OnStep(ev *engine.StepEvent) {
	if ev.PrefillTokens == 0 && ev.DecodeTokens > 0 {
		c.mu.Lock()
		c.steps[ev.NumSeqs] = append(c.steps[ev.NumSeqs], ev.Total)
		c.mu.Unlock()
	}
}

func (c *tokenCounter) between(from, to time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.tokens {
		if !t.Before(from) && t.Before(to) {
			n++
		}
	}
	return n
}

// medianStep is the median decode step at the most common batch size.
func (c *tokenCounter) medianStep() (batch int, median time.Duration, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for b, xs := range c.steps {
		if len(xs) > n {
			batch, n = b, len(xs)
		}
	}
	xs := slices.Clone(c.steps[batch])
	slices.Sort(xs)
	if len(xs) == 0 {
		return 0, 0, 0
	}
	return batch, xs[len(xs)/2], n
}

func openCUDA(t *testing.T, detach bool, obs engine.Observer) *Session {
	s, err := Open(Options{Model: "opt-125m", Device: "cuda", Engine: engine.DefaultConfig(), Observers: []engine.Observer{obs}, DetachCollector: detach})
	if err != nil {
		t.Skipf("no CUDA device: %v", err)
	}
	return s
}

func benchLoop(t *testing.T, s *Session) {
	w, _ := workloads.Lookup("bench")
	if err := s.Start(w); err != nil {
		t.Fatal(err)
	}
}

func TestGPULiveRateMatchesCount(t *testing.T) {
	c := &tokenCounter{steps: map[int][]time.Duration{}}
	s := openCUDA(t, false, c)
	defer s.Close()
	benchLoop(t, s)
	time.Sleep(*gpuSeconds)
	m := s.Frame().Metrics
	s.StopLoad()
	truth := c.between(m.WindowEnd.Add(-m.Window), m.WindowEnd)
	want := float64(truth) / m.Window.Seconds()
	rel := math.Abs(m.OutputTPS-want) / want
	t.Logf("GPU live output tok/s %.0f over %s; counted %d tokens = %.0f tok/s; difference %.2f%% (card: %s)",
		m.OutputTPS, m.Window, truth, want, 100*rel, s.Device().Name)
	if rel > 0.02 {
		t.Errorf("the live rate is off by %.2f%% (more than 2%%)", 100*rel)
	}
}

func TestGPUCollectorOverhead(t *testing.T) {
	var med [2]time.Duration
	var batch [2]int
	for i, detach := range []bool{true, false} {
		c := &tokenCounter{steps: map[int][]time.Duration{}}
		s := openCUDA(t, detach, c)
		benchLoop(t, s)
		time.Sleep(*gpuSeconds)
		s.StopLoad()
		var n int
		batch[i], med[i], n = c.medianStep()
		s.Close()
		t.Logf("GPU collector attached=%v: median decode step %s at batch %d (%d steps)", !detach, med[i], batch[i], n)
	}
	if batch[0] != batch[1] || med[0] == 0 {
		t.Fatalf("batches differ (%d vs %d) or no steps", batch[0], batch[1])
	}
	rel := float64(med[1])/float64(med[0]) - 1
	t.Logf("GPU step time with the collector / without: %+.2f%%", 100*rel)
	if rel > 0.02 {
		t.Errorf("the collector costs %.2f%% of a step (more than 2%%)", 100*rel)
	}
}
