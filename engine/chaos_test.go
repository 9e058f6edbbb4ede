package engine

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

var chaosDuration = flag.Duration("chaos.duration", 2*time.Second, "how long TestChaos submits requests and changes settings (e.g. -chaos.duration=10m)")

// chaosObserver checks every step against the settings and counts each
// request's finish events.
type chaosObserver struct {
	mu        sync.Mutex
	finished  map[string]int
	violation string
	steps     int
	minBlocks int
	maxBlocks int
}

func (o *chaosObserver) OnStep(ev *StepEvent) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.steps++
	if o.minBlocks == 0 || ev.KVBlocksTotal < o.minBlocks {
		o.minBlocks = ev.KVBlocksTotal
	}
	o.maxBlocks = max(o.maxBlocks, ev.KVBlocksTotal)
	switch {
	case ev.NumSeqs > ev.MaxNumSeqs || ev.NumRunning > ev.MaxNumSeqs:
		o.violation = fmt.Sprintf("step %d: %d sequences (%d running) over max_num_seqs %d", ev.Index, ev.NumSeqs, ev.NumRunning, ev.MaxNumSeqs)
	case ev.KVBlocksUsed > ev.KVBlocksTotal:
		o.violation = fmt.Sprintf("step %d: %d of %d blocks used", ev.Index, ev.KVBlocksUsed, ev.KVBlocksTotal)
	}
}

func (o *chaosObserver) OnRequest(ev *RequestEvent) {
	if ev.Kind != EvFinished {
		return
	}
	o.mu.Lock()
	o.finished[ev.ID]++
	if ev.Finish != FinishLength && ev.Err == "" {
		o.violation = fmt.Sprintf("request %s finished %v without a reason", ev.ID, ev.Finish)
	}
	o.mu.Unlock()
}

// TestChaos submits requests from several clients while another changes
// max_num_seqs, the KV pool (gpu_memory_utilization), the block size, the
// step budget and chunked prefill, and pauses and resumes, all at random.
// Every request finishes exactly once: with exactly the tokens a quiet
// engine gives it, or rejected with the reason — only those too long for
// the model, or sent while chunked prefill was off and the step budget below
// their prompt. No step exceeds max_num_seqs. Run it longer with
// -chaos.duration=10m.
func TestChaos(t *testing.T) {
	base := DefaultConfig()
	base.BlockSize, base.MaxNumSeqs, base.MaxNumBatchedTokens = 8, 16, 64
	templates := chaosTemplates()
	want := run(t, newTestEngine(t, base, 1<<30), clone(templates))
	e := newTestEngine(t, base, poolBytes(t, base, 100))
	runChaos(t, e, templates, want, []float64{0.5, 0.7, 0.8, 0.85, 0.9, 0.95})
}

// chaosTemplates are the requests chaos clients send copies of: short
// greedy and seeded sampled ones, and a few long ones a small pool cannot
// hold.
func chaosTemplates() []*Request {
	templates := randomRequests(40, 24, 40, 40)
	for _, r := range randomRequests(41, 3, 40, 1) {
		r.ID, r.Params.MaxTokens = "big-"+r.ID, 210
		templates = append(templates, r)
	}
	for i, r := range templates {
		if i%3 == 0 {
			r.Params.Temperature, r.Params.TopP, r.Params.TopK, r.Params.Seed = 0.8, 0.9, 20, uint64(1000+i)
		}
	}
	return templates
}

// runChaos runs e's loop on the calling goroutine (a GPU engine's thread)
// for -chaos.duration while clients send copies of templates and a chaos
// goroutine changes settings, choosing gpu_memory_utilization among utils;
// then it checks every request's outcome: with want, the exact tokens,
// else the asked length.
func runChaos(t *testing.T, e *Engine, templates []*Request, want map[string][]int32, utils []float64) {
	obs := &chaosObserver{finished: map[string]int{}}
	e.obs = append(e.obs, obs)
	maxLen := e.maxModelLen
	deadline := time.Now().Add(*chaosDuration)
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	sent, unfit := 0, 0
	var clients sync.WaitGroup
	for c := range 6 {
		clients.Add(1)
		go func() {
			defer clients.Done()
			r := rand.New(rand.NewPCG(uint64(c), 77))
			for n := 0; time.Now().Before(deadline); n++ {
				var reqs []*Request
				template := map[string]*Request{}
				for k := range 1 + r.IntN(4) {
					tm := templates[r.IntN(len(templates))]
					req := *tm
					req.ID = fmt.Sprintf("c%d-%d-%d", c, n, k)
					if r.IntN(40) == 0 { // too long for the model: rejected at admission
						req.Prompt = make([]int32, maxLen+44)
					}
					template[req.ID] = tm
					reqs = append(reqs, &req)
				}
				res, err := e.Generate(context.Background(), reqs)
				if err != nil {
					fail("generate: %v", err)
					return
				}
				mu.Lock()
				sent += len(reqs)
				mu.Unlock()
				for i, got := range res {
					tm, req := template[got.ID], reqs[i]
					switch {
					case got.ID != req.ID:
						fail("result %s for request %s", got.ID, req.ID)
					case len(req.Prompt) > maxLen:
						mu.Lock()
						unfit++
						mu.Unlock()
						if got.Finish != FinishRejected || !strings.Contains(got.Err, "max_model_len") {
							fail("%s (too long): %v %q", got.ID, got.Finish, got.Err)
						}
					case got.Finish == FinishRejected && len(req.Prompt) > 16 && strings.Contains(got.Err, "chunked prefill is off"):
						mu.Lock()
						unfit++ // sent while chunked prefill was off and the budget below its prompt
						mu.Unlock()
					case got.Finish != FinishLength || len(got.Output) != tm.Params.MaxTokens:
						fail("%s (template %s): %v %q, %d tokens, want %d", got.ID, tm.ID, got.Finish, got.Err, len(got.Output), tm.Params.MaxTokens)
					case want != nil && fmt.Sprint(got.Output) != fmt.Sprint(want[tm.ID]):
						fail("%s (template %s): tokens %v, want %v", got.ID, tm.ID, got.Output, want[tm.ID])
					}
				}
			}
		}()
	}

	changes, refused := 0, 0
	chaosDone := make(chan struct{})
	go func() {
		defer close(chaosDone)
		r := rand.New(rand.NewPCG(9, 9))
		paused := false
		bg := context.Background()
		for time.Now().Before(deadline) {
			time.Sleep(time.Duration(r.IntN(20)) * time.Millisecond)
			c := e.Status().Config
			var err error
			switch r.IntN(6) {
			case 0:
				err = e.SetMaxNumSeqs(bg, []int{1, 2, 3, 5, 8, 16, 32}[r.IntN(7)])
			case 1:
				c.GPUMemoryUtilization = utils[r.IntN(len(utils))]
				err = e.Reconfigure(bg, c, "pool")
			case 2:
				c.BlockSize = []int{4, 8, 16, 32}[r.IntN(4)]
				err = e.Reconfigure(bg, c, "block size")
			case 3:
				c.MaxNumBatchedTokens = max(c.MaxNumSeqs, []int{16, 32, 64, 128}[r.IntN(4)])
				err = e.Reconfigure(bg, c, "step budget")
			case 4:
				c.EnableChunkedPrefill = !c.EnableChunkedPrefill
				err = e.Reconfigure(bg, c, "chunked prefill")
			case 5:
				paused = !paused
				err = e.SetPaused(bg, paused)
			}
			mu.Lock()
			changes++
			if err != nil {
				refused++
				if !errors.Is(err, ErrWouldStrand) && !strings.Contains(err.Error(), "no memory left for the KV cache") {
					failures = append(failures, fmt.Sprintf("change refused for an unexpected reason: %v", err))
				}
			}
			mu.Unlock()
		}
		if err := e.SetPaused(bg, false); err != nil {
			fail("resume: %v", err)
		}
		clients.Wait()
		e.Stop()
	}()
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-chaosDone
	for _, f := range failures[:min(len(failures), 10)] {
		t.Error(f)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.violation != "" {
		t.Error(obs.violation)
	}
	total := 0
	for id, n := range obs.finished {
		if n != 1 {
			t.Errorf("request %s finished %d times", id, n)
		}
		total += n
	}
	if total != sent || len(e.waiters) != 0 || e.blocks.NumUsed() != 0 {
		t.Errorf("%d requests sent, %d finished; %d waiters and %d blocks left", sent, total, len(e.waiters), e.blocks.NumUsed())
	}
	t.Logf("%d requests (%d rejected as unfit) over %d steps; %d changes, %d refused (pool of %d to %d blocks)", sent, unfit, obs.steps, changes, refused, obs.minBlocks, obs.maxBlocks)
}
