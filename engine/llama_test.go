package engine

import (
	"strings"
	"testing"

	"benchtop/engine/model"
	"benchtop/kernels"
	"benchtop/kernels/cpu"
)

// llamaTestConfig is a tiny Llama-family model over a 512-token vocabulary:
// tiny-llama's shape (grouped KV heads, llama3 rope scaling) or
// tiny-qwen3's (q/k norms, a head size that is not hidden/heads, an untied
// head).
func llamaTestConfig(preset string) model.Config {
	c := model.Presets[preset]
	c.Name, c.VocabSize, c.MaxPositions, c.BOS, c.EOS = "test-"+preset, 512, 256, 0, 1
	return c
}

func newLlamaEngine(t testing.TB, preset string, cfg Config, memBytes int64) *Engine {
	t.Helper()
	be := cpu.New(memBytes)
	mc := llamaTestConfig(preset)
	m, err := model.Load(be, mc, scaledSource{model.NewSyntheticSource(mc, 7)}, kernels.F32)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(be, &model.Loaded{Model: m, Cfg: mc, DType: kernels.F32, ComputeDType: kernels.F32, Synthetic: true, Source: preset}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// scaledSource makes synthetic weights five times larger (norm weights
// 1 ± 0.1), so greedy tokens depend on the whole context rather than
// repeating one token: a run that reads a wrong key shows.
type scaledSource struct{ *model.SyntheticSource }

func (s scaledSource) Tensor(name string) ([]float32, []int, bool, error) {
	v, shape, ok, err := s.SyntheticSource.Tensor(name)
	norm := strings.Contains(name, "norm")
	for i := range v {
		if norm {
			v[i] = 1 + (v[i]-1)*5
		} else {
			v[i] *= 5
		}
	}
	return v, shape, ok, err
}

// Chunked prefill, preemption and mixed batches give the tokens of a plain
// run on the Llama family too (whose KV rows are KV heads × head size wide
// and whose keys are rotated by position before they are cached).
func TestLlamaSchedulingGivesSameTokens(t *testing.T) {
	for _, preset := range []string{"tiny-llama", "tiny-qwen3"} {
		t.Run(preset, func(t *testing.T) {
			reqs := randomRequests(31, 10, 60, 24)
			cfg := DefaultConfig()
			cfg.BlockSize = 4
			base := newLlamaEngine(t, preset, cfg, 64<<20)
			mc := llamaTestConfig(preset)
			if want := int64(4) * mc.KVBytesPerToken(kernels.F32); base.plan.BytesPerBlock != want || base.plan.KVHeads != mc.KVHeads() {
				t.Fatalf("block of %d bytes for %d KV heads, want %d bytes for %d", base.plan.BytesPerBlock, base.plan.KVHeads, want, mc.KVHeads())
			}
			want := run(t, base, clone(reqs))
			distinct := map[int32]bool{}
			for _, out := range want {
				for _, tok := range out {
					distinct[tok] = true
				}
			}
			if len(distinct) < 20 {
				t.Fatalf("greedy outputs use %d distinct tokens: too few to tell runs apart", len(distinct))
			}

			c := cfg
			c.MaxNumSeqs, c.MaxNumBatchedTokens = 4, 7 // prompts split over many steps
			sameOutputs(t, "chunked prefill", want, run(t, newLlamaEngine(t, preset, c, 64<<20), clone(reqs)))

			p := base.plan
			mem := int64(float64(p.WeightBytes+p.ActivationBytes+24*p.BytesPerBlock+p.BytesPerBlock/2) / cfg.GPUMemoryUtilization)
			small := newLlamaEngine(t, preset, cfg, mem)
			if small.blocks.NumBlocks() > 24 {
				t.Fatalf("pool has %d blocks, want at most 24", small.blocks.NumBlocks())
			}
			sameOutputs(t, "24-block pool (preemption)", want, run(t, small, clone(reqs)))

			for _, r := range reqs[:3] {
				alone := run(t, newLlamaEngine(t, preset, cfg, 64<<20), clone([]*Request{r}))
				sameOutputs(t, "alone vs batched", alone, want)
			}
		})
	}
}
