package model

import (
	"fmt"
	"math"

	"benchtop/kernels"
)

// Linear is a weight [out, in] and an optional bias [out].
type Linear struct{ W, B kernels.Tensor }

// Norm is a layer norm's weight and bias (nil when not elementwise-affine).
type Norm struct{ W, B kernels.Tensor }

// Layer is one OPT decoder layer. Q, K and V are one [3·hidden, hidden]
// matrix (one GEMM), the attention scale folded into the Q rows.
type Layer struct {
	QKV, Out Linear
	AttnNorm Norm // self_attn_layer_norm
	FC1, FC2 Linear
	FFNNorm  Norm // final_layer_norm of the layer
}

// OPT is an OPTForCausalLM. The LM head is tied to TokEmb.
type OPT struct {
	Cfg        Config
	WeightType kernels.DType
	TokEmb     kernels.Tensor // [vocab, proj]
	PosEmb     kernels.Tensor // [max_positions+2, hidden]
	ProjectIn  kernels.Tensor // [hidden, proj], nil when proj == hidden
	ProjectOut kernels.Tensor // [proj, hidden], nil when proj == hidden
	FinalNorm  *Norm
	Layers     []Layer
}

type param struct {
	name  string
	shape []int
	dst   *kernels.Tensor // nil for q/k/v, which are concatenated into QKV
}

// params lists every weight of the checkpoint with its name and shape.
func (m *OPT) params() []param {
	c := &m.Cfg
	h, f, p := c.HiddenSize, c.FFNDim, c.ProjDim()
	ps := []param{
		{"embed_tokens.weight", []int{c.VocabSize, p}, &m.TokEmb},
		{"embed_positions.weight", []int{c.MaxPositions + PositionOffset, h}, &m.PosEmb},
	}
	if p != h {
		ps = append(ps,
			param{"project_in.weight", []int{h, p}, &m.ProjectIn},
			param{"project_out.weight", []int{p, h}, &m.ProjectOut})
	}
	norm := func(name string, n *Norm) {
		if c.LayerNormAffine {
			ps = append(ps, param{name + ".weight", []int{h}, &n.W}, param{name + ".bias", []int{h}, &n.B})
		}
	}
	lin := func(name string, l *Linear, out, in int) {
		var w, b *kernels.Tensor
		if l != nil {
			w, b = &l.W, &l.B
		}
		ps = append(ps, param{name + ".weight", []int{out, in}, w})
		if c.EnableBias {
			ps = append(ps, param{name + ".bias", []int{out}, b})
		}
	}
	for i := range m.Layers {
		l := &m.Layers[i]
		pre := fmt.Sprintf("layers.%d.", i)
		lin(pre+"self_attn.q_proj", nil, h, h)
		lin(pre+"self_attn.k_proj", nil, h, h)
		lin(pre+"self_attn.v_proj", nil, h, h)
		lin(pre+"self_attn.out_proj", &l.Out, h, h)
		norm(pre+"self_attn_layer_norm", &l.AttnNorm)
		lin(pre+"fc1", &l.FC1, f, h)
		lin(pre+"fc2", &l.FC2, h, f)
		norm(pre+"final_layer_norm", &l.FFNNorm)
	}
	if m.FinalNorm != nil {
		norm("final_layer_norm", m.FinalNorm)
	}
	return ps
}

// tensors lists every device tensor the model holds.
func (m *OPT) tensors() []*kernels.Tensor {
	var out []*kernels.Tensor
	for _, p := range m.params() {
		if p.dst != nil {
			out = append(out, p.dst)
		}
	}
	for i := range m.Layers {
		out = append(out, &m.Layers[i].QKV.W, &m.Layers[i].QKV.B)
	}
	return out
}

// loadOPT binds every weight of cfg by name from src and uploads it to be
// in dtype dt. Checkpoints name weights "model.decoder.…" (or "decoder.…"
// in older ones); a missing or misshapen weight is an error naming it.
func loadOPT(be kernels.Backend, cfg Config, src Source, dt kernels.DType) (m *OPT, err error) {
	m = &OPT{Cfg: cfg, WeightType: dt, Layers: make([]Layer, cfg.NumLayers)}
	if cfg.HasFinalNorm() {
		m.FinalNorm = &Norm{}
	}
	built := m // a failing return sets m to nil before this runs
	defer func() {
		if err != nil {
			built.Free(be)
		}
	}()
	prefix := "model.decoder."
	if _, _, ok, err := src.Tensor(prefix + "embed_tokens.weight"); err != nil {
		return nil, err
	} else if !ok {
		prefix = "decoder."
	}
	host := map[string][]float32{} // q, k, v until their layer's QKV is built
	for _, p := range m.params() {
		name := prefix + p.name
		vals, err := fetch(src, name, p.shape, fmt.Sprintf("OPT with %d layers", cfg.NumLayers))
		if err != nil {
			return nil, err
		}
		if p.dst == nil {
			host[p.name] = vals
			continue
		}
		if *p.dst, err = upload(be, dt, vals, p.shape...); err != nil {
			return nil, fmt.Errorf("weight %s: %w", name, err)
		}
	}
	h := cfg.HiddenSize
	scale := float32(1 / math.Sqrt(float64(cfg.HeadDim())))
	for i := range m.Layers {
		pre := fmt.Sprintf("layers.%d.self_attn.", i)
		w := make([]float32, 0, 3*h*h)
		for j, part := range []string{"q_proj", "k_proj", "v_proj"} {
			for _, v := range host[pre+part+".weight"] {
				if j == 0 {
					v *= scale
				}
				w = append(w, v)
			}
		}
		l := &m.Layers[i]
		if l.QKV.W, err = upload(be, dt, w, 3*h, h); err != nil {
			return nil, fmt.Errorf("layer %d qkv: %w", i, err)
		}
		if cfg.EnableBias {
			b := make([]float32, 0, 3*h)
			for j, part := range []string{"q_proj", "k_proj", "v_proj"} {
				for _, v := range host[pre+part+".bias"] {
					if j == 0 {
						v *= scale
					}
					b = append(b, v)
				}
			}
			if l.QKV.B, err = upload(be, dt, b, 3*h); err != nil {
				return nil, fmt.Errorf("layer %d qkv bias: %w", i, err)
			}
		}
	}
	return m, nil
}

// Free releases every weight.
func (m *OPT) Free(be kernels.Backend) {
	for _, t := range m.tensors() {
		if *t != nil {
			be.Free(*t)
			*t = nil
		}
	}
}

// WeightBytes is the device memory the weights take.
func (m *OPT) WeightBytes() int64 { return tensorBytes(m.tensors()) }
