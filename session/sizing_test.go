package session

import (
	"strings"
	"testing"

	"benchtop/engine"
)

// The dashboard's m key (ReconfigureWith) on the CPU keeps the CPU's sizing:
// the pool stays capped at what the batch can use, the auto settings stay
// auto, and the plan's reason still says why.
func TestReconfigureWithKeepsCPUSizing(t *testing.T) {
	cfg := engine.AutoConfig()
	cfg.MaxNumSeqs = 8 // a small cap: 8 × 2048 tokens
	s, err := Open(Options{Model: "tiny", Device: "cpu", CPUMemoryBytes: 1 << 28, Engine: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := s.Status()
	for _, u := range []float64{0.7, 0.9, 0.95} {
		if err := s.ReconfigureWith(func(c *engine.Config) { c.GPUMemoryUtilization = u }, "m"); err != nil {
			t.Fatal(err)
		}
		st := s.Status()
		if st.Plan.NumBlocks != before.Plan.NumBlocks || st.Config.GPUMemoryUtilization != u {
			t.Fatalf("gpu_memory_utilization %.2f: %d KV blocks, was %d (the CPU's cap)", u, st.Plan.NumBlocks, before.Plan.NumBlocks)
		}
		if st.Requested.MaxNumBatchedTokens != 0 || st.Config.MaxNumBatchedTokens != before.Config.MaxNumBatchedTokens ||
			!strings.Contains(st.Plan.Reason, "max_num_batched_tokens") || !strings.Contains(st.Plan.Reason, "KV pool capped at 8 sequences") {
			t.Fatalf("gpu_memory_utilization %.2f: requested %+v, in force %+v, reason %q", u, st.Requested, st.Config, st.Plan.Reason)
		}
	}
}
