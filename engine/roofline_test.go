package engine

import (
	"testing"
	"time"

	"benchtop/engine/model"
	"benchtop/kernels"
)

// The H100 run of BENCHMARKS.md: batch 100 over 3,400 context tokens, 2.98
// TB/s and 735 TFLOP/s measured, floor 137.4 µs (bandwidth-bound).
func TestStepCostAndFloor(t *testing.T) {
	c := model.Presets["opt-125m"]
	st := &Status{Plan: MemoryPlan{WeightBytes: 284033024, BytesPerBlock: model.KVBytesPerBlock(&c, 16, kernels.F16), BlockSize: 16},
		MatmulFLOPsPerToken: c.MatmulFLOPsPerToken(), AttentionFLOPsPerContextToken: c.AttentionFLOPsPerContextToken()}
	cost := st.Cost(100, 3400)
	if cost.KVBytes != 125337600 || cost.FLOPs < 24.8e9 || cost.FLOPs > 24.9e9 {
		t.Fatalf("cost %+v", cost)
	}
	if st.Floor(cost) != 0 {
		t.Fatal("a floor without measured ceilings")
	}
	st.Ceilings = kernels.Ceilings{BandwidthBytesPerSec: 2.98e12, MatmulFlopsPerSec: 735e12}
	if f := st.Floor(cost); f < 137*time.Microsecond || f > 138*time.Microsecond {
		t.Fatalf("floor %v, want 137.4µs", f)
	}
	st.Ceilings.MatmulFlopsPerSec = 1e12 // now compute-bound
	if f := st.Floor(cost); f < 24*time.Millisecond || f > 25*time.Millisecond {
		t.Fatalf("compute-bound floor %v", f)
	}
}
