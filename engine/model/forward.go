package model

import (
	"fmt"
	"math"
	"math/bits"

	"benchtop/kernels"
)

// KVCache is the paged key/value pool: per layer, K and V of
// [NumBlocks·BlockSize, KV heads·head size], a token's slot being
// block·BlockSize+offset.
type KVCache struct {
	K, V      []kernels.Tensor
	NumBlocks int
	BlockSize int
	DType     kernels.DType
}

// KVBytesPerBlock is the memory one block takes across all layers, K and V:
// 2 × layers × block size × KV heads × head size × the element size.
func KVBytesPerBlock(c *Config, blockSize int, dt kernels.DType) int64 {
	return int64(blockSize) * c.KVBytesPerToken(dt)
}

// NewKVCache allocates the pool.
func NewKVCache(be kernels.Backend, c *Config, numBlocks, blockSize int, dt kernels.DType) (*KVCache, error) {
	kv := &KVCache{NumBlocks: numBlocks, BlockSize: blockSize, DType: dt}
	w := c.KVWidth()
	for l := 0; l < c.NumLayers; l++ {
		k, err := be.Alloc(dt, numBlocks*blockSize, w)
		if err != nil {
			kv.Free(be)
			return nil, fmt.Errorf("kv cache layer %d: %w", l, err)
		}
		kv.K = append(kv.K, k)
		v, err := be.Alloc(dt, numBlocks*blockSize, w)
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
// rows for the token-wise buffers and MaxLogits rows of logits. A buffer a
// family does not use is nil.
type Workspace struct {
	MaxTokens, MaxLogits int
	h, x, o              kernels.Tensor // [tokens, hidden]: residual stream, normed input, block output
	qkv, attn            kernels.Tensor // [tokens, QKV width], [tokens, heads·head size]
	ffn                  kernels.Tensor // [tokens, ffn_dim] (OPT) or [tokens, 2·intermediate] = [gate | up]
	act                  kernels.Tensor // [tokens, intermediate]: SwiGLU's output (Llama family)
	emb, lastProj        kernels.Tensor // OPT's word_embed_proj_dim-wide buffers, when it differs from hidden
	last, logits         kernels.Tensor // [logits, hidden], [logits, vocab] fp32
	ids                  kernels.Tensor // [logits, 2] fp32: greedy tokens of the fused LM head (kernels.DecodeFuser)
	all                  []kernels.Tensor
}

// NewWorkspace allocates the activation buffers for steps of up to maxTokens
// tokens and maxLogits sampled sequences.
func NewWorkspace(be kernels.Backend, c *Config, maxTokens, maxLogits int, dt kernels.DType) (*Workspace, error) {
	ws := &Workspace{MaxTokens: maxTokens, MaxLogits: maxLogits}
	for _, s := range ws.buffers(c, maxTokens, maxLogits, dt) {
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

// wsBuffer is one workspace buffer: where it goes, its shape and dtype.
type wsBuffer struct {
	dst        *kernels.Tensor
	rows, cols int
	dt         kernels.DType
}

// buffers lists the workspace's buffers for c: one list that NewWorkspace
// allocates and WorkspaceBytes sizes.
func (ws *Workspace) buffers(c *Config, maxTokens, maxLogits int, dt kernels.DType) []wsBuffer {
	h, p, sh := c.HiddenSize, c.ProjDim(), c.AttnShape()
	bufs := []wsBuffer{
		{&ws.h, maxTokens, h, dt}, {&ws.x, maxTokens, h, dt}, {&ws.o, maxTokens, h, dt},
		{&ws.qkv, maxTokens, sh.QKVWidth(), dt}, {&ws.attn, maxTokens, sh.QWidth(), dt},
		{&ws.last, maxLogits, h, dt},
		// Sampling and argmax want full-precision logits.
		{&ws.logits, maxLogits, c.VocabSize, kernels.F32},
		{&ws.ids, maxLogits, 2, kernels.F32},
	}
	if c.IsLlama() {
		return append(bufs, wsBuffer{&ws.ffn, maxTokens, 2 * c.IntermediateSize, dt}, wsBuffer{&ws.act, maxTokens, c.IntermediateSize, dt})
	}
	bufs = append(bufs, wsBuffer{&ws.ffn, maxTokens, c.FFNDim, dt})
	if p != h {
		bufs = append(bufs, wsBuffer{&ws.emb, maxTokens, p, dt}, wsBuffer{&ws.lastProj, maxLogits, p, dt})
	}
	return bufs
}

// WorkspaceBytes is what NewWorkspace allocates for c, and false when the
// size overflows int64 (sizes come from flags: the engine checks this before
// allocating anything).
func WorkspaceBytes(c *Config, maxTokens, maxLogits int, dt kernels.DType) (int64, bool) {
	var total uint64
	for _, s := range (&Workspace{}).buffers(c, maxTokens, maxLogits, dt) {
		if s.rows < 0 || s.cols < 0 {
			return 0, false
		}
		hi, n := bits.Mul64(uint64(s.rows), uint64(s.cols))
		hi2, n2 := bits.Mul64(n, uint64(s.dt.Size()))
		sum, carry := bits.Add64(total, n2, 0)
		if hi != 0 || hi2 != 0 || carry != 0 || sum > math.MaxInt64 {
			return 0, false
		}
		total = sum
	}
	return int64(total), true
}

// Free releases the buffers.
func (ws *Workspace) Free(be kernels.Backend) {
	for _, t := range ws.all {
		be.Free(t)
	}
	ws.all = nil
}

// views are a step's rows of the workspace's buffers (nil where the
// workspace has none).
type views struct {
	h, x, o, qkv, attn, ffn, act, emb kernels.Tensor // n rows
	last, lastProj, logits, ids       kernels.Tensor // NumLogits rows
}

// stepViews checks b fits ws, makes b the backend's batch and views the
// workspace at b's size.
func stepViews(be kernels.Backend, b *kernels.Batch, ws *Workspace) (*views, error) {
	n, nl := len(b.Tokens), b.NumLogits()
	if n == 0 || n > ws.MaxTokens || nl > ws.MaxLogits {
		return nil, fmt.Errorf("forward: %d tokens and %d logits for a workspace of %d and %d", n, nl, ws.MaxTokens, ws.MaxLogits)
	}
	if err := be.SetBatch(b); err != nil {
		return nil, err
	}
	var err error
	view := func(t kernels.Tensor, rows int) kernels.Tensor {
		if err != nil || t == nil {
			return nil
		}
		var v kernels.Tensor
		v, err = be.View(t, rows)
		return v
	}
	v := &views{
		h: view(ws.h, n), x: view(ws.x, n), o: view(ws.o, n), qkv: view(ws.qkv, n), attn: view(ws.attn, n),
		ffn: view(ws.ffn, n), act: view(ws.act, n), emb: view(ws.emb, n),
		last: view(ws.last, nl), lastProj: view(ws.lastProj, nl), logits: view(ws.logits, nl), ids: view(ws.ids, nl),
	}
	return v, err
}

// opList runs operations until the first error and keeps it.
type opList struct{ err error }

func (o *opList) do(f func() error) {
	if o.err == nil {
		o.err = f()
	}
}
