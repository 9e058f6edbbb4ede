package engine

import (
	"fmt"
	"math"

	"benchtop/engine/model"
	"benchtop/kernels"
)

// mulSize is a·b for sizes (a, b ≥ 0), and false when it would overflow int64.
func mulSize(a, b int64) (int64, bool) {
	if a < 0 || b < 0 {
		return 0, false
	}
	if a != 0 && b > math.MaxInt64/a {
		return 0, false
	}
	return a * b, true
}

// addSize is a+b for sizes (a, b ≥ 0), and false when it would overflow int64.
func addSize(a, b int64) (int64, bool) {
	if a < 0 || b < 0 || a > math.MaxInt64-b {
		return 0, false
	}
	return a + b, true
}

// workspaceBytes is what model.NewWorkspace allocates for steps of up to
// maxTokens tokens and maxLogits logits rows in dt, and false when the size
// overflows.
func workspaceBytes(c *model.Config, maxTokens, maxLogits int, dt kernels.DType) (int64, bool) {
	return model.WorkspaceBytes(c, maxTokens, maxLogits, dt)
}

// checkWorkspace refuses a step budget whose workspace can never fit the
// device's memory, before anything is allocated, naming the flag.
func (e *Engine) checkWorkspace(cfg *Config) error {
	info := e.be.Info()
	need, ok := workspaceBytes(&e.model.Cfg, cfg.MaxNumBatchedTokens, cfg.MaxNumSeqs, e.model.ComputeDType)
	if !ok || need > info.MemoryBytes {
		size := "more than 8 EiB"
		if ok {
			size = FormatBytes(need)
		}
		return fmt.Errorf("max-num-batched-tokens %d and max-num-seqs %d: the step workspace needs %s, more than the device's %s%s",
			cfg.MaxNumBatchedTokens, cfg.MaxNumSeqs, size, FormatBytes(info.MemoryBytes), memoryFlag(info))
	}
	return nil
}

// memoryFlag names the flag that sets a backend's memory, for errors.
func memoryFlag(info kernels.DeviceInfo) string {
	if info.Backend == "cpu" {
		return " (--cpu-memory)"
	}
	return ""
}
