package model

import (
	"fmt"

	"benchtop/kernels"
)

// Linear is a weight [out, in] and an optional bias [out].
type Linear struct{ W, B kernels.Tensor }

// Norm is a layer norm's weight and bias (nil when not elementwise-affine).
type Norm struct{ W, B kernels.Tensor }

// Layer is one OPT decoder layer.
type Layer struct {
	Q, K, V, Out Linear
	AttnNorm     Norm // self_attn_layer_norm
	FC1, FC2     Linear
	FFNNorm      Norm // final_layer_norm of the layer
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
	dst   *kernels.Tensor
	shape []int
}

// params lists every weight with its checkpoint name and shape.
func (m *OPT) params() []param {
	c := &m.Cfg
	h, f, p := c.HiddenSize, c.FFNDim, c.ProjDim()
	ps := []param{
		{"embed_tokens.weight", &m.TokEmb, []int{c.VocabSize, p}},
		{"embed_positions.weight", &m.PosEmb, []int{c.MaxPositions + PositionOffset, h}},
	}
	if p != h {
		ps = append(ps,
			param{"project_in.weight", &m.ProjectIn, []int{h, p}},
			param{"project_out.weight", &m.ProjectOut, []int{p, h}})
	}
	norm := func(name string, n *Norm) {
		if c.LayerNormAffine {
			ps = append(ps, param{name + ".weight", &n.W, []int{h}}, param{name + ".bias", &n.B, []int{h}})
		}
	}
	lin := func(name string, l *Linear, out, in int) {
		ps = append(ps, param{name + ".weight", &l.W, []int{out, in}})
		if c.EnableBias {
			ps = append(ps, param{name + ".bias", &l.B, []int{out}})
		}
	}
	for i := range m.Layers {
		l := &m.Layers[i]
		pre := fmt.Sprintf("layers.%d.", i)
		lin(pre+"self_attn.q_proj", &l.Q, h, h)
		lin(pre+"self_attn.k_proj", &l.K, h, h)
		lin(pre+"self_attn.v_proj", &l.V, h, h)
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

// Load binds every weight of cfg by name from src and uploads it to be in
// dtype dt. Checkpoints name weights "model.decoder.…" (or "decoder.…" in
// older ones); a missing or misshapen weight is an error naming it.
func Load(be kernels.Backend, cfg Config, src Source, dt kernels.DType) (*OPT, error) {
	m := &OPT{Cfg: cfg, WeightType: dt, Layers: make([]Layer, cfg.NumLayers)}
	if cfg.HasFinalNorm() {
		m.FinalNorm = &Norm{}
	}
	prefix := "model.decoder."
	if _, _, ok, err := src.Tensor(prefix + "embed_tokens.weight"); err != nil {
		return nil, err
	} else if !ok {
		prefix = "decoder."
	}
	for _, p := range m.params() {
		name := prefix + p.name
		vals, shape, ok, err := src.Tensor(name)
		if err != nil {
			m.Free(be)
			return nil, err
		}
		if !ok {
			m.Free(be)
			return nil, fmt.Errorf("checkpoint has no weight %s (OPT with %d layers expects it)", name, cfg.NumLayers)
		}
		if !sameShape(shape, p.shape) {
			m.Free(be)
			return nil, fmt.Errorf("weight %s has shape %v, config says %v", name, shape, p.shape)
		}
		t, err := be.Alloc(dt, p.shape...)
		if err != nil {
			m.Free(be)
			return nil, fmt.Errorf("weight %s: %w", name, err)
		}
		*p.dst = t
		if err := be.Upload(t, vals); err != nil {
			m.Free(be)
			return nil, fmt.Errorf("weight %s: %w", name, err)
		}
	}
	return m, nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Free releases every weight.
func (m *OPT) Free(be kernels.Backend) {
	for _, p := range m.params() {
		if *p.dst != nil {
			be.Free(*p.dst)
			*p.dst = nil
		}
	}
}

// WeightBytes is the device memory the weights take.
func (m *OPT) WeightBytes() int64 {
	var n int64
	for _, p := range m.params() {
		n += int64(kernels.Numel(p.shape)) * int64(m.WeightType.Size())
	}
	return n
}
