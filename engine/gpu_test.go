package engine

import (
	"fmt"
	"runtime"
	"testing"

	"benchtop/engine/model"
	"benchtop/kernels"
	"benchtop/kernels/cpu"
	"benchtop/kernels/cuda"
)

// gpuEngine opens the GPU on the calling goroutine (locked to its thread):
// every call of the test must stay on it, so these tests use no subtests.
func gpuEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	runtime.LockOSThread()
	be, err := cuda.Open()
	if err != nil {
		runtime.UnlockOSThread()
		t.Skipf("no GPU: %v", err)
	}
	t.Cleanup(func() { be.Close(); runtime.UnlockOSThread() })
	return tinyEngine(t, be, cfg)
}

// cpuTiny is the reference: fp16-rounded weights, like the GPU's.
func cpuTiny(t *testing.T, cfg Config) *Engine { return tinyEngine(t, cpu.New(2<<30), cfg) }

func tinyEngine(t *testing.T, be kernels.Backend, cfg Config) *Engine {
	t.Helper()
	m, err := model.Open("tiny", be, model.Options{DType: "float16", Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(be, m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func tinyRequests(n int) []*Request {
	reqs := randomRequests(21, n, 60, 32)
	for _, r := range reqs {
		for i := range r.Prompt {
			r.Prompt[i] = r.Prompt[i]*97 + 3 // spread over the 50k vocabulary
		}
	}
	return reqs
}

// agree compares GPU greedy tokens with the CPU's. The GPU computes in fp16
// (or bf16) and the CPU in fp32, so the two may part at a near-tie: where
// they part, the CPU's top two logits at that prefix must be within nearTie.
// agree checks that every request whose GPU tokens part from the CPU's parts
// at a near-tie (the CPU's logits of the two tokens within nearTie), and that
// at most maxParted requests part at all.
func agree(t *testing.T, ref *Engine, want, got map[string][]int32, reqs []*Request, nearTie float32, maxParted int) {
	t.Helper()
	ties := 0
	for _, r := range reqs {
		w, g := want[r.ID], got[r.ID]
		if len(w) != len(g) {
			t.Fatalf("%s: %d tokens on the CPU, %d on the GPU", r.ID, len(w), len(g))
		}
		for i := range w {
			if w[i] == g[i] {
				continue
			}
			prefix := append(append([]int32(nil), r.Prompt...), w[:i]...)
			logits, err := ref.PromptLogits(prefix)
			if err != nil {
				t.Fatal(err)
			}
			a, b := logits[w[i]], logits[g[i]]
			if a-b > nearTie {
				t.Fatalf("%s token %d: CPU %d (logit %.4f), GPU %d (logit %.4f): not a near-tie", r.ID, i, w[i], a, g[i], b)
			}
			ties++
			break
		}
	}
	t.Logf("%d requests, %d parted at a near-tie", len(reqs), ties)
	if ties > maxParted {
		t.Fatalf("%d of %d requests parted: more than near-ties explain", ties, len(reqs))
	}
}

func TestCUDAGreedyMatchesCPU(t *testing.T) {
	reqs := tinyRequests(24)
	ref := cpuTiny(t, DefaultConfig())
	want := outputs(t, mustGen(t, ref, clone(reqs)))
	cfg := DefaultConfig()
	cfg.EnforceEager = true
	cfg.GPUMemoryUtilization = 0.3
	g := gpuEngine(t, cfg)
	agree(t, ref, want, outputs(t, mustGen(t, g, clone(reqs))), reqs, 0.02, len(reqs)/4)
	cfg.EnforceEager = false // the same engine, now replaying decode graphs
	if err := g.reconfigure(cfg, "graphs"); err != nil {
		t.Fatal(err)
	}
	agree(t, ref, want, outputs(t, mustGen(t, g, clone(reqs))), reqs, 0.02, len(reqs)/4)
}

// The same tokens under chunked prefill and under preemption in a pool of
// 40 blocks, on one GPU. The tiny pool's gpu_memory_utilization is worked
// out from the memory in use outside the pool, so the test wants the card
// to itself: another process allocating meanwhile leaves it no KV memory.
func TestCUDASchedulingGivesSameTokens(t *testing.T) {
	reqs := tinyRequests(12)
	cfg := DefaultConfig()
	cfg.GPUMemoryUtilization = 0.3
	base := gpuEngine(t, cfg)
	want := outputs(t, mustGen(t, base, clone(reqs)))
	// Chunked prefill and a pool small enough to preempt, on the same GPU.
	c := cfg
	c.MaxNumSeqs, c.MaxNumBatchedTokens, c.BlockSize = 5, 9, 4
	if err := base.reconfigure(c, "chunked"); err != nil {
		t.Fatal(err)
	}
	got := outputs(t, mustGen(t, base, clone(reqs)))
	sameOutputs(t, "GPU chunked prefill", want, got)
	plan := base.plan
	// The budget was util·total − (memory used outside the pool); keep 40 blocks of it.
	outside := int64(c.GPUMemoryUtilization*float64(plan.TotalBytes)) - plan.KVBytes
	c.GPUMemoryUtilization = float64(outside+40*plan.BytesPerBlock+plan.BytesPerBlock/2) / float64(plan.TotalBytes)
	if err := base.reconfigure(c, "tiny pool"); err != nil {
		t.Fatal(err)
	}
	preempts := 0
	ch := make(chan Result, len(reqs))
	base.add(clone(reqs), ch)
	for base.sched.HasWork() {
		ev, err := base.Step()
		if err != nil {
			t.Fatal(err)
		}
		if ev != nil {
			preempts += ev.Preemptions
		}
	}
	res := make([]Result, 0, len(reqs))
	for range reqs {
		res = append(res, <-ch)
	}
	sameOutputs(t, fmt.Sprintf("GPU with %d blocks (%d preemptions)", base.blocks.NumBlocks(), preempts), want, outputs(t, res))
	t.Logf("pool of %d blocks, %d preemptions", base.blocks.NumBlocks(), preempts)
}

func mustGen(t *testing.T, e *Engine, reqs []*Request) []Result {
	t.Helper()
	res, err := e.GenerateSync(reqs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestChaosGPU is TestChaos on the CUDA backend (tiny model, fp16): pool
// rebuilds, block sizes, budgets and batch caps change under load, with
// CUDA graphs captured anew on each rebuild. Outputs are checked for their
// length (fp16 GEMMs of other shapes may part greedy tokens at near-ties).
func TestChaosGPU(t *testing.T) {
	base := DefaultConfig()
	base.BlockSize, base.MaxNumSeqs, base.MaxNumBatchedTokens = 8, 16, 64
	e := gpuEngine(t, base)
	runChaos(t, e, chaosTemplates(), nil, []float64{0.02, 0.05, 0.1, 0.3})
}
