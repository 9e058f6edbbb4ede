package engine

import (
	"fmt"
	"testing"

	"benchtop/engine/model"
	"benchtop/kernels"
	"benchtop/kernels/cpu"
)

func TestWarmBatch(t *testing.T) {
	b := warmBatch(100, 7, 16, 4)
	if len(b.Tokens) != 100 || len(b.Seqs) != 7 || b.NumLogits() != 7 {
		t.Fatalf("%d tokens, %d sequences, %d logits", len(b.Tokens), len(b.Seqs), b.NumLogits())
	}
	last := b.Seqs[6]
	if last.QueryLen != 100-6*14 || last.ContextLen != last.QueryLen || len(last.BlockTable) != (last.QueryLen+15)/16 {
		t.Fatalf("last sequence %+v", last)
	}
	for _, s := range b.Slots {
		if s != -1 {
			t.Fatalf("slot %d stored", s)
		}
	}
}

// warmingCPU is the CPU backend asking for a prefill warm-up, counting the
// steps it runs.
type warmingCPU struct {
	*cpu.Backend
	sizes []int
	steps *[]int
}

func (w warmingCPU) WarmTokenCounts(maxTokens int) []int { return w.sizes }

func (w warmingCPU) SetBatch(b *kernels.Batch) error {
	*w.steps = append(*w.steps, len(b.Tokens))
	return w.Backend.SetBatch(b)
}

// TestWarmPrefill: the engine runs one step of each listed size at start-up,
// within the model's length and max_num_seqs, and still generates.
func TestWarmPrefill(t *testing.T) {
	var steps []int
	be := warmingCPU{Backend: cpu.New(1 << 30), sizes: []int{300, 1000, 5000}, steps: &steps}
	mc := testModelConfig() // 256 positions
	m, err := model.Load(be, mc, model.NewSyntheticSource(mc, 7), kernels.F32)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.MaxNumSeqs, cfg.MaxNumBatchedTokens = 8, 1024
	e, err := New(be, &model.Loaded{Model: m, Cfg: mc, DType: kernels.F32, ComputeDType: kernels.F32, Synthetic: true, Source: "test"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 5000 tokens need more than 8 sequences of at most 255: left out.
	if fmt.Sprint(steps) != "[300 1000]" {
		t.Fatalf("warm-up steps %v, want [300 1000]", steps)
	}
	res, err := e.GenerateSync(randomRequests(3, 4, 20, 5))
	if err != nil || len(res) != 4 {
		t.Fatalf("generate after the warm-up: %v, %d results", err, len(res))
	}
}
