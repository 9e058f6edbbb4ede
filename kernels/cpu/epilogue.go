package cpu

import (
	"fmt"

	"benchtop/kernels"
)

// LinearEpilogue computes out = act(x·wᵀ + bias) + residual: Linear, then
// the epilogue row by row. residual may alias out; x may not.
func (b *Backend) LinearEpilogue(out, x, w, bias, residual kernels.Tensor, act kernels.Act) error {
	o := out.(*Tensor)
	if act != kernels.ActNone && act != kernels.ActReLU {
		return fmt.Errorf("linear epilogue: activation %v", act)
	}
	if x.(*Tensor) == o || (len(o.Data) > 0 && len(data(x)) > 0 && &data(x)[0] == &o.Data[0]) {
		return fmt.Errorf("linear epilogue: out aliases x")
	}
	var res []float32
	if residual != nil {
		res = data(residual)
		if len(res) != len(o.Data) {
			return fmt.Errorf("linear epilogue: residual %v for out %v", residual.Shape(), o.shape)
		}
		if &res[0] == &o.Data[0] {
			res = append([]float32(nil), res...) // Linear overwrites out first
		}
	}
	if err := b.Linear(out, x, w, bias); err != nil {
		return fmt.Errorf("linear epilogue: %w", err)
	}
	for i, v := range o.Data {
		if act == kernels.ActReLU && v < 0 {
			v = 0
		}
		if res != nil {
			v += res[i]
		}
		o.Data[i] = v
	}
	return nil
}

// ArgmaxLinear returns the greedy token of each row of x·wᵀ: Linear into
// fp32 logits, then Argmax (the lowest index on ties).
func (b *Backend) ArgmaxLinear(x, w kernels.Tensor) ([]int32, error) {
	xt, wt := x.(*Tensor), w.(*Tensor)
	if xt.Cols() != wt.Cols() {
		return nil, fmt.Errorf("argmax linear: x %v · w %v", xt.shape, wt.shape)
	}
	n, vocab := xt.Rows(), wt.Rows()
	logits := &Tensor{shape: []int{n, vocab}, dtype: kernels.F32, Data: make([]float32, n*vocab)}
	if err := b.Linear(logits, x, w, nil); err != nil {
		return nil, fmt.Errorf("argmax linear: %w", err)
	}
	ids := make([]int32, n)
	for r := range ids {
		ids[r] = kernels.Argmax(logits.Data[r*vocab : (r+1)*vocab])
	}
	return ids, nil
}
