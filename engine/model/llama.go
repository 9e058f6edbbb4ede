package model

import (
	"fmt"

	"benchtop/kernels"
)

// LlamaLayer is one decoder layer of the Llama family. q, k and v are one
// [QKV width, hidden] matrix (one GEMM) and gate and up one
// [2·intermediate, hidden] matrix (one GEMM), concatenated at load.
type LlamaLayer struct {
	InputNorm    kernels.Tensor // input_layernorm.weight [hidden]
	QKV          Linear         // q_proj | k_proj | v_proj; bias for Qwen2 or attention_bias (WriteKV adds it)
	QNorm, KNorm kernels.Tensor // Qwen3's self_attn.q_norm / k_norm [head_dim]; nil otherwise
	O            Linear         // o_proj (bias with attention_bias)
	PostAttnNorm kernels.Tensor // post_attention_layernorm.weight [hidden]
	GateUp       Linear         // gate_proj | up_proj (bias with mlp_bias)
	Down         Linear         // down_proj (bias with mlp_bias)
}

// Llama is a LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM or
// Qwen3ForCausalLM: RMSNorm, rotary embeddings, grouped-query attention and
// a SwiGLU MLP, as transformers defines them.
type Llama struct {
	Cfg        Config
	WeightType kernels.DType
	TokEmb     kernels.Tensor // embed_tokens [vocab, hidden]
	LMHead     kernels.Tensor // lm_head [vocab, hidden]; TokEmb itself when tied
	FinalNorm  kernels.Tensor // norm.weight [hidden]
	InvFreq    kernels.Tensor // rotary inverse frequencies [head_dim/2], fp32, from the config
	Layers     []LlamaLayer
}

// Checkpoint names: "model." + these, and lm_head.weight at the top.
const (
	llamaPrefix = "model."
	lmHeadName  = "lm_head.weight"
)

// globalParams are the weights outside the layers (without the "model."
// prefix; lm_head is added by the loader when untied).
func (m *Llama) globalParams() []param {
	c := &m.Cfg
	return []param{
		{"embed_tokens.weight", []int{c.VocabSize, c.HiddenSize}, &m.TokEmb},
		{"norm.weight", []int{c.HiddenSize}, &m.FinalNorm},
	}
}

// layerParams are layer i's weights; q/k/v and gate/up parts have no
// destination (they are concatenated into QKV and GateUp).
func (m *Llama) layerParams(i int) []param {
	c := &m.Cfg
	l := &m.Layers[i]
	h, f, hd := c.HiddenSize, c.IntermediateSize, c.HeadDim()
	q, kv := c.NumHeads*hd, c.KVWidth()
	pre := fmt.Sprintf("layers.%d.", i)
	ps := []param{{pre + "input_layernorm.weight", []int{h}, &l.InputNorm}}
	for _, p := range []struct {
		name string
		rows int
	}{{"q_proj", q}, {"k_proj", kv}, {"v_proj", kv}} {
		ps = append(ps, param{pre + "self_attn." + p.name + ".weight", []int{p.rows, h}, nil})
		if c.QKVBias() {
			ps = append(ps, param{pre + "self_attn." + p.name + ".bias", []int{p.rows}, nil})
		}
	}
	if c.QKNorm() {
		ps = append(ps, param{pre + "self_attn.q_norm.weight", []int{hd}, &l.QNorm},
			param{pre + "self_attn.k_norm.weight", []int{hd}, &l.KNorm})
	}
	ps = append(ps, param{pre + "self_attn.o_proj.weight", []int{h, q}, &l.O.W})
	if c.AttentionBias {
		ps = append(ps, param{pre + "self_attn.o_proj.bias", []int{h}, &l.O.B})
	}
	ps = append(ps, param{pre + "post_attention_layernorm.weight", []int{h}, &l.PostAttnNorm},
		param{pre + "mlp.gate_proj.weight", []int{f, h}, nil},
		param{pre + "mlp.up_proj.weight", []int{f, h}, nil},
		param{pre + "mlp.down_proj.weight", []int{h, f}, &l.Down.W})
	if c.MLPBias {
		ps = append(ps, param{pre + "mlp.gate_proj.bias", []int{f}, nil},
			param{pre + "mlp.up_proj.bias", []int{f}, nil},
			param{pre + "mlp.down_proj.bias", []int{h}, &l.Down.B})
	}
	return ps
}

// llamaCheckpoint lists every tensor a checkpoint of c holds, with its
// full name and shape (what a synthetic source draws).
func llamaCheckpoint(c Config) map[string][]int {
	m := &Llama{Cfg: c, Layers: make([]LlamaLayer, c.NumLayers)}
	out := map[string][]int{}
	ps := m.globalParams()
	for i := range m.Layers {
		ps = append(ps, m.layerParams(i)...)
	}
	for _, p := range ps {
		out[llamaPrefix+p.name] = p.shape
	}
	if !c.Tied() {
		out[lmHeadName] = []int{c.VocabSize, c.HiddenSize}
	}
	return out
}

// loadLlama binds every weight of cfg by name from src and uploads it to be
// in dtype dt, a layer at a time (q/k/v and gate/up are concatenated on the
// host, one layer's worth at once). Checkpoints name weights "model.…"
// (or without the prefix, as a bare LlamaModel saves them); lm_head.weight
// is read only when the embeddings are untied.
func loadLlama(be kernels.Backend, cfg Config, src Source, dt kernels.DType) (m *Llama, err error) {
	m = &Llama{Cfg: cfg, WeightType: dt, Layers: make([]LlamaLayer, cfg.NumLayers)}
	built := m
	defer func() {
		if err != nil {
			built.Free(be)
		}
	}()
	prefix := llamaPrefix
	if _, _, ok, err := src.Tensor(prefix + "embed_tokens.weight"); err != nil {
		return nil, err
	} else if !ok {
		prefix = ""
	}
	want := fmt.Sprintf("%s with %d layers", cfg.Arch, cfg.NumLayers)
	host := map[string][]float32{}
	bind := func(ps []param) error {
		for _, p := range ps {
			vals, err := fetch(src, prefix+p.name, p.shape, want)
			if err != nil {
				return err
			}
			if p.dst == nil {
				host[p.name] = vals
				continue
			}
			if *p.dst, err = upload(be, dt, vals, p.shape...); err != nil {
				return fmt.Errorf("weight %s: %w", prefix+p.name, err)
			}
		}
		return nil
	}
	if err := bind(m.globalParams()); err != nil {
		return nil, err
	}
	if cfg.Tied() {
		m.LMHead = m.TokEmb
	} else {
		vals, err := fetch(src, lmHeadName, []int{cfg.VocabSize, cfg.HiddenSize}, want+" and untied embeddings (tie_word_embeddings false)")
		if err != nil {
			return nil, err
		}
		if m.LMHead, err = upload(be, dt, vals, cfg.VocabSize, cfg.HiddenSize); err != nil {
			return nil, fmt.Errorf("weight %s: %w", lmHeadName, err)
		}
	}
	inv := cfg.InvFreq()
	if m.InvFreq, err = upload(be, kernels.F32, inv, len(inv)); err != nil {
		return nil, fmt.Errorf("rotary frequencies: %w", err)
	}
	h, f := cfg.HiddenSize, cfg.IntermediateSize
	qkvRows := cfg.AttnShape().QKVWidth()
	for i := range m.Layers {
		clear(host)
		if err := bind(m.layerParams(i)); err != nil {
			return nil, err
		}
		l := &m.Layers[i]
		pre := fmt.Sprintf("layers.%d.", i)
		part := func(names ...string) []float32 {
			var ps [][]float32
			for _, n := range names {
				ps = append(ps, host[pre+n])
			}
			return concatRows(ps...)
		}
		if l.QKV.W, err = upload(be, dt, part("self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight"), qkvRows, h); err != nil {
			return nil, fmt.Errorf("layer %d qkv: %w", i, err)
		}
		if cfg.QKVBias() {
			if l.QKV.B, err = upload(be, dt, part("self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias"), qkvRows); err != nil {
				return nil, fmt.Errorf("layer %d qkv bias: %w", i, err)
			}
		}
		if l.GateUp.W, err = upload(be, dt, part("mlp.gate_proj.weight", "mlp.up_proj.weight"), 2*f, h); err != nil {
			return nil, fmt.Errorf("layer %d gate|up: %w", i, err)
		}
		if cfg.MLPBias {
			if l.GateUp.B, err = upload(be, dt, part("mlp.gate_proj.bias", "mlp.up_proj.bias"), 2*f); err != nil {
				return nil, fmt.Errorf("layer %d gate|up bias: %w", i, err)
			}
		}
	}
	return m, nil
}

// tensors lists every device tensor the model holds (LMHead only when it is
// not TokEmb).
func (m *Llama) tensors() []*kernels.Tensor {
	out := []*kernels.Tensor{&m.TokEmb, &m.FinalNorm, &m.InvFreq}
	if m.LMHead != m.TokEmb {
		out = append(out, &m.LMHead)
	}
	for i := range m.Layers {
		l := &m.Layers[i]
		out = append(out, &l.InputNorm, &l.QKV.W, &l.QKV.B, &l.QNorm, &l.KNorm, &l.O.W, &l.O.B,
			&l.PostAttnNorm, &l.GateUp.W, &l.GateUp.B, &l.Down.W, &l.Down.B)
	}
	return out
}

// Free releases every weight.
func (m *Llama) Free(be kernels.Backend) {
	for _, t := range m.tensors() {
		if *t != nil {
			be.Free(*t)
			*t = nil
		}
	}
	m.LMHead = nil
}

// WeightBytes is the device memory the weights take.
func (m *Llama) WeightBytes() int64 { return tensorBytes(m.tensors()) }
