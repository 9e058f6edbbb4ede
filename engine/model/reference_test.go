package model

import (
	"math"
	"strconv"
)

// naiveForward is an independent, straightforward OPT forward pass in
// float64 over one whole sequence (no cache, no paging, no batching),
// written from transformers' modeling_opt. It returns the logits after every
// position.
func naiveForward(c Config, w func(name string) []float64, ids []int32) [][]float64 {
	h, p, nh := c.HiddenSize, c.ProjDim(), c.NumHeads
	hd := h / nh
	n := len(ids)
	pre := "model.decoder."
	get := func(name string) []float64 { return w(pre + name) }
	norm := func(x [][]float64, name string) [][]float64 {
		var wt, b []float64
		if c.LayerNormAffine {
			wt, b = get(name+".weight"), get(name+".bias")
		}
		y := make([][]float64, len(x))
		for r, row := range x {
			mean, vr := 0.0, 0.0
			for _, v := range row {
				mean += v
			}
			mean /= float64(len(row))
			for _, v := range row {
				vr += (v - mean) * (v - mean)
			}
			vr /= float64(len(row))
			y[r] = make([]float64, len(row))
			for i, v := range row {
				y[r][i] = (v - mean) / math.Sqrt(vr+LayerNormEps)
				if wt != nil {
					y[r][i] = y[r][i]*wt[i] + b[i]
				}
			}
		}
		return y
	}
	bias := func(name string) []float64 {
		if !c.EnableBias {
			return nil
		}
		return get(name)
	}
	add := func(a, b [][]float64) [][]float64 {
		y := make([][]float64, len(a))
		for r := range a {
			y[r] = make([]float64, len(a[r]))
			for i := range a[r] {
				y[r][i] = a[r][i] + b[r][i]
			}
		}
		return y
	}
	tok, pos := get("embed_tokens.weight"), get("embed_positions.weight")
	x := make([][]float64, n)
	for t, id := range ids {
		x[t] = append([]float64(nil), tok[int(id)*p:int(id+1)*p]...)
	}
	if p != h {
		x = naiveLinear(x, get("project_in.weight"), nil, h)
	}
	for t := range x {
		for i := 0; i < h; i++ {
			x[t][i] += pos[(t+PositionOffset)*h+i]
		}
	}
	for l := 0; l < c.NumLayers; l++ {
		lp := "layers." + strconv.Itoa(l) + "."
		res := x
		if c.DoLayerNormBefore {
			x = norm(x, lp+"self_attn_layer_norm")
		}
		q := naiveLinear(x, get(lp+"self_attn.q_proj.weight"), bias(lp+"self_attn.q_proj.bias"), h)
		k := naiveLinear(x, get(lp+"self_attn.k_proj.weight"), bias(lp+"self_attn.k_proj.bias"), h)
		v := naiveLinear(x, get(lp+"self_attn.v_proj.weight"), bias(lp+"self_attn.v_proj.bias"), h)
		att := naiveAttention(q, k, v, nh, nh, hd)
		x = add(res, naiveLinear(att, get(lp+"self_attn.out_proj.weight"), bias(lp+"self_attn.out_proj.bias"), h))
		if !c.DoLayerNormBefore {
			x = norm(x, lp+"self_attn_layer_norm")
		}
		res = x
		if c.DoLayerNormBefore {
			x = norm(x, lp+"final_layer_norm")
		}
		f := naiveLinear(x, get(lp+"fc1.weight"), bias(lp+"fc1.bias"), c.FFNDim)
		for r := range f {
			for i := range f[r] {
				f[r][i] = math.Max(0, f[r][i])
			}
		}
		x = add(res, naiveLinear(f, get(lp+"fc2.weight"), bias(lp+"fc2.bias"), h))
		if !c.DoLayerNormBefore {
			x = norm(x, lp+"final_layer_norm")
		}
	}
	if c.HasFinalNorm() {
		x = norm(x, "final_layer_norm")
	}
	if p != h {
		x = naiveLinear(x, get("project_out.weight"), nil, p)
	}
	return naiveLinear(x, tok, nil, c.VocabSize)
}
