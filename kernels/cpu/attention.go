package cpu

import (
	"fmt"
	"math"

	"benchtop/kernels"
)

// Attention is causal attention over the paged cache: query token j of a
// sequence sits at position ContextLen−QueryLen+j and attends to cached
// positions 0..that position, found through the sequence's block table.
func (b *Backend) Attention(out, qkv, kc, vc kernels.Tensor, sh kernels.AttnShape) error {
	o, qt := out.(*Tensor), qkv.(*Tensor)
	kd, vd := kc.(*Tensor).Data, vc.(*Tensor).Data
	if err := sh.Validate(); err != nil {
		return fmt.Errorf("attention: %w", err)
	}
	d, kvd, qkvd := sh.QWidth(), sh.KVWidth(), sh.QKVWidth()
	if o.Cols() != d || qt.Cols() != qkvd || kc.(*Tensor).Cols() != kvd || vc.(*Tensor).Cols() != kvd {
		return fmt.Errorf("attention: qkv %v, out %v, caches %v for %+v", qt.shape, o.shape, kc.Shape(), sh)
	}
	hd, numHeads, group := sh.HeadDim, sh.NumHeads, sh.NumHeads/sh.NumKVHeads
	bs := b.batch.BlockSize
	numSlots := kc.(*Tensor).Rows()
	type job struct{ seq, tok int }
	var jobs []job
	for si, s := range b.batch.Seqs {
		if s.ContextLen > len(s.BlockTable)*bs || s.QueryLen > s.ContextLen {
			return fmt.Errorf("attention: sequence %d has context %d, query %d and %d blocks", si, s.ContextLen, s.QueryLen, len(s.BlockTable))
		}
		for _, blk := range s.BlockTable[:(s.ContextLen+bs-1)/bs] {
			if int(blk)*bs+bs > numSlots || blk < 0 {
				return fmt.Errorf("attention: block %d outside cache of %d slots", blk, numSlots)
			}
		}
		for j := 0; j < s.QueryLen; j++ {
			jobs = append(jobs, job{si, j})
		}
	}
	b.parallel(len(jobs), func(lo, hi int) {
		scores := make([]float32, 0, 256)
		slots := make([]int, 0, 256) // cache rows of the visible keys, shared by every head
		acc := make([]float32, hd)
		for _, jb := range jobs[lo:hi] {
			s := b.batch.Seqs[jb.seq]
			row := s.QueryStart + jb.tok
			n := s.ContextLen - s.QueryLen + jb.tok + 1 // keys visible to this token
			slots = slots[:0]
			for p := 0; p < n; p++ {
				slots = append(slots, int(s.BlockTable[p/bs])*bs+p%bs)
			}
			for h := 0; h < numHeads; h++ {
				qh := qt.Data[row*qkvd+h*hd : row*qkvd+(h+1)*hd]
				kvh := h / group
				scores = scores[:0]
				maxs := float32(math.Inf(-1))
				for _, slot := range slots {
					kh := kd[slot*kvd+kvh*hd : slot*kvd+(kvh+1)*hd]
					var dot float32
					for i, qv := range qh {
						dot += qv * kh[i]
					}
					dot *= sh.Scale
					scores = append(scores, dot)
					maxs = max(maxs, dot)
				}
				var sum float32
				for p := range scores {
					scores[p] = float32(math.Exp(float64(scores[p] - maxs)))
					sum += scores[p]
				}
				clear(acc)
				for p, slot := range slots {
					vh := vd[slot*kvd+kvh*hd : slot*kvd+(kvh+1)*hd]
					w := scores[p] / sum
					for i, vv := range vh {
						acc[i] += w * vv
					}
				}
				copy(o.Data[row*d+h*hd:row*d+(h+1)*hd], acc)
			}
		}
	})
	return nil
}
