package cpu

import (
	"fmt"
	"math"

	"benchtop/kernels"
)

// ResidualRMSNorm is h += x (x may be nil), then out = h / rms(h) · w, the
// mean of squares taken in float64.
func (b *Backend) ResidualRMSNorm(h, x, out, w kernels.Tensor, eps float32) error {
	ht, ot := h.(*Tensor), out.(*Tensor)
	c := ht.Cols()
	wd := data(w)
	switch {
	case len(wd) != c:
		return fmt.Errorf("residual rmsnorm: weight of %d for rows of %d", len(wd), c)
	case len(ot.Data) != len(ht.Data) || ot.Cols() != c:
		return fmt.Errorf("residual rmsnorm: out %v for h %v", ot.shape, ht.shape)
	}
	if x != nil {
		xd := x.(*Tensor).Data
		if len(xd) != len(ht.Data) {
			return fmt.Errorf("residual rmsnorm: h %v and x %v differ", ht.shape, x.Shape())
		}
		for i, v := range xd {
			ht.Data[i] += v
		}
	}
	b.parallel(ht.Rows(), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			rmsNormRow(ot.Data[r*c:(r+1)*c], ht.Data[r*c:(r+1)*c], wd, eps)
		}
	})
	return nil
}

// rmsNormRow writes x / sqrt(mean(x²) + eps) · w into dst (which may be x).
func rmsNormRow(dst, x, w []float32, eps float32) {
	var ss float64
	for _, v := range x {
		ss += float64(v) * float64(v)
	}
	inv := 1 / math.Sqrt(ss/float64(len(x))+float64(eps))
	for j, v := range x {
		dst[j] = float32(float64(v)*inv) * w[j]
	}
}

// SwiGLU is out = silu(gate) · up over gu = [gate | up].
func (b *Backend) SwiGLU(out, gu kernels.Tensor) error {
	ot, gt := out.(*Tensor), gu.(*Tensor)
	f := ot.Cols()
	if gt.Cols() != 2*f || gt.Rows() != ot.Rows() {
		return fmt.Errorf("swiglu: gate|up %v for out %v", gt.shape, ot.shape)
	}
	b.parallel(ot.Rows(), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			g, u := gt.Data[r*2*f:r*2*f+f], gt.Data[r*2*f+f:(r+1)*2*f]
			o := ot.Data[r*f : (r+1)*f]
			for j, gv := range g {
				o[j] = Silu(gv) * u[j]
			}
		}
	})
	return nil
}

// Silu is x·sigmoid(x).
func Silu(x float32) float32 { return float32(float64(x) / (1 + math.Exp(-float64(x)))) }

var _ kernels.Backend = (*Backend)(nil)
