package model

import (
	"fmt"
	"math"

	"benchtop/kernels"
)

// Forward runs one step: every token of b through the decoder (writing its
// K and V into kv), and returns the logits [b.NumLogits(), vocab] of the
// sequences that need them, a view into the workspace.
//
// Per layer it issues four GEMMs and five kernels: QKV GEMM; QKV prep
// (bias, Qwen3's q/k norm, rotary embedding, the 1/sqrt(head size) scale
// folded into Q, K/V write); attention (Scale 1); o_proj GEMM; residual +
// post-attention RMSNorm; gate|up GEMM; SwiGLU; down GEMM; residual + the
// next layer's input RMSNorm (the final norm after the last layer). Steps
// the backend's fused kernels take run six kernels a layer instead
// (fused.go). A decode step's LM head reads the final rows in place.
func (m *Llama) Forward(be kernels.Backend, b *kernels.Batch, kv *KVCache, ws *Workspace) (kernels.Tensor, error) {
	v, err := stepViews(be, b, ws)
	if err != nil {
		return nil, err
	}
	c := &m.Cfg
	sh := c.AttnShape()
	eps := float32(c.RMSNormEps)
	prep := kernels.QKVPrep{InvFreq: m.InvFreq, NormEps: eps, QScale: float32(1 / math.Sqrt(float64(c.HeadDim())))}
	if f := fuser(be, len(b.Tokens), max(c.HiddenSize, c.IntermediateSize)); f != nil {
		return m.forwardFused(f, be, b, kv, v, prep)
	}
	ops := &opList{}
	ops.do(func() error { return be.Embed(v.h, m.TokEmb, nil, 0) })
	ops.do(func() error { return be.ResidualRMSNorm(v.h, nil, v.x, m.Layers[0].InputNorm, eps) })
	for li := range m.Layers {
		l := &m.Layers[li]
		p := prep
		p.Bias, p.QNorm, p.KNorm = l.QKV.B, l.QNorm, l.KNorm
		next := m.FinalNorm
		if li+1 < len(m.Layers) {
			next = m.Layers[li+1].InputNorm
		}
		ops.do(func() error { return be.Linear(v.qkv, v.x, l.QKV.W, nil) })
		ops.do(func() error { return be.WriteKV(kv.K[li], kv.V[li], v.qkv, sh, p) })
		ops.do(func() error { return be.Attention(v.attn, v.qkv, kv.K[li], kv.V[li], sh) })
		ops.do(func() error { return be.Linear(v.o, v.attn, l.O.W, l.O.B) })
		ops.do(func() error { return be.ResidualRMSNorm(v.h, v.o, v.x, l.PostAttnNorm, eps) })
		ops.do(func() error { return be.Linear(v.ffn, v.x, l.GateUp.W, l.GateUp.B) })
		ops.do(func() error { return be.SwiGLU(v.act, v.ffn) })
		ops.do(func() error { return be.Linear(v.o, v.act, l.Down.W, l.Down.B) })
		ops.do(func() error { return be.ResidualRMSNorm(v.h, v.o, v.x, next, eps) })
		if ops.err != nil {
			return nil, fmt.Errorf("layer %d: %w", li, ops.err)
		}
	}
	if b.NumLogits() == 0 {
		return v.logits, nil
	}
	last := lastRows(be, b, ops, v.x, v.last)
	ops.do(func() error { return be.Linear(v.logits, last, m.LMHead, nil) })
	return v.logits, ops.err
}
