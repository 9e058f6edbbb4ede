package engine

import (
	"fmt"
	"math"
)

// Config holds the engine settings a user can change. A zero MaxNumSeqs,
// MaxNumBatchedTokens, GPUMemoryUtilization or MaxModelLen means "auto":
// the engine picks the value for its backend and model when it builds (see
// resolve), so a caller tells defaults from explicit settings by leaving a
// field zero. Status.Config always holds the values in force.
type Config struct {
	MaxNumSeqs           int     // sequences in one step (the batch size); 0: auto
	MaxNumBatchedTokens  int     // tokens in one step (prefill chunks + decodes); 0: auto
	BlockSize            int     // tokens per KV block
	GPUMemoryUtilization float64 // fraction of device memory for weights, activations and KV; 0: auto
	MaxModelLen          int     // 0: the model's max_position_embeddings
	EnforceEager         bool    // no CUDA graphs
	EnableChunkedPrefill bool
	Seed                 uint64
}

// Upper bounds of the settings: far above any device's capacity, low enough
// that no size computed from them overflows.
const (
	MaxMaxNumSeqs          = 1 << 16
	MaxMaxNumBatchedTokens = 1 << 24
	MaxMaxModelLen         = 1 << 24
	MaxBlockSize           = 1024
)

// DefaultConfig is vLLM's defaults where they apply.
func DefaultConfig() Config {
	return Config{
		MaxNumSeqs:           256,
		MaxNumBatchedTokens:  8192,
		BlockSize:            16,
		GPUMemoryUtilization: 0.9,
		EnableChunkedPrefill: true,
		Seed:                 0,
	}
}

// AutoConfig is DefaultConfig with every field that has a backend-sized
// default left to the engine: on a GPU it resolves to DefaultConfig, on the
// CPU to a step budget and a pool sized for the CPU (see resolve).
func AutoConfig() Config {
	c := DefaultConfig()
	c.MaxNumSeqs, c.MaxNumBatchedTokens, c.GPUMemoryUtilization = 0, 0, 0
	return c
}

// Validate rejects settings the engine cannot run; errors name the flag.
func (c *Config) Validate() error {
	switch {
	case c.MaxNumSeqs < 0 || c.MaxNumSeqs > MaxMaxNumSeqs:
		return fmt.Errorf("max-num-seqs %d: must be between 1 and %d (0: auto)", c.MaxNumSeqs, MaxMaxNumSeqs)
	case c.MaxNumBatchedTokens < 0 || c.MaxNumBatchedTokens > MaxMaxNumBatchedTokens:
		return fmt.Errorf("max-num-batched-tokens %d: must be between 1 and %d (0: auto)", c.MaxNumBatchedTokens, MaxMaxNumBatchedTokens)
	case c.MaxNumSeqs > 0 && c.MaxNumBatchedTokens > 0 && c.MaxNumBatchedTokens < c.MaxNumSeqs:
		return fmt.Errorf("max-num-batched-tokens %d: must be at least max-num-seqs (%d)", c.MaxNumBatchedTokens, c.MaxNumSeqs)
	case c.BlockSize < 1 || c.BlockSize > MaxBlockSize:
		return fmt.Errorf("block-size %d: must be between 1 and %d", c.BlockSize, MaxBlockSize)
	case math.IsNaN(c.GPUMemoryUtilization) || c.GPUMemoryUtilization < 0 || c.GPUMemoryUtilization > 1:
		return fmt.Errorf("gpu-memory-utilization %g: must be in (0, 1] (0: auto)", c.GPUMemoryUtilization)
	case c.MaxModelLen < 0 || c.MaxModelLen > MaxMaxModelLen:
		return fmt.Errorf("max-model-len %d: must be between 1 and %d (0: the model's)", c.MaxModelLen, MaxMaxModelLen)
	}
	return nil
}
