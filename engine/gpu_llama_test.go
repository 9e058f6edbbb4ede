package engine

import (
	"runtime"
	"testing"

	"benchtop/engine/model"
	"benchtop/kernels"
	"benchtop/kernels/cpu"
	"benchtop/kernels/cuda"
)

// llamaOn builds an engine of mc with scaled synthetic weights of dtype dt
// on be (the CPU reference rounds its weights to dt too).
func llamaOn(t *testing.T, be kernels.Backend, mc model.Config, dt kernels.DType, cfg Config) *Engine {
	t.Helper()
	m, err := model.Load(be, mc, scaledSource{model.NewSyntheticSource(mc, 13)}, dt)
	if err != nil {
		t.Fatal(err)
	}
	compute := dt
	if be.Info().ComputeDType == kernels.F32 {
		compute = kernels.F32
	}
	e, err := New(be, &model.Loaded{Model: m, Cfg: mc, DType: dt, ComputeDType: compute, Synthetic: true, Source: mc.Name}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// cudaLlamaAgrees runs 16 requests of mc on the GPU in dt, eager and from
// CUDA graphs, and compares their greedy tokens with the CPU backend's.
func cudaLlamaAgrees(t *testing.T, mc model.Config, dt kernels.DType, nearTie float32) {
	// bf16 activations keep 8 bits of mantissa: on a tiny random model, whose
	// logits are flat, near-ties are common, so more requests may part (each
	// parting is still checked to be a near-tie). Seen on an H200: 5 of 16.
	maxParted := 16 / 4
	if dt == kernels.BF16 {
		maxParted = 16 / 2
	}
	reqs := randomRequests(41, 16, 60, 24)
	for _, r := range reqs {
		for i := range r.Prompt {
			r.Prompt[i] %= int32(mc.VocabSize)
		}
	}
	runtime.LockOSThread()
	be, err := cuda.Open()
	if err != nil {
		runtime.UnlockOSThread()
		t.Skipf("no GPU: %v", err)
	}
	t.Cleanup(func() { be.Close(); runtime.UnlockOSThread() })
	ref := llamaOn(t, cpu.New(256<<20), mc, dt, DefaultConfig())
	want := outputs(t, mustGen(t, ref, clone(reqs)))
	cfg := DefaultConfig()
	cfg.EnforceEager, cfg.GPUMemoryUtilization = true, 0.3
	g := llamaOn(t, be, mc, dt, cfg)
	agree(t, ref, want, outputs(t, mustGen(t, g, clone(reqs))), reqs, nearTie, maxParted)
	cfg.EnforceEager = false
	if err := g.reconfigure(cfg, "graphs"); err != nil {
		t.Fatal(err)
	}
	agree(t, ref, want, outputs(t, mustGen(t, g, clone(reqs))), reqs, nearTie, maxParted)
}

// Multi-head, head size 32, fp16: the model runs on the attention kernel of
// main as it is (the scale is folded into Q, so Attention gets Scale 1).
func TestCUDALlamaMHAFP16MatchesCPU(t *testing.T) {
	mc := llamaTestConfig("tiny-llama")
	mc.NumHeads, mc.NumKVHeads, mc.HeadDimension = 2, 2, 32
	cudaLlamaAgrees(t, mc, kernels.F16, 0.05)
}

// Grouped-query attention, head size 16, bf16 (tiny-llama as it is): needs
// the GQA/bf16 attention kernel.
func TestCUDALlamaGQABF16MatchesCPU(t *testing.T) {
	cudaLlamaAgrees(t, llamaTestConfig("tiny-llama"), kernels.BF16, 0.15)
}

// Qwen3's q/k norms, head size 32 over hidden 64, grouped KV heads, an
// untied head, fp16 and bf16: needs the GQA attention kernel.
func TestCUDAQwen3MatchesCPU(t *testing.T) {
	cudaLlamaAgrees(t, llamaTestConfig("tiny-qwen3"), kernels.F16, 0.05)
}

func TestCUDAQwen3BF16MatchesCPU(t *testing.T) {
	cudaLlamaAgrees(t, llamaTestConfig("tiny-qwen3"), kernels.BF16, 0.15)
}
