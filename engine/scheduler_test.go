package engine

import (
	"testing"
)

// run drives an engine synchronously, checking block invariants every step.
func run(t *testing.T, e *Engine, reqs []*Request) map[string][]int32 {
	t.Helper()
	ch := make(chan Result, len(reqs))
	e.add(reqs, ch)
	preempts := 0
	for steps := 0; e.sched.HasWork(); steps++ {
		ev, err := e.Step()
		if err != nil {
			t.Fatal(err)
		}
		if steps > 100000 {
			t.Fatal("no progress")
		}
		used := 0
		for _, s := range e.sched.running {
			used += len(s.Blocks)
			if need := e.blocks.BlocksFor(s.NumComputed); len(s.Blocks) < need {
				t.Fatalf("sequence %s has %d blocks for %d computed tokens", s.Req.ID, len(s.Blocks), s.NumComputed)
			}
		}
		for _, s := range e.sched.waiting {
			if len(s.Blocks) != 0 || s.NumComputed != 0 {
				t.Fatalf("waiting sequence %s holds %d blocks, %d computed", s.Req.ID, len(s.Blocks), s.NumComputed)
			}
		}
		if used != e.blocks.NumUsed() || e.blocks.NumUsed()+e.blocks.NumFree() != e.blocks.NumBlocks() {
			t.Fatalf("blocks: sequences hold %d, manager says used %d free %d total %d", used, e.blocks.NumUsed(), e.blocks.NumFree(), e.blocks.NumBlocks())
		}
		if ev != nil {
			preempts += ev.Preemptions
			if ev.NumSeqs > e.cfg.MaxNumSeqs || ev.PrefillTokens+ev.DecodeTokens > e.cfg.MaxNumBatchedTokens {
				t.Fatalf("step over limits: %+v", ev)
			}
		}
	}
	if e.blocks.NumUsed() != 0 {
		t.Fatalf("%d blocks still used after every request finished", e.blocks.NumUsed())
	}
	res := make([]Result, 0, len(reqs))
	for range reqs {
		res = append(res, <-ch)
	}
	t.Logf("preemptions: %d", preempts)
	return outputs(t, res)
}

// poolBytes sizes the CPU memory so the pool has about numBlocks blocks.
func poolBytes(t *testing.T, cfg Config, numBlocks int) int64 {
	probe := newTestEngine(t, cfg, 1<<30)
	p := probe.plan
	return int64(float64(p.WeightBytes+p.ActivationBytes+int64(numBlocks)*p.BytesPerBlock+p.BytesPerBlock/2) / cfg.GPUMemoryUtilization)
}

func TestEveryRequestFinishesWithItsLength(t *testing.T) {
	cfg := DefaultConfig()
	e := newTestEngine(t, cfg, 1<<30)
	reqs := randomRequests(1, 20, 40, 30)
	out := run(t, e, clone(reqs))
	for _, r := range reqs {
		if len(out[r.ID]) != r.Params.MaxTokens {
			t.Fatalf("request %s: %d tokens, want %d", r.ID, len(out[r.ID]), r.Params.MaxTokens)
		}
	}
}

func TestPreemptionGivesSameTokens(t *testing.T) {
	reqs := randomRequests(2, 12, 30, 40)
	cfg := DefaultConfig()
	cfg.BlockSize = 4
	want := run(t, newTestEngine(t, cfg, 1<<30), clone(reqs))
	// A pool of 24 blocks (96 tokens) cannot hold these together.
	small := newTestEngine(t, cfg, poolBytes(t, cfg, 24))
	if small.blocks.NumBlocks() > 24 {
		t.Fatalf("pool has %d blocks, want at most 24", small.blocks.NumBlocks())
	}
	got := run(t, small, clone(reqs))
	sameOutputs(t, "tiny pool vs large pool", want, got)
}

func TestChunkedPrefillGivesSameTokens(t *testing.T) {
	reqs := randomRequests(3, 6, 120, 10)
	cfg := DefaultConfig()
	want := run(t, newTestEngine(t, cfg, 1<<30), clone(reqs))
	cfg.MaxNumSeqs, cfg.MaxNumBatchedTokens = 4, 7 // prompts split over many steps
	got := run(t, newTestEngine(t, cfg, 1<<30), clone(reqs))
	sameOutputs(t, "chunked vs whole prefill", want, got)
}

func TestMixedBatchGivesSameTokensAsAlone(t *testing.T) {
	reqs := randomRequests(4, 8, 50, 20)
	cfg := DefaultConfig()
	together := run(t, newTestEngine(t, cfg, 1<<30), clone(reqs))
	for _, r := range reqs {
		alone := run(t, newTestEngine(t, cfg, 1<<30), clone([]*Request{r}))
		sameOutputs(t, "alone vs batched", alone, together)
	}
}

func TestSeededSamplingSurvivesPreemption(t *testing.T) {
	reqs := randomRequests(5, 10, 20, 30)
	for i, r := range reqs {
		r.Params.Temperature, r.Params.TopP, r.Params.TopK = 0.9, 0.9, 50
		r.Params.Seed = uint64(100 + i)
	}
	cfg := DefaultConfig()
	cfg.BlockSize = 4
	want := run(t, newTestEngine(t, cfg, 1<<30), clone(reqs))
	got := run(t, newTestEngine(t, cfg, poolBytes(t, cfg, 20)), clone(reqs))
	sameOutputs(t, "seeded sampling with preemption", want, got)
}

func TestRejectsWhatCanNeverRun(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BlockSize = 4
	e := newTestEngine(t, cfg, poolBytes(t, cfg, 8))
	cases := []*Request{
		{ID: "empty", Params: SamplingParams{MaxTokens: 4}},
		{ID: "too-long-for-pool", Prompt: make([]int32, 30), Params: SamplingParams{MaxTokens: 10}},
		{ID: "bad-token", Prompt: []int32{9999}, Params: SamplingParams{MaxTokens: 4}},
		{ID: "bad-params", Prompt: []int32{5}, Params: SamplingParams{MaxTokens: 0}},
		{ID: "too-long-for-model", Prompt: make([]int32, 300), Params: SamplingParams{MaxTokens: 1}},
	}
	ch := make(chan Result, len(cases))
	e.add(cases, ch)
	for range cases {
		r := <-ch
		if r.Finish != FinishRejected || r.Err == "" {
			t.Fatalf("%s: finish %v err %q, want rejected with a reason", r.ID, r.Finish, r.Err)
		}
	}
	if e.HasWork() {
		t.Fatal("rejected requests were queued")
	}
}

func TestStopTokensAndEOS(t *testing.T) {
	cfg := DefaultConfig()
	e := newTestEngine(t, cfg, 1<<30)
	base := randomRequests(6, 1, 10, 1)[0]
	base.Params.MaxTokens = 20
	free := run(t, e, clone([]*Request{base}))[base.ID]
	stop := *base
	stop.Params.StopTokens = []int32{free[3]}
	got := run(t, e, []*Request{&stop})[base.ID]
	idx := 0
	for idx < len(free) && free[idx] != free[3] {
		idx++
	}
	if len(got) != idx+1 {
		t.Fatalf("stop token %d: got %d tokens %v, want %d (%v)", free[3], len(got), got, idx+1, free)
	}
}
