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
	linear := func(x [][]float64, wt, b []float64, out int) [][]float64 {
		y := make([][]float64, len(x))
		in := len(x[0])
		for r := range x {
			y[r] = make([]float64, out)
			for o := 0; o < out; o++ {
				s := 0.0
				if b != nil {
					s = b[o]
				}
				for i := 0; i < in; i++ {
					s += x[r][i] * wt[o*in+i]
				}
				y[r][o] = s
			}
		}
		return y
	}
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
		x = linear(x, get("project_in.weight"), nil, h)
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
		q := linear(x, get(lp+"self_attn.q_proj.weight"), bias(lp+"self_attn.q_proj.bias"), h)
		k := linear(x, get(lp+"self_attn.k_proj.weight"), bias(lp+"self_attn.k_proj.bias"), h)
		v := linear(x, get(lp+"self_attn.v_proj.weight"), bias(lp+"self_attn.v_proj.bias"), h)
		att := make([][]float64, n)
		for t := 0; t < n; t++ {
			att[t] = make([]float64, h)
			for hh := 0; hh < nh; hh++ {
				scores := make([]float64, t+1)
				mx := math.Inf(-1)
				for s := 0; s <= t; s++ {
					d := 0.0
					for i := 0; i < hd; i++ {
						d += q[t][hh*hd+i] / math.Sqrt(float64(hd)) * k[s][hh*hd+i]
					}
					scores[s] = d
					mx = math.Max(mx, d)
				}
				sum := 0.0
				for s := range scores {
					scores[s] = math.Exp(scores[s] - mx)
					sum += scores[s]
				}
				for s := 0; s <= t; s++ {
					for i := 0; i < hd; i++ {
						att[t][hh*hd+i] += scores[s] / sum * v[s][hh*hd+i]
					}
				}
			}
		}
		x = add(res, linear(att, get(lp+"self_attn.out_proj.weight"), bias(lp+"self_attn.out_proj.bias"), h))
		if !c.DoLayerNormBefore {
			x = norm(x, lp+"self_attn_layer_norm")
		}
		res = x
		if c.DoLayerNormBefore {
			x = norm(x, lp+"final_layer_norm")
		}
		f := linear(x, get(lp+"fc1.weight"), bias(lp+"fc1.bias"), c.FFNDim)
		for r := range f {
			for i := range f[r] {
				f[r][i] = math.Max(0, f[r][i])
			}
		}
		x = add(res, linear(f, get(lp+"fc2.weight"), bias(lp+"fc2.bias"), h))
		if !c.DoLayerNormBefore {
			x = norm(x, lp+"final_layer_norm")
		}
	}
	if c.HasFinalNorm() {
		x = norm(x, "final_layer_norm")
	}
	if p != h {
		x = linear(x, get("project_out.weight"), nil, p)
	}
	return linear(x, tok, nil, c.VocabSize)
}
