package model

import (
	"fmt"

	"benchtop/kernels"
)

// Forward runs one step: every token of b through the decoder (writing its
// K and V into kv), and returns the logits [b.NumLogits(), vocab] of the
// sequences that need them, a view into the workspace.
//
// Per layer it issues four GEMMs and four fused kernels: QKV GEMM; bias +
// KV write; attention; out-proj GEMM; bias + residual + next layer norm;
// FC1 GEMM with bias + ReLU (one kernel where the backend's LinearEpilogue
// fuses them, else a second pass); FC2 GEMM; bias + residual + next layer
// norm. Steps the backend's fused kernels take run five kernels a layer
// instead (fused.go). A decode step's LM head reads the final rows in place.
func (m *OPT) Forward(be kernels.Backend, b *kernels.Batch, kv *KVCache, ws *Workspace) (kernels.Tensor, error) {
	v, err := stepViews(be, b, ws)
	if err != nil {
		return nil, err
	}
	if m.fusable() {
		if f := fuser(be, len(b.Tokens), m.Cfg.HiddenSize); f != nil {
			return m.forwardFused(f, be, b, kv, v)
		}
	}
	epi, _ := be.(kernels.LinearEpiloguer)
	h, x, qkv, attn, o, ffn, emb := v.h, v.x, v.qkv, v.attn, v.o, v.ffn, v.emb
	last, lastProj, logits := v.last, v.lastProj, v.logits
	nl := b.NumLogits()
	c := &m.Cfg
	pre := c.DoLayerNormBefore
	// OPT folds the attention scale into its Q weights at load.
	sh := c.AttnShape()
	ops := &opList{}
	if m.ProjectIn != nil {
		ops.do(func() error { return be.Embed(emb, m.TokEmb, nil, 0) })
		ops.do(func() error { return be.Linear(h, emb, m.ProjectIn, nil) })
		ops.do(func() error { return be.Embed(x, nil, m.PosEmb, PositionOffset) })
		ops.do(func() error { return be.ResidualLayerNorm(h, x, nil, nil, nil, nil, LayerNormEps) })
	} else {
		ops.do(func() error { return be.Embed(h, m.TokEmb, m.PosEmb, PositionOffset) })
	}
	if pre {
		n0 := &m.Layers[0].AttnNorm
		ops.do(func() error { return be.LayerNorm(x, h, n0.W, n0.B, LayerNormEps) })
	}
	for li := range m.Layers {
		l := &m.Layers[li]
		in := h
		if pre {
			in = x // the attention norm of this layer, written by the step before
		}
		ops.do(func() error { return be.Linear(qkv, in, l.QKV.W, nil) })
		ops.do(func() error { return be.WriteKV(kv.K[li], kv.V[li], qkv, sh, kernels.QKVPrep{Bias: l.QKV.B}) })
		ops.do(func() error { return be.Attention(attn, qkv, kv.K[li], kv.V[li], sh) })
		ops.do(func() error { return be.Linear(o, attn, l.Out.W, nil) })
		if pre {
			ops.do(func() error { return be.ResidualLayerNorm(h, o, l.Out.B, x, l.FFNNorm.W, l.FFNNorm.B, LayerNormEps) })
		} else {
			ops.do(func() error { return be.ResidualLayerNorm(h, o, l.Out.B, h, l.AttnNorm.W, l.AttnNorm.B, LayerNormEps) })
		}
		if epi != nil {
			ops.do(func() error { return epi.LinearEpilogue(ffn, in, l.FC1.W, l.FC1.B, nil, kernels.ActReLU) })
		} else {
			ops.do(func() error { return be.Linear(ffn, in, l.FC1.W, nil) })
			ops.do(func() error { return be.BiasAct(ffn, l.FC1.B, true) })
		}
		ops.do(func() error { return be.Linear(o, ffn, l.FC2.W, nil) })
		switch {
		case !pre:
			ops.do(func() error { return be.ResidualLayerNorm(h, o, l.FC2.B, h, l.FFNNorm.W, l.FFNNorm.B, LayerNormEps) })
		case li+1 < len(m.Layers):
			next := &m.Layers[li+1].AttnNorm
			ops.do(func() error { return be.ResidualLayerNorm(h, o, l.FC2.B, x, next.W, next.B, LayerNormEps) })
		case m.FinalNorm != nil:
			ops.do(func() error {
				return be.ResidualLayerNorm(h, o, l.FC2.B, x, m.FinalNorm.W, m.FinalNorm.B, LayerNormEps)
			})
		default:
			ops.do(func() error { return be.ResidualLayerNorm(h, o, l.FC2.B, nil, nil, nil, LayerNormEps) })
		}
		if ops.err != nil {
			return nil, fmt.Errorf("layer %d: %w", li, ops.err)
		}
	}
	if nl == 0 {
		return logits, ops.err
	}
	out := h
	if pre && m.FinalNorm != nil {
		out = x
	}
	head := lastRows(be, b, ops, out, last)
	if m.ProjectOut != nil {
		src := head
		ops.do(func() error { return be.Linear(lastProj, src, m.ProjectOut, nil) })
		head = lastProj
	}
	ops.do(func() error { return be.Linear(logits, head, m.TokEmb, nil) })
	return logits, ops.err
}
