package engine

import (
	"fmt"
	"strings"
	"testing"
)

// On the CPU, auto settings are sized for the CPU and say why; explicit
// ones win; the pool is capped at what the batch can use.
func TestAutoSizingOnTheCPU(t *testing.T) {
	e := newTestEngine(t, AutoConfig(), 1<<30)
	c := e.cfg
	if c.MaxNumSeqs < 1 || c.MaxNumSeqs > 256 || c.MaxNumBatchedTokens < c.MaxNumSeqs || c.MaxNumBatchedTokens > 8192 || c.GPUMemoryUtilization != 0.9 {
		t.Fatalf("resolved %+v", c)
	}
	if want := c.MaxNumSeqs * e.maxModelLen; e.plan.KVTokens() > want+c.BlockSize {
		t.Fatalf("pool of %d tokens for max_num_seqs × max_model_len = %d", e.plan.KVTokens(), want)
	}
	for _, w := range []string{"max_num_batched_tokens", "max_num_seqs", "KV pool capped"} {
		if !strings.Contains(e.plan.Reason, w) || !strings.Contains(e.Status().Plan.Reason, w) {
			t.Fatalf("reason %q does not explain %s", e.plan.Reason, w)
		}
	}
	// Explicit settings are kept, and the pool is capped all the same: on
	// the CPU a pool the batch can never fill is memory for nothing.
	explicit := DefaultConfig()
	x := newTestEngine(t, explicit, 1<<30)
	if x.cfg != explicit || strings.Contains(x.plan.Reason, "steps near") {
		t.Fatalf("explicit settings changed: %+v, reason %q", x.cfg, x.plan.Reason)
	}
	if want := explicit.MaxNumSeqs * x.maxModelLen / explicit.BlockSize; x.plan.NumBlocks != want || !strings.Contains(x.plan.Reason, "KV pool capped") {
		t.Fatalf("explicit utilization gave %d blocks (want the cap, %d), reason %q", x.plan.NumBlocks, want, x.plan.Reason)
	}
	// One explicit field with the rest auto: it is kept as given.
	mixed := AutoConfig()
	mixed.MaxNumBatchedTokens = 4096
	if m := newTestEngine(t, mixed, 1<<30); m.cfg.MaxNumBatchedTokens != 4096 || strings.Contains(m.plan.Reason, "max_num_batched_tokens") {
		t.Fatalf("explicit budget: %+v, reason %q", m.cfg, m.plan.Reason)
	}
}

// Changing max_num_seqs on an auto-sized engine keeps the memory setting
// auto: lowering it rebuilds nothing (the capped pool stays).
func TestMaxNumSeqsKeepsAutoMemory(t *testing.T) {
	e := newTestEngine(t, AutoConfig(), 1<<30)
	blocks := e.plan.NumBlocks
	n := max(1, e.cfg.MaxNumSeqs/2)
	if err := e.setMaxNumSeqs(n); err != nil {
		t.Fatal(err)
	}
	if e.cfg.MaxNumSeqs != n || e.plan.NumBlocks != blocks || !e.sz.capPool {
		t.Fatalf("max_num_seqs %d: %d blocks (was %d), capped %v", e.cfg.MaxNumSeqs, e.plan.NumBlocks, blocks, e.sz.capPool)
	}
}

// The CPU's sizing holds after every change, not only at start: a new
// gpu_memory_utilization keeps the pool capped at what the batch can use
// (and, giving the same pool, rebuilds nothing), and the auto settings left
// alone stay auto, re-sized, with their reason.
func TestCPUSizingHoldsAfterChanges(t *testing.T) {
	e := newTestEngine(t, AutoConfig(), 1<<30)
	blocks, kv := e.plan.NumBlocks, e.kv
	for _, u := range []float64{0.95, 0.7, 0.9} {
		c := e.Status().Requested
		c.GPUMemoryUtilization = u
		if err := e.reconfigure(c, "m"); err != nil {
			t.Fatal(err)
		}
		st := e.Status()
		if st.Plan.NumBlocks != blocks || e.kv != kv {
			t.Fatalf("gpu_memory_utilization %.2f: %d blocks (was %d), pool rebuilt %v", u, st.Plan.NumBlocks, blocks, e.kv != kv)
		}
		if st.Config.GPUMemoryUtilization != u || st.Plan.Utilization != u || st.Requested.MaxNumSeqs != 0 || st.Requested.MaxNumBatchedTokens != 0 {
			t.Fatalf("gpu_memory_utilization %.2f: config %+v, requested %+v, plan at %.2f", u, st.Config, st.Requested, st.Plan.Utilization)
		}
		for _, w := range []string{"max_num_batched_tokens", "max_num_seqs", "KV pool capped", fmt.Sprintf("gpu_memory_utilization %.2f", u)} {
			if !strings.Contains(st.Plan.Reason, w) {
				t.Fatalf("gpu_memory_utilization %.2f: reason %q does not say %s", u, st.Plan.Reason, w)
			}
		}
	}

	// A new batch size: the token budget stays auto (and says so), the batch
	// size is the user's, and the capped pool is rebuilt for the new cap
	// only when the batch outgrows it.
	n := max(1, e.cfg.MaxNumSeqs/2)
	if err := e.setMaxNumSeqs(n); err != nil {
		t.Fatal(err)
	}
	st := e.Status()
	if st.Requested.MaxNumSeqs != n || st.Requested.MaxNumBatchedTokens != 0 || st.Requested.GPUMemoryUtilization != 0.9 {
		t.Fatalf("after max_num_seqs=%d: requested %+v", n, st.Requested)
	}
	if !strings.HasPrefix(st.Plan.Reason, "max_num_batched_tokens") || strings.Contains(e.sz.reason, "max_num_seqs") ||
		!strings.Contains(st.Plan.Reason, fmt.Sprintf("kept when max_num_seqs was lowered to %d", n)) {
		t.Fatalf("after max_num_seqs=%d: reason %q", n, st.Plan.Reason)
	}
	if st.Plan.NumBlocks != blocks {
		t.Fatalf("lowering max_num_seqs rebuilt the pool: %d blocks, was %d", st.Plan.NumBlocks, blocks)
	}
	// Now a new utilization sizes the pool for the lower cap.
	c := st.Requested
	c.GPUMemoryUtilization = 0.95
	if err := e.reconfigure(c, "m"); err != nil {
		t.Fatal(err)
	}
	if want := ceilDiv(n*e.maxModelLen, e.cfg.BlockSize); e.plan.NumBlocks != want {
		t.Fatalf("gpu_memory_utilization 0.95 at max_num_seqs %d: %d blocks, want the cap %d", n, e.plan.NumBlocks, want)
	}
}
