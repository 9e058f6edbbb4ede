package engine

import (
	"context"
	"sync"
	"testing"
	"time"
)

type countingObserver struct {
	mu       sync.Mutex
	steps    int
	finished int
	configs  []string
}

func (o *countingObserver) OnStep(*StepEvent) { o.mu.Lock(); o.steps++; o.mu.Unlock() }
func (o *countingObserver) OnRequest(ev *RequestEvent) {
	if ev.Kind == EvFinished {
		o.mu.Lock()
		o.finished++
		o.mu.Unlock()
	}
}
func (o *countingObserver) OnConfig(ev *ConfigEvent) {
	o.mu.Lock()
	o.configs = append(o.configs, ev.What)
	o.mu.Unlock()
}

// Commands from other goroutines while the loop runs: nothing is lost and
// the tokens are those of a plain run.
func TestRunLoopCommandsLoseNothing(t *testing.T) {
	reqs := randomRequests(9, 30, 30, 25)
	cfg := DefaultConfig()
	want := run(t, newTestEngine(t, cfg, 1<<30), clone(reqs))

	e := newTestEngine(t, cfg, 1<<30)
	obs := &countingObserver{}
	e.obs = append(e.obs, obs)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()

	var got []Result
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		res, err := e.Generate(context.Background(), clone(reqs))
		if err != nil {
			t.Error(err)
		}
		got = res
	}()
	bg := context.Background()
	must := func(err error) {
		if err != nil {
			t.Error(err)
		}
	}
	must(e.SetMaxNumSeqs(bg, 3))
	must(e.SetPaused(bg, true))
	time.Sleep(5 * time.Millisecond)
	must(e.SetPaused(bg, false))
	c := e.Status().Config
	c.GPUMemoryUtilization, c.BlockSize = 0.5, 8 // rebuilds the KV pool mid-run
	must(e.Reconfigure(bg, c, "kv rebuild"))
	must(e.SetMaxNumSeqs(bg, 300)) // larger than the workspace: rebuild too
	if err := (&Config{}).Validate(); err == nil {
		t.Fatal("zero config validated")
	}
	if err := e.Reconfigure(bg, Config{}, "bad"); err == nil {
		t.Fatal("invalid config accepted")
	}
	wg.Wait()
	sameOutputs(t, "loop with commands", want, outputs(t, got))
	if st := e.Status(); st.Config.BlockSize != 8 || st.Config.MaxNumSeqs != 300 || st.State != StateRunning {
		t.Fatalf("status %+v", st.Config)
	}
	obs.mu.Lock()
	if obs.finished != len(reqs) || len(obs.configs) != 3 {
		t.Fatalf("observer saw %d finished, configs %v", obs.finished, obs.configs)
	}
	obs.mu.Unlock()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := e.Status(); st.State != StateStopped {
		t.Fatalf("state %q after stop", st.State)
	}
}

// Stopping with work queued finishes every waiter as aborted: nobody hangs.
func TestStopAbortsWaiters(t *testing.T) {
	e := newTestEngine(t, DefaultConfig(), 1<<30)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	if err := e.SetPaused(ctx, true); err != nil {
		t.Fatal(err)
	}
	res := make(chan []Result, 1)
	go func() {
		r, _ := e.Generate(context.Background(), randomRequests(10, 5, 10, 10))
		res <- r
	}()
	// Stop once the requests wait in the (paused) engine, not after a time
	// that a loaded machine may spend before they get there.
	for deadline := time.Now().Add(30 * time.Second); ; {
		var n int
		if err := e.Exec(ctx, func() { n = e.sched.NumWaiting() }); err != nil {
			t.Fatal(err)
		}
		if n == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 5 requests waiting", n)
		}
		time.Sleep(time.Millisecond)
	}
	e.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case r := <-res:
		if len(r) != 5 {
			t.Fatalf("%d results for 5 requests", len(r))
		}
		for _, x := range r {
			if x.Finish != FinishAborted {
				t.Fatalf("request %s: %v, want aborted", x.ID, x.Finish)
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Generate hung after Stop")
	}
}

// Commands that arrive while the engine is busy all apply before the next
// step: twenty concurrent submissions cost a step or two, not twenty.
func TestPendingCommandsApplyBeforeTheNextStep(t *testing.T) {
	e := newTestEngine(t, DefaultConfig(), 1<<30)
	obs := &countingObserver{}
	e.obs = append(e.obs, obs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.Run(ctx)
	busy := randomRequests(30, 1, 5, 1)[0]
	busy.Params.MaxTokens = 200 // keeps the engine stepping throughout
	if err := e.Submit(ctx, []*Request{busy}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	// Hold the engine between steps until all twenty commands are queued,
	// so they arrive together whatever the machine's load.
	hold, held := make(chan struct{}), make(chan struct{})
	go e.Exec(ctx, func() { close(held); <-hold })
	<-held
	obs.mu.Lock()
	before := obs.steps
	obs.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range randomRequests(31, 20, 5, 5) {
		wg.Add(1)
		go func() { defer wg.Done(); e.Submit(ctx, []*Request{r}) }()
	}
	for len(e.cmds) < 20 {
		time.Sleep(time.Millisecond)
	}
	// A probe queued behind the twenty reads the step count when the
	// engine reaches it: commands apply in order, so the twenty applied by
	// then, and the count says how many steps that took.
	probe := make(chan int, 1)
	go e.Exec(ctx, func() { obs.mu.Lock(); probe <- obs.steps; obs.mu.Unlock() })
	for len(e.cmds) < 21 {
		time.Sleep(time.Millisecond)
	}
	close(hold)
	wg.Wait()
	steps := <-probe - before
	if steps > 1 {
		t.Fatalf("20 concurrent submissions took %d steps to apply", steps)
	}
	t.Logf("20 concurrent submissions applied within %d steps", steps)
}
