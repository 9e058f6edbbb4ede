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

	poolReason string // planKV's part of Reason
}

// KVTokens is the token capacity of the pool.
func (p MemoryPlan) KVTokens() int { return p.NumBlocks * p.BlockSize }

// FreeBytes is the device memory left outside the budget.
func (p MemoryPlan) FreeBytes() int64 {
	return p.TotalBytes - p.WeightBytes - p.ActivationBytes - p.KVBytes
}

// planKV sizes the KV pool of dtype dt: utilization × total, less what is
// already in use (weights and workspace), in whole blocks of
// 2 × layers × block size × KV heads × head size elements; at most capTokens
// tokens when capTokens > 0 (a pool the batch could never fill).
func planKV(be kernels.Backend, cfg *model.Config, c *Config, dt kernels.DType, weights, activation int64, capTokens int) (MemoryPlan, error) {
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
	budget := int64(c.GPUMemoryUtilization*float64(total)) - (total - free)
	blocks := budget / p.BytesPerBlock
	if capTokens > 0 {
		if cb := int64(ceilDiv(capTokens, c.BlockSize)); cb < blocks {
			blocks = cb
			p.poolReason = fmt.Sprintf("KV pool capped at max_num_seqs × max_model_len = %d tokens (more could never be used)", capTokens)
		}
	}
	if blocks < 1 {
		return p, fmt.Errorf("no memory left for the KV cache: %.0f%% of %s is %s, and %s is already in use (weights %s, activations %s, the rest other allocations and processes); raise --gpu-memory-utilization or --cpu-memory",
			100*c.GPUMemoryUtilization, FormatBytes(total), FormatBytes(int64(c.GPUMemoryUtilization*float64(total))),
			FormatBytes(total-free), FormatBytes(weights), FormatBytes(activation))
	}
	if most := int64((1<<31 - 1) / c.BlockSize); blocks > most {
		blocks = most // KV slots (block × block size + offset) are int32
	}
	p.NumBlocks = int(blocks)
	p.KVBytes = blocks * p.BytesPerBlock
	return p, nil
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
