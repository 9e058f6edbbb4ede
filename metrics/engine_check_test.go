package metrics_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"benchtop/engine"
	"benchtop/engine/model"
	"benchtop/metrics"
	"benchtop/workloads"
)

var (
	checkDevice = flag.String("collector.device", "",
		"run TestCollectorOnEngine on this device (auto, cuda, cpu); by default it runs only where a GPU is usable")
	checkModel     = flag.String("collector.model", "", "its model (default opt-125m, tiny on the CPU)")
	checkAlternate = flag.Duration("collector.alternate", 16*time.Second, "how long it alternates the collector off and on to compare step times")
)

// TestCollectorOnEngine checks the collector on the real engine, driven as
// the dashboard drives it (the bench workload as a closed loop, one client
// per request): the live window's output tokens/s must equal the tokens an
// exact observer counted over the same window within 2%, and the engine's
// step time with the collector attached must be within 2% of without
// (alternating off and on every 2 s, so drift cancels). It skips without a
// GPU unless -collector.device says where to run. On the GPU machine:
//
//	bin/metrics.test -test.run CollectorOnEngine -test.v
func TestCollectorOnEngine(t *testing.T) {
	device := *checkDevice
	if device == "" {
		device = "cuda"
	}
	c := metrics.NewCollector()
	g := &gate{c: c}
	g.on.Store(true)
	tl := &tally{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	e, m, done, err := startEngine(ctx, device, *checkModel, tl, g)
	if errors.Is(err, errNoBackend) && *checkDevice == "" {
		t.Skipf("%v: run with -collector.device cpu to check on the CPU", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-done }()
	t.Logf("%s on %s", m.Source, e.Status().Device.Name)

	w, err := workloads.Lookup("bench")
	if err != nil {
		t.Fatal(err)
	}
	var tmpl []engine.Request
	for _, sp := range w.Specs(0) {
		ids, err := m.Encode(sp.Prompt)
		if err != nil {
			t.Fatal(err)
		}
		tmpl = append(tmpl, engine.Request{Prompt: ids, Params: engine.SamplingParams{MaxTokens: sp.MaxTokens, IgnoreEOS: sp.IgnoreEOS,
			Temperature: sp.Temperature, TopP: sp.TopP, TopK: sp.TopK}})
	}
	load, stopLoad := context.WithCancel(ctx)
	var clients sync.WaitGroup
	var seq atomic.Int64
	for i := range tmpl {
		clients.Add(1)
		go func() {
			defer clients.Done()
			for load.Err() == nil {
				r := tmpl[i]
				r.ID = fmt.Sprintf("check-%d", seq.Add(1))
				if _, err := e.Generate(load, []*engine.Request{&r}); err != nil {
					return
				}
			}
		}()
	}
	defer func() { stopLoad(); clients.Wait() }()

	// The live window against the exact count, after warming up and a whole
	// window of steady load.
	time.Sleep(3*time.Second + 10*time.Second + 500*time.Millisecond)
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	s := c.Latest()
	time.Sleep(100 * time.Millisecond) // the engine hands tokens it stamped before WindowEnd to the tally at once
	lo, hi := s.WindowEnd.Add(-s.Window).UnixNano(), s.WindowEnd.UnixNano()
	counted := float64(tl.count(lo, hi)) / s.Window.Seconds()
	diff := (s.OutputTPS - counted) / counted
	verdict := pass(math.Abs(diff) <= 0.02 && s.DroppedEvents == 0)
	fmt.Printf("collector check: live output tok/s %.1f over the %v window ending %s; counted %.1f; difference %+.2f%%; %d events dropped — %s\n",
		s.OutputTPS, s.Window, s.WindowEnd.Format("15:04:05.000"), counted, 100*diff, s.DroppedEvents, verdict)
	if verdict != "PASS" {
		t.Errorf("live window %.1f tok/s, counted %.1f (%+.2f%%), %d dropped", s.OutputTPS, counted, 100*diff, s.DroppedEvents)
	}

	// Step time with the collector attached and without, alternating.
	order := []bool{false, true, true, false}
	slice := *checkAlternate / time.Duration(2*len(order))
	for round := 0; round < 2; round++ {
		for _, on := range order {
			g.on.Store(on)
			tl.phase.Store(b2p(on))
			time.Sleep(slice)
		}
	}
	tl.phase.Store(0)
	g.on.Store(true)
	off, on, batch := tl.stepTimes()
	if len(off) == 0 || len(on) == 0 {
		t.Fatalf("no decode steps of batch %d measured (%d off, %d on)", batch, len(off), len(on))
	}
	pOff, pOn := median(off), median(on)
	d := float64(pOn-pOff) / float64(pOff)
	verdict = pass(d <= 0.02)
	fmt.Printf("collector check: decode step time p50 at batch %d: %v with the collector (%d steps), %v without (%d steps); %+.2f%% — %s\n",
		batch, pOn, len(on), pOff, len(off), 100*d, verdict)
	if verdict != "PASS" {
		t.Errorf("step time with the collector %v, without %v (%+.2f%%)", pOn, pOff, 100*d)
	}
}

func pass(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func b2p(on bool) int32 {
	if on {
		return 2
	}
	return 1
}

func median(xs []time.Duration) time.Duration {
	slices.Sort(xs)
	return xs[len(xs)/2]
}

var errNoBackend = errors.New("no backend")

// startEngine opens the backend, the model (name, or opt-125m on a GPU and
// tiny on the CPU) and the engine on a device goroutine, which owns every
// device call, and runs the engine until ctx ends; done closes when it has
// shut down.
func startEngine(ctx context.Context, device, name string, obs ...engine.Observer) (*engine.Engine, *model.Loaded, <-chan struct{}, error) {
	type opened struct {
		e   *engine.Engine
		m   *model.Loaded
		err error
	}
	ready, done := make(chan opened, 1), make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		be, _, err := engine.OpenBackend(device, 1<<30)
		if err != nil {
			ready <- opened{err: fmt.Errorf("%w: %v", errNoBackend, err)}
			return
		}
		defer be.Close()
		if name == "" {
			name = "opt-125m"
			if be.Info().Backend == "cpu" {
				name = "tiny"
			}
		}
		m, err := model.Open(name, be, model.Options{Seed: 1})
		if err != nil {
			ready <- opened{err: err}
			return
		}
		defer m.Free(be)
		e, err := engine.New(be, m, engine.DefaultConfig(), obs...)
		if err != nil {
			ready <- opened{err: err}
			return
		}
		defer e.Close()
		ready <- opened{e: e, m: m}
		_ = e.Run(ctx)
	}()
	o := <-ready
	return o.e, o.m, done, o.err
}

// gate passes events to the collector while on.
type gate struct {
	on atomic.Bool
	c  *metrics.Collector
}

func (g *gate) OnStep(ev *engine.StepEvent) {
	if g.on.Load() {
		g.c.OnStep(ev)
	}
}

func (g *gate) OnRequest(ev *engine.RequestEvent) {
	if g.on.Load() {
		g.c.OnRequest(ev)
	}
}

// tally is the exact count: every output token's time and every step's
// time, on the engine goroutine (it is attached in both phases, so its own
// small cost cancels).
type tally struct {
	mu     sync.Mutex
	tokens []int64 // Unix ns
	steps  []stepSample
	phase  atomic.Int32 // 0 not measuring, 1 collector off, 2 on
}

type stepSample struct {
	phase int32
	seqs  int
	total time.Duration
}

func (tl *tally) OnRequest(ev *engine.RequestEvent) {
	if ev.Kind == engine.EvFirstToken || ev.Kind == engine.EvToken {
		tl.mu.Lock()
		tl.tokens = append(tl.tokens, ev.Time.UnixNano())
		tl.mu.Unlock()
	}
}

func (tl *tally) OnStep(ev *engine.StepEvent) {
	if p := tl.phase.Load(); p != 0 && ev.PrefillTokens == 0 && ev.DecodeTokens > 0 {
		tl.mu.Lock()
		tl.steps = append(tl.steps, stepSample{phase: p, seqs: ev.NumSeqs, total: ev.Total})
		tl.mu.Unlock()
	}
}

// count is the number of tokens stamped in [lo, hi).
func (tl *tally) count(lo, hi int64) int {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	n := 0
	for _, t := range tl.tokens {
		if t >= lo && t < hi {
			n++
		}
	}
	return n
}

// stepTimes are the pure-decode step times at the most common batch size,
// without the collector and with it.
func (tl *tally) stepTimes() (off, on []time.Duration, batch int) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	counts := map[int]int{}
	for _, s := range tl.steps {
		counts[s.seqs]++
	}
	for b, n := range counts {
		if n > counts[batch] {
			batch = b
		}
	}
	for _, s := range tl.steps {
		if s.seqs != batch {
			continue
		}
		if s.phase == 1 {
			off = append(off, s.total)
		} else {
			on = append(on, s.total)
		}
	}
	return off, on, batch
}
