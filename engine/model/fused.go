package model

import (
	"fmt"

	"benchtop/kernels"
)

// The fused decode path: on a backend with fused small-M GEMMs
// (kernels.DecodeFuser), a step of a few tokens runs each decoder layer as
// five (OPT) or six (Llama) kernels instead of nine — the norms in the
// prologues of the GEMMs that read them, the residual adds (and OPT's
// biases, ReLU and KV write) in the epilogues of the GEMMs that produce
// them, SwiGLU in the down projection's prologue — and the LM head takes the final norm and, for greedy steps,
// the argmax. The residual stream h is the only activation carried between
// layers. The per-kernel path stays the reference (the CPU backend runs it)
// and runs every step the backend does not fuse.

// fuser is be's fused kernels when they take steps of rows tokens whose
// prologue inputs are width wide.
func fuser(be kernels.Backend, rows, width int) kernels.DecodeFuser {
	f, ok := be.(kernels.DecodeFuser)
	if !ok || !f.FusesDecode(rows, width) {
		return nil
	}
	return f
}

// fusable says whether OPT's layout takes the fused path: pre-LN, and no
// projections between the embeddings' and the layers' widths.
func (m *OPT) fusable() bool {
	return m.Cfg.DoLayerNormBefore && m.ProjectIn == nil && m.ProjectOut == nil
}

// Fuses says whether Forward takes the fused path for rows tokens on be.
func (m *OPT) Fuses(be kernels.Backend, rows int) bool {
	return m.fusable() && fuser(be, rows, m.Cfg.HiddenSize) != nil
}

// Fuses says whether Forward takes the fused path for rows tokens on be.
func (m *Llama) Fuses(be kernels.Backend, rows int) bool {
	return fuser(be, rows, max(m.Cfg.HiddenSize, m.Cfg.IntermediateSize)) != nil
}

// identityGather says GatherLast would copy every row to itself: each
// sequence queries one token, in order, and needs its logits (a decode step).
func identityGather(b *kernels.Batch) bool {
	if b.NumLogits() != len(b.Tokens) {
		return false
	}
	for i, s := range b.Seqs {
		if s.QueryStart != i || s.QueryLen != 1 || !s.NeedLogits {
			return false
		}
	}
	return true
}

// lastRows is the rows of out the LM head reads: out itself when the gather
// is the identity, else GatherLast's copy in last.
func lastRows(be kernels.Backend, b *kernels.Batch, ops *opList, out, last kernels.Tensor) kernels.Tensor {
	if identityGather(b) {
		return out
	}
	ops.do(func() error { return be.GatherLast(last, out) })
	return last
}

// fusedHead runs the LM head with the final norm p in its prologue: the
// greedy tokens into v.ids on a greedy step, else the logits.
func fusedHead(f kernels.DecodeFuser, be kernels.Backend, b *kernels.Batch, ops *opList, v *views, head kernels.Tensor, p kernels.Prologue) (kernels.Tensor, error) {
	if b.NumLogits() == 0 {
		return v.logits, ops.err
	}
	last := lastRows(be, b, ops, v.h, v.last)
	if b.Greedy && v.ids != nil {
		ops.do(func() error { return f.FusedArgmax(v.ids, last, head, p) })
		return v.ids, ops.err
	}
	ops.do(func() error { return f.FusedLinear(v.logits, last, head, nil, nil, p, kernels.ActNone) })
	return v.logits, ops.err
}

// forwardFused is OPT's fused path (pre-LN, no projections): per layer, QKV
// with the attention norm in its prologue; bias and KV write; attention;
// out-proj with bias and the residual add in its epilogue; FC1 with the FFN
// norm in its prologue and bias + ReLU in its epilogue; FC2 with bias and
// the residual add.
func (m *OPT) forwardFused(f kernels.DecodeFuser, be kernels.Backend, b *kernels.Batch, kv *KVCache, v *views) (kernels.Tensor, error) {
	h, qkv, attn, ffn := v.h, v.qkv, v.attn, v.ffn
	sh := m.Cfg.AttnShape()
	ln := func(n Norm) kernels.Prologue {
		return kernels.Prologue{Kind: kernels.ProLayerNorm, W: n.W, B: n.B, Eps: LayerNormEps}
	}
	none := kernels.Prologue{}
	ops := &opList{}
	ops.do(func() error { return be.Embed(h, m.TokEmb, m.PosEmb, PositionOffset) })
	for li := range m.Layers {
		l := &m.Layers[li]
		ops.do(func() error { return f.FusedQKV(qkv, h, l.QKV.W, l.QKV.B, kv.K[li], kv.V[li], sh, ln(l.AttnNorm)) })
		ops.do(func() error { return be.Attention(attn, qkv, kv.K[li], kv.V[li], sh) })
		ops.do(func() error { return f.FusedLinear(h, attn, l.Out.W, l.Out.B, h, none, kernels.ActNone) })
		ops.do(func() error { return f.FusedLinear(ffn, h, l.FC1.W, l.FC1.B, nil, ln(l.FFNNorm), kernels.ActReLU) })
		ops.do(func() error { return f.FusedLinear(h, ffn, l.FC2.W, l.FC2.B, h, none, kernels.ActNone) })
		if ops.err != nil {
			return nil, fmt.Errorf("layer %d (fused): %w", li, ops.err)
		}
	}
	final := none
	if m.FinalNorm != nil {
		final = ln(*m.FinalNorm)
	}
	return fusedHead(f, be, b, ops, v, m.TokEmb, final)
}

// forwardFused is the Llama family's fused path: per layer, QKV with the
// input RMSNorm in its prologue; QKV prep and KV write; attention; o_proj
// with the residual add in its epilogue; gate|up with the post-attention
// RMSNorm in its prologue; down with SwiGLU in its prologue and the
// residual add in its epilogue.
func (m *Llama) forwardFused(f kernels.DecodeFuser, be kernels.Backend, b *kernels.Batch, kv *KVCache, v *views, prep kernels.QKVPrep) (kernels.Tensor, error) {
	c := &m.Cfg
	sh := c.AttnShape()
	eps := float32(c.RMSNormEps)
	rms := func(w kernels.Tensor) kernels.Prologue {
		return kernels.Prologue{Kind: kernels.ProRMSNorm, W: w, Eps: eps}
	}
	none, swiglu := kernels.Prologue{}, kernels.Prologue{Kind: kernels.ProSwiGLU}
	h := v.h
	ops := &opList{}
	ops.do(func() error { return be.Embed(h, m.TokEmb, nil, 0) })
	for li := range m.Layers {
		l := &m.Layers[li]
		p := prep
		p.Bias, p.QNorm, p.KNorm = l.QKV.B, l.QNorm, l.KNorm
		ops.do(func() error { return f.FusedLinear(v.qkv, h, l.QKV.W, nil, nil, rms(l.InputNorm), kernels.ActNone) })
		ops.do(func() error { return be.WriteKV(kv.K[li], kv.V[li], v.qkv, sh, p) })
		ops.do(func() error { return be.Attention(v.attn, v.qkv, kv.K[li], kv.V[li], sh) })
		ops.do(func() error { return f.FusedLinear(h, v.attn, l.O.W, l.O.B, h, none, kernels.ActNone) })
		ops.do(func() error {
			return f.FusedLinear(v.ffn, h, l.GateUp.W, l.GateUp.B, nil, rms(l.PostAttnNorm), kernels.ActNone)
		})
		ops.do(func() error { return f.FusedLinear(h, v.ffn, l.Down.W, l.Down.B, h, swiglu, kernels.ActNone) })
		if ops.err != nil {
			return nil, fmt.Errorf("layer %d (fused): %w", li, ops.err)
		}
	}
	return fusedHead(f, be, b, ops, v, m.LMHead, rms(m.FinalNorm))
}
