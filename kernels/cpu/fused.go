package cpu

import (
	"fmt"

	"benchtop/kernels"
)

// The twins of the CUDA backend's fused decode kernels
// (kernels.DecodeFuser): the prologue as the per-kernel ops compute it,
// then LinearEpilogue or ArgmaxLinear. The CPU backend is the reference, so
// its model runs the per-kernel path (FusesDecode is false); tests run the
// fused path through these.

// FusesDecode is false: the CPU runs the model's per-kernel path.
func (b *Backend) FusesDecode(rows, width int) bool { return false }

// prologue applies p to each row of x into a new [rows, k] tensor.
func (b *Backend) prologue(x *Tensor, k int, p kernels.Prologue) (*Tensor, error) {
	in := k
	if p.Kind == kernels.ProSwiGLU {
		in = 2 * k
	}
	if x.Cols() != in {
		return nil, fmt.Errorf("prologue %v: x %v for inputs of %d", p.Kind, x.shape, k)
	}
	for _, t := range []kernels.Tensor{p.W, p.B} {
		if t != nil && len(data(t)) != k {
			return nil, fmt.Errorf("prologue %v: vector %v for rows of %d", p.Kind, t.Shape(), k)
		}
	}
	out := &Tensor{shape: []int{x.Rows(), k}, dtype: x.dtype, Data: make([]float32, x.Rows()*k)}
	switch p.Kind {
	case kernels.ProNone:
		copy(out.Data, x.Data)
	case kernels.ProLayerNorm:
		if err := b.LayerNorm(out, x, p.W, p.B, p.Eps); err != nil {
			return nil, err
		}
	case kernels.ProRMSNorm:
		w := data(p.W)
		if w == nil {
			w = make([]float32, k)
			for i := range w {
				w[i] = 1
			}
		}
		for r := 0; r < x.Rows(); r++ {
			rmsNormRow(out.Data[r*k:(r+1)*k], x.Data[r*k:(r+1)*k], w, p.Eps)
		}
	case kernels.ProSwiGLU:
		if err := b.SwiGLU(out, x); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("prologue %v", p.Kind)
	}
	return out, nil
}

// FusedLinear is out = act(p(x)·wᵀ + bias) + residual.
func (b *Backend) FusedLinear(out, x, w, bias, residual kernels.Tensor, p kernels.Prologue, act kernels.Act) error {
	px, err := b.prologue(x.(*Tensor), w.(*Tensor).Cols(), p)
	if err != nil {
		return fmt.Errorf("fused linear: %w", err)
	}
	return b.LinearEpilogue(out, px, w, bias, residual, act)
}

// FusedQKV is FusedLinear, then WriteKV with the bias already added.
func (b *Backend) FusedQKV(qkv, x, w, bias, kc, vc kernels.Tensor, s kernels.AttnShape, p kernels.Prologue) error {
	if err := b.FusedLinear(qkv, x, w, bias, nil, p, kernels.ActNone); err != nil {
		return err
	}
	return b.WriteKV(kc, vc, qkv, s, kernels.QKVPrep{})
}

// FusedArgmax writes the greedy token of each row of p(x)·wᵀ into ids
// [n, 2] (the token in column 0), which Sample then returns.
func (b *Backend) FusedArgmax(ids, x, w kernels.Tensor, p kernels.Prologue) error {
	it := ids.(*Tensor)
	px, err := b.prologue(x.(*Tensor), w.(*Tensor).Cols(), p)
	if err != nil {
		return fmt.Errorf("fused argmax: %w", err)
	}
	if it.Cols() != 2 || it.Rows() < px.Rows() {
		return fmt.Errorf("fused argmax: ids %v for %d rows", it.shape, px.Rows())
	}
	toks, err := b.ArgmaxLinear(px, w)
	if err != nil {
		return err
	}
	for r, t := range toks {
		it.Data[2*r] = float32(t)
	}
	it.greedy = true
	return nil
}
