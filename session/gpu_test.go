package session

import (
	"flag"
	"math"
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

// tokenCounter is the truth: every output token's time.
type tokenCounter struct {
	mu     sync.Mutex
	tokens []time.Time
}

func (c *tokenCounter) OnRequest(ev *engine.RequestEvent) {
	if ev.Kind == engine.EvToken || ev.Kind == engine.EvFirstToken {
		c.mu.Lock()
		c.tokens = append(c.tokens, ev.Time)
		c.mu.Unlock()
	}
}

// OnRequests takes a step's tokens under one lock (engine.BatchObserver).
func (c *tokenCounter) OnRequests(evs []engine.RequestEvent) {
	c.mu.Lock()
	for i := range evs {
		c.tokens = append(c.tokens, evs[i].Time)
	}
	c.mu.Unlock()
}

func (c *tokenCounter) OnStep(*engine.StepEvent) {}

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

func openCUDA(t *testing.T, detach bool, obs ...engine.Observer) *Session {
	s, err := Open(Options{Model: "opt-125m", Device: "cuda", Engine: engine.DefaultConfig(), Observers: obs, DetachCollector: detach})
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
	c := &tokenCounter{}
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

// TestGPUCollectorOverhead measures what the collector costs the engine,
// like for like (overhead_test.go): one session and one warm engine on the
// closed-loop bench workload, the collector's observer switched off and on
// in three pairs of alternating rounds of gpu-seconds/2 each. Each round
// logs the median pure decode step at its most common batch size (host
// time, schedule → sample, with its phases) and the median period (one
// step's start to the next's, which adds the hand-off and whatever else
// the engine goroutine does between steps). Both medians over the pairs of
// attached/detached − 1 must be within 2%.
func TestGPUCollectorOverhead(t *testing.T) {
	log, gate := &stepLog{}, &collectorGate{}
	s := openCUDA(t, true, log, gate)
	defer s.Close()
	gate.attach(s.stats.observer(0))
	benchLoop(t, s)
	time.Sleep(time.Second) // the first batches' prefills, the clients' start
	res := measureOverhead(t, gate, log, 3, 500*time.Millisecond, max(time.Second, *gpuSeconds/2))
	s.StopLoad()
	t.Logf("GPU collector cost (card: %s): step %+.2f%%, period %+.2f%% (medians of 3 pairs of rounds)", s.Device().Name, 100*res.medStep, 100*res.medPeriod)
	if res.empty || res.batchesDiffer {
		t.Fatalf("a round ran no pure decode step, or the rounds of a pair ran different batch sizes (see the rounds above)")
	}
	if res.medStep > 0.02 {
		t.Errorf("the collector costs %.2f%% of a step (more than 2%%)", 100*res.medStep)
	}
	if res.medPeriod > 0.02 {
		t.Errorf("the collector costs %.2f%% of a step's period (more than 2%%)", 100*res.medPeriod)
	}
}
