package engine

import (
	"fmt"
	"math/bits"
	"strings"
)

// rateEstimator is a backend that can say how fast it multiplies matrices
// (the CPU backend): the engine sizes its auto step budget from it.
type rateEstimator interface {
	// EstimatedFLOPS is the sustained fp32 matrix-multiply rate, FLOP/s.
	EstimatedFLOPS() float64
}

// TargetStepTime is what an auto-sized step aims at on a slow backend: a
// step of this length keeps the dashboard live and preemption cheap.
const TargetStepTime = 0.2 // seconds

// resolve fills the auto (zero) fields of c for the engine's backend and
// model, recording why in e.sizing. On a GPU they are vLLM's defaults. On a
// backend that estimates its rate (the CPU), max_num_batched_tokens is the
// largest power of two whose prefill fits TargetStepTime, max_num_seqs the
// decodes that fit it (at most 256 and at most the token budget), and the
// KV pool is capped at what max_num_seqs sequences of max_model_len tokens
// can use (see planKV).
func (e *Engine) resolve(c Config) (Config, sizing) {
	d := DefaultConfig()
	var sz sizing
	re, ok := e.be.(rateEstimator)
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
	mc := &e.model.Cfg
	rate := re.EstimatedFLOPS()
	maxLen := e.modelLen(c)
	var why []string
	if c.MaxNumBatchedTokens == 0 {
		// A prefill token pays the layers' matmuls and attends over at most
		// half the model length on average; the last one pays the LM head.
		head := 2 * float64(mc.VocabSize) * float64(mc.ProjDim())
		perToken := mc.MatmulFLOPsPerToken() - head + mc.AttentionFLOPsPerContextToken()*float64(maxLen)/2
		n := int((TargetStepTime*rate - head) / perToken)
		c.MaxNumBatchedTokens = pow2Floor(max(16, min(n, d.MaxNumBatchedTokens)))
		why = append(why, fmt.Sprintf("max_num_batched_tokens %d", c.MaxNumBatchedTokens))
	}
	if c.MaxNumSeqs == 0 {
		// A decode pays every matmul, the LM head included, and attends
		// over its context.
		perSeq := mc.MatmulFLOPsPerToken() + mc.AttentionFLOPsPerContextToken()*float64(maxLen)/2
		n := int(TargetStepTime * rate / perSeq)
		c.MaxNumSeqs = max(1, min(n, d.MaxNumSeqs, c.MaxNumBatchedTokens))
		why = append(why, fmt.Sprintf("max_num_seqs %d", c.MaxNumSeqs))
	}
	if c.MaxNumBatchedTokens < c.MaxNumSeqs {
		c.MaxNumBatchedTokens = c.MaxNumSeqs
	}
	if len(why) > 0 {
		sz.reason = fmt.Sprintf("%s: a step near %.0f ms at an estimated %.0f GFLOP/s", strings.Join(why, ", "), TargetStepTime*1000, rate/1e9)
	}
	if c.GPUMemoryUtilization == 0 {
		c.GPUMemoryUtilization = d.GPUMemoryUtilization
		sz.capPool = true
	}
	return c, sz
}

// sizing is what resolve decided beyond the config: why, and whether the
// KV pool is capped at what the batch can use.
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
