package engine

import (
	"fmt"

	"benchtop/kernels"
)

// GraphBuckets are the decode batch sizes captured as CUDA graphs, as vLLM
// does: 1, 2, 4, 8, then multiples of 8 up to maxSeqs. A decode step of n
// sequences is padded to the smallest bucket ≥ n.
func GraphBuckets(maxSeqs int) []int {
	var out []int
	for _, b := range []int{1, 2, 4} {
		if b < maxSeqs {
			out = append(out, b)
		}
	}
	for b := 8; b < maxSeqs+8; b += 8 {
		out = append(out, min(b, maxSeqs))
		if b >= maxSeqs {
			break
		}
	}
	return out
}

func bucketFor(n int, buckets []int) int {
	for _, b := range buckets {
		if b >= n {
			return b
		}
	}
	return 0
}

func (e *Engine) grapher() kernels.Grapher {
	if e.cfg.EnforceEager {
		return nil
	}
	g, _ := e.be.(kernels.Grapher)
	return g
}

// blockTableStride is the most blocks a sequence can hold.
func (e *Engine) blockTableStride() int {
	return (e.maxModelLen + e.cfg.BlockSize - 1) / e.cfg.BlockSize
}

// padToBucket appends dummy decode sequences (no KV write: slot -1; one key
// at block 0) so the batch has exactly bucket sequences and tokens.
func padToBucket(b *kernels.Batch, bucket int) *kernels.Batch {
	p := *b
	p.NumReal = len(b.Seqs)
	p.Tokens = append([]int32(nil), b.Tokens...)
	p.Positions = append([]int32(nil), b.Positions...)
	p.Slots = append([]int32(nil), b.Slots...)
	p.Seqs = append([]kernels.SeqSlice(nil), b.Seqs...)
	zero := []int32{0}
	for len(p.Seqs) < bucket {
		p.Seqs = append(p.Seqs, kernels.SeqSlice{QueryStart: len(p.Tokens), QueryLen: 1, ContextLen: 1, BlockTable: zero, NeedLogits: true})
		p.Tokens = append(p.Tokens, 0)
		p.Positions = append(p.Positions, 0)
		p.Slots = append(p.Slots, -1)
	}
	return &p
}

// forward runs a step's batch, through a CUDA graph when the step is pure
// decode and graphs are on.
func (e *Engine) forward(b *kernels.Batch, decodeOnly bool) (kernels.Tensor, error) {
	g := e.grapher()
	if g == nil || !decodeOnly {
		return e.model.Forward(e.be, b, e.kv, e.ws)
	}
	bucket := bucketFor(len(b.Seqs), e.buckets)
	if bucket == 0 {
		return e.model.Forward(e.be, b, e.kv, e.ws)
	}
	p := padToBucket(b, bucket)
	return g.Graph(e.graphKey(p, bucket), p, func() (kernels.Tensor, error) { return e.model.Forward(e.be, p, e.kv, e.ws) })
}

// greedyGraph marks the key of a bucket's greedy capture, which differs
// where the model fuses the greedy argmax into the LM head.
const greedyGraph = 1 << 20

func (e *Engine) graphKey(b *kernels.Batch, bucket int) int {
	if b.Greedy && e.model.Fuses(e.be, bucket) {
		return bucket | greedyGraph
	}
	return bucket
}

// captureGraphs captures every decode bucket up front, as vLLM does at
// start-up, so no step pays for a capture.
func (e *Engine) captureGraphs() error {
	g := e.grapher()
	e.buckets = GraphBuckets(e.cfg.MaxNumSeqs)
	if g == nil {
		return nil
	}
	for _, bucket := range e.buckets {
		for _, greedy := range []bool{false, true} {
			b := padToBucket(&kernels.Batch{BlockSize: e.cfg.BlockSize, BlockTableStride: e.blockTableStride(), Greedy: greedy}, bucket)
			key := e.graphKey(b, bucket)
			if greedy && key == bucket {
				continue // the same step as the sampled one
			}
			if _, err := g.Graph(key, b, func() (kernels.Tensor, error) { return e.model.Forward(e.be, b, e.kv, e.ws) }); err != nil {
				return fmt.Errorf("capture decode graph for batch %d: %w", bucket, err)
			}
		}
	}
	return e.be.Sync()
}
