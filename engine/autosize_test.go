package engine

import (
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
	explicit := DefaultConfig()
	x := newTestEngine(t, explicit, 1<<30)
	if x.cfg != explicit || x.plan.Reason != "" {
		t.Fatalf("explicit settings changed: %+v, reason %q", x.cfg, x.plan.Reason)
	}
	if x.plan.NumBlocks <= e.plan.NumBlocks {
		t.Fatalf("explicit utilization gave %d blocks, auto %d: the cap applies only to auto", x.plan.NumBlocks, e.plan.NumBlocks)
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
