package engine

import (
	"fmt"
	"math/bits"
	"strings"

	"benchtop/kernels/cpu"
)

// TargetStepTime is what an auto-sized step aims at on a slow backend: a
// step of this length keeps the dashboard live and preemption cheap.
const TargetStepTime = 0.2 // seconds

// resolve fills the auto (zero) fields of c for the engine's backend and
// model, and says why. On a GPU they are vLLM's defaults. On a backend that
// estimates its rates (the CPU), with TargetStepTime as the aim:
//   - max_num_batched_tokens is the largest power of two (16 to 8192) whose
//     prefill chunk, at the end of the model length, fits the aim;
//   - max_num_seqs is the decodes of short sequences whose matmuls fit the
//     aim (1 to 256), and the token budget is raised to it if lower;
//   - gpu_memory_utilization auto is 0.9 of the backend's memory (the CPU's
//     is --cpu-memory);
//   - whatever the settings, auto or given, at start or on a later change,
//     the KV pool is capped at what max_num_seqs sequences of max_model_len
//     tokens can use (see planKV): more is host memory that no step could
//     ever touch.
//
// The rates are the CPU backend's estimates (cpu.Backend.EstimatedFLOPS).
// Where even 16 tokens at the full model length take longer than the aim,
// the budget stays at 16 and such steps are longer; every step also reads
// all the weights, which the aim does not count.
func (e *Engine) resolve(c Config) (Config, sizing) {
	d := DefaultConfig()
	var sz sizing
	re, ok := e.be.(*cpu.Backend)
	if !ok {
		if c.MaxNumSeqs == 0 {
			c.MaxNumSeqs = d.MaxNumSeqs
		}
		if c.MaxNumBatchedTokens == 0 {
			c.MaxNumBatchedTokens = max(d.MaxNumBatchedTokens, c.MaxNumSeqs)
		}
		if c.GPUMemoryUtilization == 0 {
			c.GPUMemoryUtilization = d.GPUMemoryUtilization
		}
		return c, sz
	}
	var why []string
	if c.MaxNumBatchedTokens == 0 || c.MaxNumSeqs == 0 {
		mc := &e.model.Cfg
		maxLen := e.modelLen(c)
		mm, attn := re.EstimatedFLOPS()
		mm, attn = max(mm, 1e6), max(attn, 1e6)
		head := 2 * float64(mc.VocabSize) * float64(mc.ProjDim())
		layers := mc.MatmulFLOPsPerToken() - head
		if c.MaxNumBatchedTokens == 0 {
			perToken := layers/mm + float64(maxLen)*mc.AttentionFLOPsPerContextToken()/attn
			n := int((TargetStepTime - head/mm) / perToken)
			c.MaxNumBatchedTokens = pow2Floor(max(16, min(n, d.MaxNumBatchedTokens)))
			why = append(why, "max_num_batched_tokens")
		}
		if c.MaxNumSeqs == 0 {
			n := int(TargetStepTime * mm / (layers + head))
			c.MaxNumSeqs = max(1, min(n, d.MaxNumSeqs))
			why = append(why, "max_num_seqs")
		}
		if c.MaxNumBatchedTokens < c.MaxNumSeqs {
			c.MaxNumBatchedTokens = c.MaxNumSeqs // every running sequence gets a token a step
		}
		for i, w := range why {
			why[i] = fmt.Sprintf("%s %d", w, map[string]int{"max_num_batched_tokens": c.MaxNumBatchedTokens, "max_num_seqs": c.MaxNumSeqs}[w])
		}
		sz.reason = fmt.Sprintf("%s: steps near %.0f ms on this CPU (at an estimated %.0f GFLOP/s on matmuls, %.1f GFLOP/s on attention; reading the weights adds to every step)",
			strings.Join(why, ", "), TargetStepTime*1000, mm/1e9, attn/1e9)
	}
	if c.GPUMemoryUtilization == 0 {
		c.GPUMemoryUtilization = d.GPUMemoryUtilization
	}
	sz.capPool = true
	return c, sz
}

// sizing is what resolve decided beyond the config: why, and whether the
// KV pool is capped at what the batch can use (always on the CPU, never on
// a GPU, where vLLM's rule holds: the pool is the whole budget).
type sizing struct {
	reason  string
	capPool bool
}

// modelLen is the model length c gives: max_model_len when set and below
// the model's, else the model's.
func (e *Engine) modelLen(c Config) int {
	n := e.model.Cfg.MaxPositions
	if c.MaxModelLen > 0 && c.MaxModelLen < n {
		n = c.MaxModelLen
	}
	return n
}

func pow2Floor(n int) int {
	if n < 1 {
		return 1
	}
	return 1 << (bits.Len(uint(n)) - 1)
}
