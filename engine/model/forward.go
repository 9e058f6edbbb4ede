package model

import (
	"fmt"

	"benchtop/kernels"
)

// KVCache is the paged key/value pool: per layer, K and V of
// [NumBlocks·BlockSize, hidden], a token's slot being block·BlockSize+offset.
type KVCache struct {
	K, V      []kernels.Tensor
	NumBlocks int
	BlockSize int
	DType     kernels.DType
}

// KVBytesPerBlock is the memory one block takes across all layers, K and V.
func KVBytesPerBlock(c *Config, blockSize int, dt kernels.DType) int64 {
	return 2 * int64(c.NumLayers) * int64(blockSize) * int64(c.HiddenSize) * int64(dt.Size())
}

// NewKVCache allocates the pool.
func NewKVCache(be kernels.Backend, c *Config, numBlocks, blockSize int, dt kernels.DType) (*KVCache, error) {
	kv := &KVCache{NumBlocks: numBlocks, BlockSize: blockSize, DType: dt}
	for l := 0; l < c.NumLayers; l++ {
		k, err := be.Alloc(dt, numBlocks*blockSize, c.HiddenSize)
		if err != nil {
			kv.Free(be)
			return nil, fmt.Errorf("kv cache layer %d: %w", l, err)
		}
		kv.K = append(kv.K, k)
		v, err := be.Alloc(dt, numBlocks*blockSize, c.HiddenSize)
		if err != nil {
			kv.Free(be)
			return nil, fmt.Errorf("kv cache layer %d: %w", l, err)
		}
		kv.V = append(kv.V, v)
	}
	return kv, nil
}

// Free releases the pool.
func (kv *KVCache) Free(be kernels.Backend) {
	for _, t := range append(kv.K, kv.V...) {
		be.Free(t)
	}
	kv.K, kv.V = nil, nil
}

// Workspace holds the activations of one step at its largest: MaxTokens
// rows for the token-wise buffers and MaxLogits rows of logits.
type Workspace struct {
	MaxTokens, MaxLogits         int
	h, x, qkv, attn, o, ffn, emb kernels.Tensor
	last, lastProj, logits       kernels.Tensor
	all                          []kernels.Tensor
}

// NewWorkspace allocates the activation buffers for steps of up to maxTokens
// tokens and maxLogits sampled sequences.
func NewWorkspace(be kernels.Backend, c *Config, maxTokens, maxLogits int, dt kernels.DType) (*Workspace, error) {
	ws := &Workspace{MaxTokens: maxTokens, MaxLogits: maxLogits}
	h, p := c.HiddenSize, c.ProjDim()
	specs := []struct {
		dst        *kernels.Tensor
		rows, cols int
		dt         kernels.DType
	}{
		{&ws.h, maxTokens, h, dt}, {&ws.x, maxTokens, h, dt}, {&ws.qkv, maxTokens, 3 * h, dt},
		{&ws.attn, maxTokens, h, dt}, {&ws.o, maxTokens, h, dt}, {&ws.ffn, maxTokens, c.FFNDim, dt},
		{&ws.emb, maxTokens, p, dt}, {&ws.last, maxLogits, h, dt}, {&ws.lastProj, maxLogits, p, dt},
		// Sampling and argmax want full-precision logits.
		{&ws.logits, maxLogits, c.VocabSize, kernels.F32},
	}
	for _, s := range specs {
		t, err := be.Alloc(s.dt, s.rows, s.cols)
		if err != nil {
			ws.Free(be)
			return nil, fmt.Errorf("workspace for %d tokens: %w", maxTokens, err)
		}
		*s.dst = t
		ws.all = append(ws.all, t)
	}
	return ws, nil
}

// Free releases the buffers.
func (ws *Workspace) Free(be kernels.Backend) {
	for _, t := range ws.all {
		be.Free(t)
	}
	ws.all = nil
}

// Forward runs one step: every token of b through the decoder (writing its
// K and V into kv), and returns the logits [b.NumLogits(), vocab] of the
// sequences that need them, a view into the workspace.
//
// Per layer it issues four GEMMs and four fused kernels: QKV GEMM; bias +
// KV write; attention; out-proj GEMM; bias + residual + next layer norm;
// FC1 GEMM; bias + ReLU; FC2 GEMM; bias + residual + next layer norm.
func (m *OPT) Forward(be kernels.Backend, b *kernels.Batch, kv *KVCache, ws *Workspace) (kernels.Tensor, error) {
	n, nl := len(b.Tokens), b.NumLogits()
	if n == 0 || n > ws.MaxTokens || nl > ws.MaxLogits {
		return nil, fmt.Errorf("forward: %d tokens and %d logits for a workspace of %d and %d", n, nl, ws.MaxTokens, ws.MaxLogits)
	}
	if err := be.SetBatch(b); err != nil {
		return nil, err
	}
	var err error
	view := func(t kernels.Tensor, rows int) kernels.Tensor {
		if err != nil {
			return nil
		}
		var v kernels.Tensor
		v, err = be.View(t, rows)
		return v
	}
	h, x, qkv, attn, o := view(ws.h, n), view(ws.x, n), view(ws.qkv, n), view(ws.attn, n), view(ws.o, n)
	ffn, emb := view(ws.ffn, n), view(ws.emb, n)
	last, lastProj, logits := view(ws.last, nl), view(ws.lastProj, nl), view(ws.logits, nl)
	if err != nil {
		return nil, err
	}
	c := &m.Cfg
	pre := c.DoLayerNormBefore
	// OPT folds the attention scale into its Q weights at load.
	sh := kernels.AttnShape{NumHeads: c.NumHeads, NumKVHeads: c.NumHeads, HeadDim: c.HeadDim(), Scale: 1}
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
		ops.do(func() error { return be.WriteKV(kv.K[li], kv.V[li], qkv, l.QKV.B, sh) })
		ops.do(func() error { return be.Attention(attn, qkv, kv.K[li], kv.V[li], sh) })
		ops.do(func() error { return be.Linear(o, attn, l.Out.W, nil) })
		if pre {
			ops.do(func() error { return be.ResidualLayerNorm(h, o, l.Out.B, x, l.FFNNorm.W, l.FFNNorm.B, LayerNormEps) })
		} else {
			ops.do(func() error { return be.ResidualLayerNorm(h, o, l.Out.B, h, l.AttnNorm.W, l.AttnNorm.B, LayerNormEps) })
		}
		ops.do(func() error { return be.Linear(ffn, in, l.FC1.W, nil) })
		ops.do(func() error { return be.BiasAct(ffn, l.FC1.B, true) })
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
	ops.do(func() error { return be.GatherLast(last, out) })
	head := last
	if m.ProjectOut != nil {
		ops.do(func() error { return be.Linear(lastProj, last, m.ProjectOut, nil) })
		head = lastProj
	}
	ops.do(func() error { return be.Linear(logits, head, m.TokEmb, nil) })
	return logits, ops.err
}

// opList runs operations until the first error and keeps it.
type opList struct{ err error }

func (o *opList) do(f func() error) {
	if o.err == nil {
		o.err = f()
	}
}
