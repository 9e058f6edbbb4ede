package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// Lowering max_num_seqs mid-run caps the very next step: the newest running
// sequences are preempted (recompute, counted and emitted), occupancy never
// passes 100%, raising it admits more again, and the tokens are those of a
// run that never changed it.
func TestMaxNumSeqsCapsEveryStep(t *testing.T) {
	reqs := randomRequests(21, 40, 20, 40)
	cfg := DefaultConfig()
	want := run(t, newTestEngine(t, cfg, 1<<30), clone(reqs))

	e := newTestEngine(t, cfg, 1<<30)
	obs := &eventLog{}
	e.obs = append(e.obs, obs)
	ch := make(chan Result, len(reqs))
	e.add(clone(reqs), ch)
	schedule := map[int]int{3: 10, 8: 2, 15: 1, 25: 30, 32: 5, 40: 256, 45: 3}
	peak, capped := 0, 0
	for step := 0; e.HasWork(); step++ {
		if n, ok := schedule[step]; ok {
			if err := e.reconfigure(withSeqs(e.cfg, n), "max_num_seqs"); err != nil {
				t.Fatal(err)
			}
		}
		ev, err := e.Step()
		if err != nil {
			t.Fatal(err)
		}
		if step > 100000 {
			t.Fatal("no progress")
		}
		if ev == nil {
			continue
		}
		if ev.NumSeqs > ev.MaxNumSeqs || ev.NumRunning > ev.MaxNumSeqs || ev.MaxNumSeqs != e.cfg.MaxNumSeqs {
			t.Fatalf("step %d: %d sequences, %d running, max_num_seqs %d (config %d)", step, ev.NumSeqs, ev.NumRunning, ev.MaxNumSeqs, e.cfg.MaxNumSeqs)
		}
		peak = max(peak, ev.NumSeqs)
		capped += ev.Preemptions
	}
	res := make([]Result, 0, len(reqs))
	for range reqs {
		res = append(res, <-ch)
	}
	sameOutputs(t, "max_num_seqs changed mid-run", want, outputs(t, res))
	if capped == 0 || obs.count(EvPreempted) != capped {
		t.Fatalf("lowering max_num_seqs preempted %d sequences in steps, %d preemption events", capped, obs.count(EvPreempted))
	}
	if peak < 30 {
		t.Fatalf("raising max_num_seqs again never ran more than %d sequences", peak)
	}
	t.Logf("%d preemptions from lowering max_num_seqs; peak batch %d", capped, peak)
}

func withSeqs(c Config, n int) Config {
	c.MaxNumSeqs = n
	c.MaxNumBatchedTokens = max(c.MaxNumBatchedTokens, n)
	return c
}

// With chunked prefill off, a prompt longer than the step budget is
// rejected with its reason instead of waiting forever.
func TestUnchunkablePromptIsRejected(t *testing.T) {
	cfg := DefaultConfig()
	cfg.EnableChunkedPrefill, cfg.MaxNumSeqs, cfg.MaxNumBatchedTokens = false, 4, 16
	e := newTestEngine(t, cfg, 1<<30)
	long := &Request{ID: "long", Prompt: make([]int32, 17), Params: SamplingParams{MaxTokens: 3, IgnoreEOS: true}}
	fits := &Request{ID: "fits", Prompt: make([]int32, 16), Params: SamplingParams{MaxTokens: 3, IgnoreEOS: true}}
	res, err := e.GenerateSync([]*Request{long, fits})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Finish != FinishRejected || !strings.Contains(res[0].Err, "max_num_batched_tokens 16") {
		t.Fatalf("long prompt: %v %q, want rejected naming the budget", res[0].Finish, res[0].Err)
	}
	if res[1].Finish != FinishLength || len(res[1].Output) != 3 {
		t.Fatalf("fitting prompt: %v, %d tokens", res[1].Finish, len(res[1].Output))
	}
}

// With chunked prefill off, sequences preempted after they grew past the
// step budget are recomputed in chunks: every request finishes.
func TestGrownPreemptedSequenceRunsWithoutChunkedPrefill(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BlockSize, cfg.EnableChunkedPrefill, cfg.MaxNumSeqs, cfg.MaxNumBatchedTokens = 4, false, 8, 8
	reqs := randomRequests(22, 8, 8, 40)
	for _, r := range reqs {
		r.Params.MaxTokens = 30 + len(r.Prompt) // every sequence grows past 8 tokens
	}
	want := run(t, newTestEngine(t, DefaultConfig(), 1<<30), clone(reqs))
	e := newTestEngine(t, cfg, poolBytes(t, cfg, 24)) // 96 tokens: preemption certain
	obs := &eventLog{}
	e.obs = append(e.obs, obs)
	got := run(t, e, clone(reqs))
	sameOutputs(t, "grown sequences recomputed without chunked prefill", want, got)
	if obs.count(EvPreempted) == 0 {
		t.Fatal("nothing was preempted: the test does not test")
	}
}

// The scheduler splits a sequence that can never run whole even with
// chunked prefill off.
func TestSchedulerChunksWhatCanNeverRunWhole(t *testing.T) {
	cfg := DefaultConfig()
	cfg.EnableChunkedPrefill, cfg.MaxNumSeqs, cfg.MaxNumBatchedTokens = false, 4, 8
	s := NewScheduler(&cfg, NewBlockManager(100, 4))
	seq := &Sequence{Req: &Request{ID: "grown", Params: SamplingParams{MaxTokens: 40}}, Tokens: make([]int32, 20), NumPrompt: 5}
	s.Add(seq)
	out, err := s.Schedule()
	if err != nil || len(out.Seqs) != 1 || out.Seqs[0].NumTokens != 8 {
		t.Fatalf("scheduled %+v (%v), want 8 of the 20 tokens", out.Seqs, err)
	}
}

// A step that can schedule nothing while a sequence waits finishes that
// sequence with its reason rather than spinning (the guard behind the
// admission rules: here the rules are bypassed).
func TestStuckQueueHeadIsFinishedNotSpun(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BlockSize = 4
	e := newTestEngine(t, cfg, poolBytes(t, cfg, 8))
	ch := make(chan Result, 1)
	seq := &Sequence{Req: &Request{ID: "huge", Params: SamplingParams{MaxTokens: 4}}, Tokens: make([]int32, 100), NumPrompt: 100}
	e.waiters[seq] = ch
	e.sched.Add(seq) // needs 25 blocks of a pool of 8
	for i := 0; i < 3 && e.HasWork(); i++ {
		if _, err := e.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if e.HasWork() {
		t.Fatal("the unschedulable sequence is still queued")
	}
	if r := <-ch; r.Finish != FinishRejected || !strings.Contains(r.Err, "could not be scheduled") {
		t.Fatalf("%v %q", r.Finish, r.Err)
	}
}

// A reconfigure that would leave a queued request unable to finish is
// refused, names the request, and keeps the previous configuration; one
// that leaves every request able to run is applied.
func TestReconfigureNeverStrandsARequest(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BlockSize = 4
	e := newTestEngine(t, cfg, poolBytes(t, cfg, 64))
	ch := make(chan Result, 2)
	e.add([]*Request{
		{ID: "long", Prompt: make([]int32, 100), Params: SamplingParams{MaxTokens: 100, IgnoreEOS: true}},
		{ID: "short", Prompt: make([]int32, 5), Params: SamplingParams{MaxTokens: 5, IgnoreEOS: true}},
	}, ch)
	before := e.plan.NumBlocks
	for _, change := range []struct {
		what string
		f    func(*Config)
	}{
		{"max_model_len=50", func(c *Config) { c.MaxModelLen = 50 }},
		{"gpu_memory_utilization=0.895", func(c *Config) { c.GPUMemoryUtilization = 0.895 }},
		{"block_size=64, gpu_memory_utilization=0.895", func(c *Config) { c.BlockSize, c.GPUMemoryUtilization = 64, 0.895 }},
	} {
		c := e.cfg
		change.f(&c)
		err := e.reconfigure(c, change.what)
		if !errors.Is(err, ErrWouldStrand) || !strings.Contains(err.Error(), "request long") {
			t.Fatalf("%s: %v, want a refusal naming request long", change.what, err)
		}
		if e.cfg != cfg || e.plan.NumBlocks != before {
			t.Fatalf("%s: config %+v and %d blocks after a refusal, want %+v and %d", change.what, e.cfg, e.plan.NumBlocks, cfg, before)
		}
	}
	// Chunked prefill off with a prompt over the new budget queued: it runs
	// split (it was admitted), so the change is applied.
	c := e.cfg
	c.EnableChunkedPrefill, c.MaxNumSeqs, c.MaxNumBatchedTokens = false, 4, 32
	if err := e.reconfigure(c, "no chunking"); err != nil {
		t.Fatal(err)
	}
	for e.HasWork() {
		if _, err := e.Step(); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if r := <-ch; r.Finish != FinishLength || len(r.Output) != r.MaxTokens {
			t.Fatalf("%s: %v %q, %d of %d tokens", r.ID, r.Finish, r.Err, len(r.Output), r.MaxTokens)
		}
	}
}

// Output cut at max_model_len says so: the reason, the tokens asked and
// the tokens given, on the result and on the finish event.
func TestMaxModelLenCutIsStated(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxModelLen = 40
	e := newTestEngine(t, cfg, 1<<30)
	obs := &eventLog{}
	e.obs = append(e.obs, obs)
	res, err := e.GenerateSync([]*Request{{ID: "cut", Prompt: make([]int32, 18), Params: SamplingParams{MaxTokens: 50, IgnoreEOS: true}}})
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if r.Finish != FinishMaxModelLen || len(r.Output) != 22 || r.MaxTokens != 50 || !strings.Contains(r.Err, "22 of 50") {
		t.Fatalf("finish %v, %d tokens of %d asked, reason %q", r.Finish, len(r.Output), r.MaxTokens, r.Err)
	}
	fin := obs.last(EvFinished)
	if fin == nil || fin.Finish != FinishMaxModelLen || fin.MaxTokens != 50 || fin.OutputTokens != 22 || fin.Err != r.Err {
		t.Fatalf("finish event %+v", fin)
	}
}

// Stopped or failed, every waiter gets its request back as aborted with a
// reason in words.
func TestAbortCarriesItsReason(t *testing.T) {
	e := newTestEngine(t, DefaultConfig(), 1<<30)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	if err := e.SetPaused(ctx, true); err != nil {
		t.Fatal(err)
	}
	ch := make(chan []Result, 1)
	go func() { r, _ := e.Generate(context.Background(), randomRequests(23, 3, 5, 5)); ch <- r }()
	for e.Status() != nil {
		var n int
		e.Exec(ctx, func() { n = e.sched.NumWaiting() })
		if n == 3 {
			break
		}
	}
	cancel()
	<-done
	for _, r := range <-ch {
		if r.Finish != FinishAborted || r.Err == "" {
			t.Fatalf("%s: %v %q", r.ID, r.Finish, r.Err)
		}
	}
}
