package model

import (
	"fmt"
	"math"

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
	MaxTokens, MaxLogits        int
	h, x, q, k, v, attn, ffn    kernels.Tensor
	emb, last, lastProj, logits kernels.Tensor
	all                         []kernels.Tensor
}

// NewWorkspace allocates the activation buffers for steps of up to maxTokens
// tokens and maxLogits sampled sequences.
func NewWorkspace(be kernels.Backend, c *Config, maxTokens, maxLogits int, dt kernels.DType) (*Workspace, error) {
	ws := &Workspace{MaxTokens: maxTokens, MaxLogits: maxLogits}
	h, p := c.HiddenSize, c.ProjDim()
	specs := []struct {
		dst        *kernels.Tensor
		rows, cols int
	}{
		{&ws.h, maxTokens, h}, {&ws.x, maxTokens, h}, {&ws.q, maxTokens, h}, {&ws.k, maxTokens, h},
		{&ws.v, maxTokens, h}, {&ws.attn, maxTokens, h}, {&ws.ffn, maxTokens, c.FFNDim},
		{&ws.emb, maxTokens, p}, {&ws.last, maxLogits, h}, {&ws.lastProj, maxLogits, p},
		{&ws.logits, maxLogits, c.VocabSize},
	}
	for _, s := range specs {
		sdt := dt
		if s.dst == &ws.logits {
			sdt = kernels.F32 // sampling and argmax want full-precision logits
		}
		t, err := be.Alloc(sdt, s.rows, s.cols)
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

// WorkspaceBytes is what NewWorkspace will allocate: the activation reserve.
func WorkspaceBytes(c *Config, maxTokens, maxLogits int, dt kernels.DType) int64 {
	h, p := int64(c.HiddenSize), int64(c.ProjDim())
	rows := int64(maxTokens)*(6*h+int64(c.FFNDim)+p) + int64(maxLogits)*(h+p)
	return rows*int64(dt.Size()) + int64(maxLogits)*int64(c.VocabSize)*4
}

// Forward runs one step: every token of b through the decoder (writing its
// K and V into kv), and returns the logits [b.NumLogits(), vocab] of the
// sequences that need them, a view into the workspace.
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
	h, x, q, k, v := view(ws.h, n), view(ws.x, n), view(ws.q, n), view(ws.k, n), view(ws.v, n)
	attn, ffn, emb := view(ws.attn, n), view(ws.ffn, n), view(ws.emb, n)
	last, lastProj, logits := view(ws.last, nl), view(ws.lastProj, nl), view(ws.logits, nl)
	if err != nil {
		return nil, err
	}
	c := &m.Cfg
	ops := &opList{}
	if m.ProjectIn != nil {
		ops.do(func() error { return be.Embed(emb, m.TokEmb, nil, 0) })
		ops.do(func() error { return be.Linear(h, emb, m.ProjectIn, nil) })
		ops.do(func() error { return be.Embed(x, nil, m.PosEmb, PositionOffset) })
		ops.do(func() error { return be.Add(h, h, x) })
	} else {
		ops.do(func() error { return be.Embed(h, m.TokEmb, m.PosEmb, PositionOffset) })
	}
	scale := float32(1 / math.Sqrt(float64(c.HeadDim())))
	for li := range m.Layers {
		l := &m.Layers[li]
		// Attention block.
		in := h
		if c.DoLayerNormBefore {
			ops.do(func() error { return be.LayerNorm(x, h, l.AttnNorm.W, l.AttnNorm.B, LayerNormEps) })
			in = x
		}
		ops.do(func() error { return be.Linear(q, in, l.Q.W, l.Q.B) })
		ops.do(func() error { return be.Scale(q, scale) })
		ops.do(func() error { return be.Linear(k, in, l.K.W, l.K.B) })
		ops.do(func() error { return be.Linear(v, in, l.V.W, l.V.B) })
		ops.do(func() error { return be.WriteKV(kv.K[li], kv.V[li], k, v) })
		ops.do(func() error { return be.Attention(attn, q, kv.K[li], kv.V[li], c.NumHeads) })
		ops.do(func() error { return be.Linear(x, attn, l.Out.W, l.Out.B) })
		ops.do(func() error { return be.Add(h, h, x) })
		if !c.DoLayerNormBefore {
			ops.do(func() error { return be.LayerNorm(h, h, l.AttnNorm.W, l.AttnNorm.B, LayerNormEps) })
		}
		// Feed-forward block.
		in = h
		if c.DoLayerNormBefore {
			ops.do(func() error { return be.LayerNorm(x, h, l.FFNNorm.W, l.FFNNorm.B, LayerNormEps) })
			in = x
		}
		ops.do(func() error { return be.Linear(ffn, in, l.FC1.W, l.FC1.B) })
		ops.do(func() error { return be.ReLU(ffn) })
		ops.do(func() error { return be.Linear(x, ffn, l.FC2.W, l.FC2.B) })
		ops.do(func() error { return be.Add(h, h, x) })
		if !c.DoLayerNormBefore {
			ops.do(func() error { return be.LayerNorm(h, h, l.FFNNorm.W, l.FFNNorm.B, LayerNormEps) })
		}
		if ops.err != nil {
			return nil, fmt.Errorf("layer %d: %w", li, ops.err)
		}
	}
	if nl == 0 {
		return logits, ops.err
	}
	out := h
	if m.FinalNorm != nil {
		ops.do(func() error { return be.LayerNorm(x, h, m.FinalNorm.W, m.FinalNorm.B, LayerNormEps) })
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
