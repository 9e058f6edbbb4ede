package engine

import "fmt"

// Config holds the engine settings a user can change.
type Config struct {
	MaxNumSeqs           int     // sequences in one step (the batch size)
	MaxNumBatchedTokens  int     // tokens in one step (prefill chunks + decodes)
	BlockSize            int     // tokens per KV block
	GPUMemoryUtilization float64 // fraction of device memory for weights, activations and KV
	MaxModelLen          int     // 0: the model's max_position_embeddings
	EnforceEager         bool    // no CUDA graphs
	EnableChunkedPrefill bool
	Seed                 uint64
}

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

// Validate rejects settings the engine cannot run.
func (c *Config) Validate() error {
	switch {
	case c.MaxNumSeqs < 1:
		return fmt.Errorf("max-num-seqs %d: must be at least 1", c.MaxNumSeqs)
	case c.MaxNumBatchedTokens < c.MaxNumSeqs:
		return fmt.Errorf("max-num-batched-tokens %d: must be at least max-num-seqs (%d)", c.MaxNumBatchedTokens, c.MaxNumSeqs)
	case c.BlockSize < 1 || c.BlockSize > 1024:
		return fmt.Errorf("block-size %d: must be between 1 and 1024", c.BlockSize)
	case !(c.GPUMemoryUtilization > 0 && c.GPUMemoryUtilization <= 1):
		return fmt.Errorf("gpu-memory-utilization %g: must be in (0, 1]", c.GPUMemoryUtilization)
	case c.MaxModelLen < 0:
		return fmt.Errorf("max-model-len %d: must not be negative", c.MaxModelLen)
	}
	return nil
}
