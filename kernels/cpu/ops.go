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

func (b *Backend) ReLU(x kernels.Tensor) error {
	xd := data(x)
	for i, v := range xd {
		if v < 0 {
			xd[i] = 0
		}
	}
	return nil
}

func (b *Backend) Add(out, a, c kernels.Tensor) error {
	od, ad, cd := data(out), data(a), data(c)
	if len(ad) != len(cd) || len(od) != len(ad) {
		return fmt.Errorf("add: sizes %d, %d into %d", len(ad), len(cd), len(od))
	}
	for i := range od {
		od[i] = ad[i] + cd[i]
	}
	return nil
}

func (b *Backend) Scale(x kernels.Tensor, s float32) error {
	xd := data(x)
	for i := range xd {
		xd[i] *= s
	}
	return nil
}

func (b *Backend) WriteKV(kc, vc, k, v kernels.Tensor) error {
	kcd, vcd := kc.(*Tensor), vc.(*Tensor)
	kd, vd := k.(*Tensor), v.(*Tensor)
	d := kd.Cols()
	slots := b.batch.Slots
	if kd.Rows() != len(slots) {
		return fmt.Errorf("write kv: %d rows for %d slots", kd.Rows(), len(slots))
	}
	numSlots := kcd.Rows()
	for i, s := range slots {
		if int(s) < 0 || int(s) >= numSlots {
			return fmt.Errorf("write kv: slot %d outside cache of %d", s, numSlots)
		}
		dst := int(s) * d
		for j := 0; j < d; j++ {
			kcd.Data[dst+j] = kernels.RoundTo(kcd.dtype, kd.Data[i*d+j])
			vcd.Data[dst+j] = kernels.RoundTo(vcd.dtype, vd.Data[i*d+j])
		}
	}
	return nil
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
	b.parallel(len(params), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			out[r] = kernels.SampleRow(lt.Data[r*v:(r+1)*v], params[r])
		}
	})
	return out, nil
}
