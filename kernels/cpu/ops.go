package cpu

import (
	"fmt"
	"math"

	"benchtop/kernels"
)

func (b *Backend) Embed(out, tok, pos kernels.Tensor, posOffset int) error {
	o := out.(*Tensor)
	d := o.Cols()
	toks := b.batch.Tokens
	if o.Rows() != len(toks) {
		return fmt.Errorf("embed: out %v for %d tokens", o.shape, len(toks))
	}
	if tok == nil && pos == nil {
		return fmt.Errorf("embed: neither a token nor a position table")
	}
	for _, t := range []kernels.Tensor{tok, pos} {
		if t != nil && t.(*Tensor).Cols() != d {
			return fmt.Errorf("embed: table %v into out %v", t.Shape(), o.shape)
		}
	}
	for i, t := range toks {
		row := o.Data[i*d : (i+1)*d]
		clear(row)
		if tok != nil {
			te := tok.(*Tensor)
			if int(t) < 0 || int(t) >= te.Rows() {
				return fmt.Errorf("embed: token %d outside vocabulary of %d", t, te.Rows())
			}
			copy(row, te.Data[int(t)*d:(int(t)+1)*d])
		}
		if pos != nil {
			pe := pos.(*Tensor)
			p := int(b.batch.Positions[i]) + posOffset
			if p < 0 || p >= pe.Rows() {
				return fmt.Errorf("embed: position %d outside table of %d", p, pe.Rows())
			}
			for j, v := range pe.Data[p*d : (p+1)*d] {
				row[j] += v
			}
		}
	}
	return nil
}

func (b *Backend) LayerNorm(out, x, w, bias kernels.Tensor, eps float32) error {
	o, xt := out.(*Tensor), x.(*Tensor)
	d := xt.Cols()
	wd, bd := data(w), data(bias)
	for r := 0; r < xt.Rows(); r++ {
		row := xt.Data[r*d : (r+1)*d]
		var mean float64
		for _, v := range row {
			mean += float64(v)
		}
		mean /= float64(d)
		var vr float64
		for _, v := range row {
			dv := float64(v) - mean
			vr += dv * dv
		}
		inv := 1 / math.Sqrt(vr/float64(d)+float64(eps))
		orow := o.Data[r*d : (r+1)*d]
		for j, v := range row {
			y := float32((float64(v) - mean) * inv)
			if wd != nil {
				y *= wd[j]
			}
			if bd != nil {
				y += bd[j]
			}
			orow[j] = y
		}
	}
	return nil
}

func (b *Backend) BiasAct(x, bias kernels.Tensor, relu bool) error {
	xt := x.(*Tensor)
	c := xt.Cols()
	bd := data(bias)
	if bd != nil && len(bd) != c {
		return fmt.Errorf("bias act: bias of %d for rows of %d", len(bd), c)
	}
	for i, v := range xt.Data {
		if bd != nil {
			v += bd[i%c]
		}
		if relu && v < 0 {
			v = 0
		}
		xt.Data[i] = v
	}
	return nil
}

func (b *Backend) ResidualLayerNorm(h, x, bias, out, w, lb kernels.Tensor, eps float32) error {
	ht, xt := h.(*Tensor), x.(*Tensor)
	if len(ht.Data) != len(xt.Data) {
		return fmt.Errorf("residual: h %v and x %v differ", ht.shape, xt.shape)
	}
	c := ht.Cols()
	bd := data(bias)
	for i := range ht.Data {
		v := ht.Data[i] + xt.Data[i]
		if bd != nil {
			v += bd[i%c]
		}
		ht.Data[i] = v
	}
	if out == nil {
		return nil
	}
	return b.LayerNorm(out, h, w, lb, eps)
}

func (b *Backend) GatherLast(out, x kernels.Tensor) error {
	o, xt := out.(*Tensor), x.(*Tensor)
	d := xt.Cols()
	r := 0
	for _, s := range b.batch.Seqs {
		if !s.NeedLogits {
			continue
		}
		src := s.QueryStart + s.QueryLen - 1
		copy(o.Data[r*d:(r+1)*d], xt.Data[src*d:(src+1)*d])
		r++
	}
	if r != o.Rows() {
		return fmt.Errorf("gather last: %d rows for out %v", r, o.shape)
	}
	return nil
}

func (b *Backend) Sample(logits kernels.Tensor, params []kernels.SampleParams) ([]int32, error) {
	lt := logits.(*Tensor)
	v := lt.Cols()
	if lt.Rows() < len(params) {
		return nil, fmt.Errorf("sample: %d rows for %d params", lt.Rows(), len(params))
	}
	out := make([]int32, len(params))
	if lt.greedy {
		for r, p := range params {
			if p.Temperature > 0 {
				return nil, fmt.Errorf("sample: row %d samples at temperature %g, but the step computed greedy tokens only", r, p.Temperature)
			}
			out[r] = int32(lt.Data[2*r])
		}
		return out, nil
	}
	b.parallel(len(params), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			out[r] = kernels.SampleRow(lt.Data[r*v:(r+1)*v], params[r])
		}
	})
	return out, nil
}
