package engine

import (
	"fmt"
	"os"

	"benchtop/kernels"
)

// warmEnv switches the start-up prefill warm-up off ("off") for A/B runs.
const warmEnv = "BENCHTOP_WARMUP"

// warmPrefill runs a throw-away prefill step of each size the backend lists
// (kernels.PrefillWarmer) at start-up, as vLLM's profile run does: the GEMM
// library pays on the host for the first call of each shape (its
// heuristics, and loading the kernel it picks lazily), which would
// otherwise land on the first request that brings a step of that size. The
// steps store no K or V (slot −1) and read block 0; their outputs are
// dropped. Sizes that max_num_seqs sequences within the model's length
// cannot hold are left out.
func (e *Engine) warmPrefill() error {
	w, ok := e.be.(kernels.PrefillWarmer)
	if !ok || os.Getenv(warmEnv) == "off" {
		return nil
	}
	maxSeqs := min(e.cfg.MaxNumSeqs, e.ws.MaxLogits)
	for _, n := range w.WarmTokenCounts(e.cfg.MaxNumBatchedTokens) {
		// Short prompts, as a busy step has them, each within the model's length.
		seqs := max(min(n/16, maxSeqs), (n+e.maxModelLen-2)/(e.maxModelLen-1))
		if seqs > maxSeqs {
			break
		}
		if _, err := e.model.Forward(e.be, warmBatch(n, seqs, e.cfg.BlockSize, e.blockTableStride()), e.kv, e.ws); err != nil {
			return fmt.Errorf("prefill warm-up of %d tokens: %w", n, err)
		}
	}
	return e.be.Sync()
}

// warmBatch is a prefill of n tokens over seqs sequences (the last takes the
// remainder), every block table pointing at block 0 and no slot stored.
func warmBatch(n, seqs, blockSize, stride int) *kernels.Batch {
	b := &kernels.Batch{BlockSize: blockSize, BlockTableStride: stride}
	per := n / seqs
	for s := 0; s < seqs; s++ {
		q := per
		if s == seqs-1 {
			q = n - per*(seqs-1)
		}
		table := make([]int32, (q+blockSize-1)/blockSize)
		start := len(b.Tokens)
		for p := 0; p < q; p++ {
			b.Tokens = append(b.Tokens, int32(p%7))
			b.Positions = append(b.Positions, int32(p))
			b.Slots = append(b.Slots, -1)
		}
		b.Seqs = append(b.Seqs, kernels.SeqSlice{QueryStart: start, QueryLen: q, ContextLen: q, BlockTable: table, NeedLogits: true})
	}
	return b
}
