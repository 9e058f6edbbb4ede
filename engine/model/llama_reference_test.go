package model

import (
	"math"
	"strconv"
)

// naiveLlama is an independent, straightforward forward pass of the Llama
// family in float64 over one whole sequence (no cache, no paging, no
// batching, no fused weights), written from transformers' modeling_llama,
// modeling_mistral, modeling_qwen2 and modeling_qwen3. It returns the
// logits after every position.
func naiveLlama(c Config, w func(name string) []float64, ids []int32) [][]float64 {
	h, f := c.HiddenSize, c.IntermediateSize
	nh, nkv := c.NumHeads, c.NumKVHeads
	if nkv == 0 {
		nkv = nh
	}
	hd := h / nh
	if c.HeadDimension > 0 {
		hd = c.HeadDimension
	}
	n := len(ids)
	get := func(name string) []float64 { return w("model." + name) }
	// LlamaRMSNorm: x / sqrt(mean(x²) + eps) · weight.
	rms := func(x []float64, wt []float64) []float64 {
		ss := 0.0
		for _, v := range x {
			ss += v * v
		}
		inv := 1 / math.Sqrt(ss/float64(len(x))+c.RMSNormEps)
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = v * inv * wt[i]
		}
		return y
	}
	bias := func(on bool, name string) []float64 {
		if !on {
			return nil
		}
		return get(name)
	}
	qkvBias := c.AttentionBias || c.Arch == archQwen2
	// The rotary embedding's frequencies (modeling_rope_utils): default,
	// linear and llama3.
	invFreq := make([]float64, hd/2)
	for i := range invFreq {
		invFreq[i] = 1 / math.Pow(c.RopeTheta, float64(2*i)/float64(hd))
	}
	if r := c.RopeScaling; r != nil {
		kind := r.RopeType
		if kind == "" {
			kind = r.Type
		}
		for i, fr := range invFreq {
			switch kind {
			case "linear":
				invFreq[i] = fr / r.Factor
			case "llama3":
				wavelen := 2 * math.Pi / fr
				lowWavelen := float64(r.OriginalMaxPositions) / r.LowFreqFactor
				highWavelen := float64(r.OriginalMaxPositions) / r.HighFreqFactor
				scaled := fr
				if wavelen > lowWavelen {
					scaled = fr / r.Factor
				}
				if wavelen >= highWavelen && wavelen <= lowWavelen {
					smooth := (float64(r.OriginalMaxPositions)/wavelen - r.LowFreqFactor) / (r.HighFreqFactor - r.LowFreqFactor)
					scaled = (1-smooth)*scaled/r.Factor + smooth*scaled
				}
				invFreq[i] = scaled
			}
		}
	}
	// apply_rotary_pos_emb: x·cos + rotate_half(x)·sin, with
	// rotate_half(x) = [-x2, x1] and cos, sin = cat(freqs, freqs).
	rope := func(x []float64, pos int) []float64 {
		y := make([]float64, len(x))
		half := len(x) / 2
		for i := 0; i < len(x); i++ {
			fr := invFreq[i%half]
			cos, sin := math.Cos(float64(pos)*fr), math.Sin(float64(pos)*fr)
			var rot float64
			if i < half {
				rot = -x[i+half]
			} else {
				rot = x[i-half]
			}
			y[i] = x[i]*cos + rot*sin
		}
		return y
	}
	emb := get("embed_tokens.weight")
	x := make([][]float64, n)
	for t, id := range ids {
		x[t] = append([]float64(nil), emb[int(id)*h:int(id+1)*h]...)
	}
	for l := 0; l < c.NumLayers; l++ {
		lp := "layers." + strconv.Itoa(l) + "."
		xn := make([][]float64, n)
		for t := range x {
			xn[t] = rms(x[t], get(lp+"input_layernorm.weight"))
		}
		q := naiveLinear(xn, get(lp+"self_attn.q_proj.weight"), bias(qkvBias, lp+"self_attn.q_proj.bias"), nh*hd)
		k := naiveLinear(xn, get(lp+"self_attn.k_proj.weight"), bias(qkvBias, lp+"self_attn.k_proj.bias"), nkv*hd)
		v := naiveLinear(xn, get(lp+"self_attn.v_proj.weight"), bias(qkvBias, lp+"self_attn.v_proj.bias"), nkv*hd)
		for t := 0; t < n; t++ {
			for hh := 0; hh < nh; hh++ {
				head := q[t][hh*hd : (hh+1)*hd]
				if c.Arch == archQwen3 {
					head = rms(head, get(lp+"self_attn.q_norm.weight"))
				}
				copy(q[t][hh*hd:], rope(head, t))
			}
			for hh := 0; hh < nkv; hh++ {
				head := k[t][hh*hd : (hh+1)*hd]
				if c.Arch == archQwen3 {
					head = rms(head, get(lp+"self_attn.k_norm.weight"))
				}
				copy(k[t][hh*hd:], rope(head, t))
			}
		}
		att := naiveAttention(q, k, v, nh, nkv, hd)
		o := naiveLinear(att, get(lp+"self_attn.o_proj.weight"), bias(c.AttentionBias, lp+"self_attn.o_proj.bias"), h)
		for t := range x {
			for i := range x[t] {
				x[t][i] += o[t][i]
			}
			xn[t] = rms(x[t], get(lp+"post_attention_layernorm.weight"))
		}
		gate := naiveLinear(xn, get(lp+"mlp.gate_proj.weight"), bias(c.MLPBias, lp+"mlp.gate_proj.bias"), f)
		up := naiveLinear(xn, get(lp+"mlp.up_proj.weight"), bias(c.MLPBias, lp+"mlp.up_proj.bias"), f)
		for t := range gate {
			for i, g := range gate[t] {
				gate[t][i] = g / (1 + math.Exp(-g)) * up[t][i]
			}
		}
		down := naiveLinear(gate, get(lp+"mlp.down_proj.weight"), bias(c.MLPBias, lp+"mlp.down_proj.bias"), h)
		for t := range x {
			for i := range x[t] {
				x[t][i] += down[t][i]
			}
		}
	}
	for t := range x {
		x[t] = rms(x[t], get("norm.weight"))
	}
	head := emb
	if c.TieWordEmbeddings == nil || !*c.TieWordEmbeddings {
		head = w("lm_head.weight")
	}
	return naiveLinear(x, head, nil, c.VocabSize)
}
