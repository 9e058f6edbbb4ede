package cpu

import (
	"fmt"

	"benchtop/kernels"
)

// Linear computes out[n,o] = Σ_i x[n,i]·w[o,i] + bias[o]. The output columns
// are split over cores so each weight row is read by one core once per call,
// which is what bounds a decode step; within a core a 2×4 register block
// reuses each loaded x and w value for several products.
func (b *Backend) Linear(out, x, w, bias kernels.Tensor) error {
	o, xt, wt := out.(*Tensor), x.(*Tensor), w.(*Tensor)
	n, k := xt.Rows(), xt.Cols()
	m := wt.Rows()
	if wt.Cols() != k || o.Rows() != n || o.Cols() != m {
		return fmt.Errorf("linear: x %v · w %v into out %v", xt.shape, wt.shape, o.shape)
	}
	bd := data(bias)
	if bd != nil && len(bd) != m {
		return fmt.Errorf("linear: bias of %d for %d outputs", len(bd), m)
	}
	xd, wd, od := xt.Data, wt.Data, o.Data
	// Chunks of 4 output columns keep every worker on the 4-wide path.
	b.parallel((m+3)/4, func(lo, hi int) {
		matmulCols(od, xd, wd, bd, n, k, m, lo*4, min(hi*4, m))
	})
	return nil
}

func matmulCols(od, xd, wd, bd []float32, n, k, m, c0, c1 int) {
	const tileRows = 64 // keep a tile of x hot in cache across the column sweep
	for r0 := 0; r0 < n; r0 += tileRows {
		r1 := min(r0+tileRows, n)
		c := c0
		for ; c+4 <= c1; c += 4 {
			w0, w1, w2, w3 := wd[c*k:(c+1)*k], wd[(c+1)*k:(c+2)*k], wd[(c+2)*k:(c+3)*k], wd[(c+3)*k:(c+4)*k]
			r := r0
			if vec := k &^ 7; haveFMA && vec > 0 {
				// The AVX2 micro-kernel takes the multiple-of-8 part of k; the
				// tail and a last odd row go through the loops below.
				var acc [8]float32
				for ; r < r1; r += 2 {
					x0 := xd[r*k : (r+1)*k]
					x1 := x0 // an odd last row is computed twice, stored once
					if r+1 < r1 {
						x1 = xd[(r+1)*k : (r+2)*k]
					}
					dot2x4(&x0[0], &x1[0], &w0[0], &w1[0], &w2[0], &w3[0], vec, &acc)
					for i := vec; i < k; i++ {
						acc[0] += x0[i] * w0[i]
						acc[1] += x0[i] * w1[i]
						acc[2] += x0[i] * w2[i]
						acc[3] += x0[i] * w3[i]
						acc[4] += x1[i] * w0[i]
						acc[5] += x1[i] * w1[i]
						acc[6] += x1[i] * w2[i]
						acc[7] += x1[i] * w3[i]
					}
					store4(od[r*m+c:r*m+c+4], bd, c, acc[0], acc[1], acc[2], acc[3])
					if r+1 < r1 {
						store4(od[(r+1)*m+c:(r+1)*m+c+4], bd, c, acc[4], acc[5], acc[6], acc[7])
					}
				}
				continue
			}
			for ; r+2 <= r1; r += 2 {
				x0, x1 := xd[r*k:(r+1)*k], xd[(r+1)*k:(r+2)*k]
				var a00, a01, a02, a03, a10, a11, a12, a13 float32
				for i := 0; i < k; i++ {
					xa, xb := x0[i], x1[i]
					wa, wb, wc, wdd := w0[i], w1[i], w2[i], w3[i]
					a00 += xa * wa
					a01 += xa * wb
					a02 += xa * wc
					a03 += xa * wdd
					a10 += xb * wa
					a11 += xb * wb
					a12 += xb * wc
					a13 += xb * wdd
				}
				store4(od[r*m+c:r*m+c+4], bd, c, a00, a01, a02, a03)
				store4(od[(r+1)*m+c:(r+1)*m+c+4], bd, c, a10, a11, a12, a13)
			}
			for ; r < r1; r++ {
				x0 := xd[r*k : (r+1)*k]
				var a0, a1, a2, a3 float32
				for i, xv := range x0 {
					a0 += xv * w0[i]
					a1 += xv * w1[i]
					a2 += xv * w2[i]
					a3 += xv * w3[i]
				}
				store4(od[r*m+c:r*m+c+4], bd, c, a0, a1, a2, a3)
			}
		}
		for ; c < c1; c++ {
			wr := wd[c*k : (c+1)*k]
			for r := r0; r < r1; r++ {
				var a float32
				for i, xv := range xd[r*k : (r+1)*k] {
					a += xv * wr[i]
				}
				if bd != nil {
					a += bd[c]
				}
				od[r*m+c] = a
			}
		}
	}
}

func store4(dst, bd []float32, c int, a0, a1, a2, a3 float32) {
	if bd != nil {
		a0 += bd[c]
		a1 += bd[c+1]
		a2 += bd[c+2]
		a3 += bd[c+3]
	}
	dst[0], dst[1], dst[2], dst[3] = a0, a1, a2, a3
}
