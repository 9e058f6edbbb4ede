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
}

// KVTokens is the token capacity of the pool.
func (p MemoryPlan) KVTokens() int { return p.NumBlocks * p.BlockSize }

// FreeBytes is the device memory left outside the budget.
func (p MemoryPlan) FreeBytes() int64 {
	return p.TotalBytes - p.WeightBytes - p.ActivationBytes - p.KVBytes
}

// planKV sizes the KV pool of dtype dt: utilization × total, less what is
// already in use (weights and workspace), in whole blocks of
// 2 × layers × block size × KV heads × head size elements.
func planKV(be kernels.Backend, cfg *model.Config, c *Config, dt kernels.DType, weights, activation int64) (MemoryPlan, error) {
	info := be.Info()
	p := MemoryPlan{
		TotalBytes: info.MemoryBytes, Utilization: c.GPUMemoryUtilization,
		WeightBytes: weights, ActivationBytes: activation, BlockSize: c.BlockSize, KVDType: dt,
		KVHeads: cfg.KVHeads(), HeadDim: cfg.HeadDim(), NumLayers: cfg.NumLayers,
		BytesPerBlock: model.KVBytesPerBlock(cfg, c.BlockSize, dt),
	}
	// What the device says is used — our weights and workspace, and anything
	// else on it — comes out of the budget, as vLLM's profiling does.
	free, total := be.MemoryInfo()
	budget := int64(c.GPUMemoryUtilization*float64(total)) - (total - free)
	p.NumBlocks = int(budget / p.BytesPerBlock)
	if p.NumBlocks < 1 {
		return p, fmt.Errorf("no memory left for the KV cache: %.0f%% of %s is %s, and %s is already in use (weights %s, activations %s, the rest other allocations and processes); raise --gpu-memory-utilization or --cpu-memory",
			100*c.GPUMemoryUtilization, FormatBytes(total), FormatBytes(int64(c.GPUMemoryUtilization*float64(total))),
			FormatBytes(total-free), FormatBytes(weights), FormatBytes(activation))
	}
	p.KVBytes = int64(p.NumBlocks) * p.BytesPerBlock
	return p, nil
}

// FormatBytes prints a byte count in GiB or MiB.
func FormatBytes(n int64) string {
	if n >= 1<<30 || n <= -(1<<30) {
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
