package engine

import (
	"fmt"

	"benchtop/engine/model"
	"benchtop/kernels"
)

// MemoryPlan is how device memory is split, as measured on the backend.
type MemoryPlan struct {
	TotalBytes      int64   // device memory
	Utilization     float64 // gpu_memory_utilization
	WeightBytes     int64   // measured after loading
	ActivationBytes int64   // the step workspace, measured after allocation
	KVBytes         int64   // the KV pool
	BytesPerBlock   int64
	NumBlocks       int
	BlockSize       int
	KVDType         kernels.DType
	// The KV cache's geometry: a token takes 2 × NumLayers × KVHeads ×
	// HeadDim elements (grouped-query attention keeps fewer KV heads than
	// query heads).
	KVHeads, HeadDim, NumLayers int
	// Reason says, in words, why the settings the engine chose itself (the
	// auto ones) and the pool have their sizes; empty when nothing was
	// chosen for the user. The memory command and the header show it.
	Reason string

	// When the pool is capped at what the batch can use: the sequences and
	// length it was sized for, and the blocks the budget alone would hold.
	capSeqs, capLen int
	budgetBlocks    int64
}

// Capped says whether the pool is smaller than the budget would hold
// because max_num_seqs sequences of max_model_len tokens can use no more
// (the CPU backend's rule).
func (p MemoryPlan) Capped() bool { return p.capSeqs > 0 }

// poolReason is the pool's part of Reason under max_num_seqs n: why the
// pool has fewer blocks than the budget would hold ("" when the budget
// decided). A pool kept when max_num_seqs was lowered says so.
func (p MemoryPlan) poolReason(n int) string {
	if p.capSeqs == 0 {
		return ""
	}
	s := fmt.Sprintf("KV pool capped at %d sequences × max_model_len %d = %d tokens, %d blocks (more could never be used; gpu_memory_utilization %.2f of %s would hold %d)",
		p.capSeqs, p.capLen, int64(p.capSeqs)*int64(p.capLen), p.NumBlocks, p.Utilization, FormatBytes(p.TotalBytes), p.budgetBlocks)
	if n < p.capSeqs {
		s += fmt.Sprintf(", kept when max_num_seqs was lowered to %d", n)
	}
	return s
}

// KVTokens is the token capacity of the pool.
func (p MemoryPlan) KVTokens() int { return p.NumBlocks * p.BlockSize }

// FreeBytes is the device memory left outside the budget.
func (p MemoryPlan) FreeBytes() int64 {
	return p.TotalBytes - p.WeightBytes - p.ActivationBytes - p.KVBytes
}

// planKV sizes the KV pool of dtype dt: utilization × total, less what is
// already in use (weights and workspace), in whole blocks of
// 2 × layers × block size × KV heads × head size elements; at most
// max_num_seqs × capLen tokens when capLen > 0 (more than the batch could
// ever fill).
func planKV(be kernels.Backend, cfg *model.Config, c *Config, dt kernels.DType, weights, activation int64, capLen int) (MemoryPlan, error) {
	info := be.Info()
	p := MemoryPlan{
		TotalBytes: info.MemoryBytes, Utilization: c.GPUMemoryUtilization,
		WeightBytes: weights, ActivationBytes: activation, BlockSize: c.BlockSize, KVDType: dt,
		KVHeads: cfg.KVHeads(), HeadDim: cfg.HeadDim(), NumLayers: cfg.NumLayers,
		BytesPerBlock: model.KVBytesPerBlock(cfg, c.BlockSize, dt),
	}
	if p.BytesPerBlock <= 0 {
		return p, fmt.Errorf("KV block of %d tokens: size %d bytes overflows", c.BlockSize, p.BytesPerBlock)
	}
	// What the device says is used — our weights and workspace, and anything
	// else on it — comes out of the budget, as vLLM's profiling does.
	free, total := be.MemoryInfo()
	kb := kvBlocks(total, total-free, c, p.BytesPerBlock, capLen)
	if kb.blocks < 1 {
		return p, fmt.Errorf("no memory left for the KV cache: %.0f%% of %s is %s, and %s is already in use (weights %s, activations %s, the rest other allocations and processes); raise --gpu-memory-utilization or --cpu-memory",
			100*c.GPUMemoryUtilization, FormatBytes(total), FormatBytes(int64(c.GPUMemoryUtilization*float64(total))),
			FormatBytes(total-free), FormatBytes(weights), FormatBytes(activation))
	}
	p.NumBlocks, p.budgetBlocks = int(kb.blocks), kb.budget
	if kb.capped {
		p.capSeqs, p.capLen = c.MaxNumSeqs, capLen
	}
	p.KVBytes = kb.blocks * p.BytesPerBlock
	return p, nil
}

// kvBlockCount is how many KV blocks a budget holds.
type kvBlockCount struct {
	blocks int64
	budget int64 // what the budget alone would hold
	capped bool  // the cap bound: blocks < budget
}

// kvBlocks is the pool's size in blocks of bytesPerBlock: c's utilization ×
// total device bytes, less inUse (every byte in use but the pool's), at most
// max_num_seqs × capLen tokens when capLen > 0, at most what int32 KV slots
// address. A result below 1 means no room.
func kvBlocks(total, inUse int64, c *Config, bytesPerBlock int64, capLen int) kvBlockCount {
	budget := int64(c.GPUMemoryUtilization*float64(total)) - inUse
	n := kvBlockCount{blocks: budget / bytesPerBlock}
	n.budget = n.blocks
	if capLen > 0 {
		// Both are bounded (Config.Validate): the product fits an int64.
		bs := int64(c.BlockSize)
		if cb := (int64(c.MaxNumSeqs)*int64(capLen) + bs - 1) / bs; cb < n.blocks {
			n.blocks, n.capped = cb, true
		}
	}
	if most := int64((1<<31 - 1) / c.BlockSize); n.blocks > most {
		n.blocks = most // KV slots (block × block size + offset) are int32
	}
	return n
}

func joinReasons(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// FormatBytes prints a byte count in GiB or MiB.
func FormatBytes(n int64) string {
	if n >= 1<<30 || n <= -(1<<30) {
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
