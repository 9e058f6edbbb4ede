package cpu

import (
	"fmt"
	"math"

	"benchtop/kernels"
)

// WriteKV prepares each token's fused QKV row as p says — bias, per-head
// Q/K RMSNorm, rotary embedding at the token's position, Q scale — and
// stores its K and V parts at the token's slot (rounded to the cache's
// dtype). Everything is checked before anything is written.
func (b *Backend) WriteKV(kc, vc, qkv kernels.Tensor, sh kernels.AttnShape, p kernels.QKVPrep) error {
	kcd, vcd, qt := kc.(*Tensor), vc.(*Tensor), qkv.(*Tensor)
	if err := sh.Validate(); err != nil {
		return fmt.Errorf("write kv: %w", err)
	}
	d, qd, w, hd := sh.KVWidth(), sh.QWidth(), sh.QKVWidth(), sh.HeadDim
	if qt.Cols() != w || kcd.Cols() != d || vcd.Cols() != d {
		return fmt.Errorf("write kv: qkv %v for caches of width %d (%+v)", qt.shape, kcd.Cols(), sh)
	}
	slots, positions := b.batch.Slots, b.batch.Positions
	if qt.Rows() != len(slots) || len(positions) != len(slots) {
		return fmt.Errorf("write kv: %d rows for %d slots and %d positions", qt.Rows(), len(slots), len(positions))
	}
	bias, qn, kn, inv := data(p.Bias), data(p.QNorm), data(p.KNorm), data(p.InvFreq)
	switch {
	case p.Bias != nil && len(bias) != w:
		return fmt.Errorf("write kv: bias of %d for rows of %d", len(bias), w)
	case (p.QNorm != nil && len(qn) != hd) || (p.KNorm != nil && len(kn) != hd):
		return fmt.Errorf("write kv: q/k norm weights of %d and %d for head size %d", len(qn), len(kn), hd)
	case p.InvFreq != nil && (hd%2 != 0 || len(inv) != hd/2):
		return fmt.Errorf("write kv: %d rotary frequencies for head size %d (want an even head size and half as many)", len(inv), hd)
	}
	numSlots := kcd.Rows()
	for _, s := range slots {
		if int(s) >= numSlots {
			return fmt.Errorf("write kv: slot %d outside cache of %d", s, numSlots)
		}
	}
	scale := p.QScale
	if scale == 0 {
		scale = 1
	}
	b.parallel(len(slots), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := qt.Data[i*w : (i+1)*w]
			if bias != nil {
				for j, v := range bias {
					row[j] += v
				}
			}
			for h := 0; h < sh.NumHeads+sh.NumKVHeads; h++ {
				head := row[h*hd : (h+1)*hd]
				norm := kn
				if h < sh.NumHeads {
					norm = qn
				}
				if norm != nil {
					rmsNormRow(head, head, norm, p.NormEps)
				}
				if inv != nil {
					Rotate(head, positions[i], inv)
				}
				if h < sh.NumHeads && scale != 1 {
					for j := range head {
						head[j] *= scale
					}
				}
			}
			s := slots[i]
			if s < 0 {
				continue // padding
			}
			for j := 0; j < d; j++ {
				kcd.Data[int(s)*d+j] = kernels.RoundTo(kcd.dtype, row[qd+j])
				vcd.Data[int(s)*d+j] = kernels.RoundTo(vcd.dtype, row[qd+d+j])
			}
		}
	})
	return nil
}

// Rotate applies the rotary embedding of position pos to one head in the
// rotate-half layout: element i pairs with i+len/2 at angle
// float32(pos)·invFreq[i], the angle's product in fp32 as transformers
// computes it and its cosine and sine in float64.
func Rotate(head []float32, pos int32, invFreq []float32) {
	half := len(head) / 2
	for i, f := range invFreq {
		sin, cos := math.Sincos(float64(float32(pos) * f))
		x1, x2 := float64(head[i]), float64(head[i+half])
		head[i] = float32(x1*cos - x2*sin)
		head[i+half] = float32(x2*cos + x1*sin)
	}
}
