package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"benchtop/kernels"
)

// The attention tests run on the GPU, or with the cudaemu tag on the kernel
// emulator (emu_test.go), which makes them smaller.
var (
	openAttnBackend = Open
	emulated        = false
)

func newAttnRig(t *testing.T) *rig { return openRig(t, openAttnBackend, 64<<30, 7) }

// randCache is a uniform random tensor of unit variance times scale: the
// caches are large, and four values from one draw keep them quick to make.
func (r *rig) randCache(scale float64, dt kernels.DType, shape ...int) pair {
	vals := make([]float32, kernels.Numel(shape))
	const half = 1 << 15
	k := float32(scale * math.Sqrt(3) / half)
	for i := 0; i < len(vals); i += 4 {
		u := r.rng.Uint64()
		for j := 0; j < 4 && i+j < len(vals); j++ {
			vals[i+j] = float32(int32(u>>(16*j)&0xffff)-half) * k
		}
	}
	return r.from(vals, dt, shape...)
}

func (r *rig) free(ps ...pair) {
	for _, p := range ps {
		r.g.Free(p.gpu)
		r.c.Free(p.cpu)
	}
}

// attnCase is one attention geometry on one element type and block size.
type attnCase struct {
	heads, kvHeads, headDim int
	dt                      kernels.DType
	blockSize               int
	scale                   float32 // 0: 1/√headDim
}

func (c attnCase) shape() kernels.AttnShape {
	s := c.scale
	if s == 0 {
		s = float32(1 / math.Sqrt(float64(c.headDim)))
	}
	return kernels.AttnShape{NumHeads: c.heads, NumKVHeads: c.kvHeads, HeadDim: c.headDim, Scale: s}
}

func (c attnCase) String() string {
	return fmt.Sprintf("%d/%d heads × %d %s block %d scale %.3g", c.heads, c.kvHeads, c.headDim, c.dt, c.blockSize, c.shape().Scale)
}

// tol is the relative error allowed against the fp32 reference: P and the
// output are rounded to the element type.
func (c attnCase) tol() float64 {
	if c.dt == kernels.BF16 {
		return 1e-2
	}
	return 3e-3
}

// seqSpec is one sequence of a step: queries and context (queries included).
type seqSpec struct{ qlen, ctx int }

// attnBatch lays the sequences over shuffled blocks of a pool of numBlocks;
// stride > 0 fixes the block-table stride (a graph's).
func attnBatch(rng *rand.Rand, specs []seqSpec, bs, stride int) (b *kernels.Batch, numBlocks int) {
	for _, s := range specs {
		numBlocks += (s.ctx + bs - 1) / bs
	}
	numBlocks += 3
	perm := rng.Perm(numBlocks)
	b = &kernels.Batch{BlockSize: bs, BlockTableStride: stride}
	next := 0
	for _, s := range specs {
		table := make([]int32, (s.ctx+bs-1)/bs)
		for i := range table {
			table[i] = int32(perm[next])
			next++
		}
		start := len(b.Tokens)
		for p := s.ctx - s.qlen; p < s.ctx; p++ {
			b.Tokens = append(b.Tokens, int32(p%50))
			b.Positions = append(b.Positions, int32(p))
			b.Slots = append(b.Slots, table[p/bs]*int32(bs)+int32(p%bs))
		}
		b.Seqs = append(b.Seqs, kernels.SeqSlice{QueryStart: start, QueryLen: s.qlen, ContextLen: s.ctx, BlockTable: table, NeedLogits: true})
	}
	return b, numBlocks
}

// checkAttention runs one step's attention on both backends over random
// caches and queries and compares the NaN-poisoned outputs.
func (r *rig) checkAttention(what string, c attnCase, specs []seqSpec) {
	r.t.Helper()
	b, numBlocks := attnBatch(r.rng, specs, c.blockSize, 0)
	sh := c.shape()
	n := len(b.Tokens)
	kc := r.randCache(1, c.dt, numBlocks*c.blockSize, sh.KVWidth())
	vc := r.randCache(1, c.dt, numBlocks*c.blockSize, sh.KVWidth())
	qkv := r.rand(1.5, c.dt, n, sh.QKVWidth())
	out := r.poisoned(c.dt, n, sh.QWidth())
	defer r.free(kc, vc, qkv, out)
	r.batch(b)
	must(r.t, r.g.Attention(out.gpu, qkv.gpu, kc.gpu, vc.gpu, sh))
	must(r.t, r.c.Attention(out.cpu, qkv.cpu, kc.cpu, vc.cpu, sh))
	p := &r.g.meta.plan
	r.compare(fmt.Sprintf("%s, %v: %d seqs, %d tokens (%d decode items, %d split slots, %d prefill tiles)",
		what, c, len(specs), n, p.numItems, p.numSplit, p.numTiles), out, c.tol())
}

func attnCases() []attnCase {
	if emulated {
		return []attnCase{
			{12, 12, 64, kernels.F16, 16, 0},
			{14, 2, 40, kernels.BF16, 7, 0},
			{4, 2, 128, kernels.F16, 1, 1},
			{2, 1, 256, kernels.BF16, 16, 0},
			{3, 3, 8, kernels.F16, 16, 0},
			{18, 1, 80, kernels.F16, 16, 0}, // 18 query heads per KV head: 3 decode units of 8
		}
	}
	return []attnCase{
		{12, 12, 64, kernels.F16, 16, 0}, // opt-125m
		{12, 12, 64, kernels.BF16, 16, 1},
		{14, 2, 64, kernels.F16, 16, 0},  // qwen2.5-0.5b
		{32, 8, 64, kernels.BF16, 16, 0}, // llama-3.2-1b
		{16, 8, 128, kernels.F16, 16, 0}, // qwen3-0.6b
		{32, 8, 128, kernels.BF16, 7, 0},
		{32, 32, 80, kernels.F16, 16, 0}, // opt-2.7b
		{12, 12, 96, kernels.BF16, 1, 0},
		{16, 8, 256, kernels.F16, 16, 0},
		{14, 2, 256, kernels.BF16, 7, 0},
		{12, 12, 8, kernels.F16, 1, 0},
		{16, 8, 40, kernels.BF16, 16, 0},
		{14, 2, 40, kernels.F16, 7, 0},
		{40, 1, 64, kernels.F16, 16, 0}, // 40 query heads per KV head: 5 decode units of 8
	}
}

// decodeContexts cross the 64-key chunks, the kernels' tiles and, on the
// GPU, 8,192.
func decodeContexts() []int {
	if emulated {
		return []int{1, 2, 15, 63, 64, 65, 130, 257}
	}
	return []int{1, 2, 15, 63, 64, 65, 127, 129, 500, 1000, 2047, 2049, 4097, 8193}
}

func TestAttentionDecode(t *testing.T) {
	r := newAttnRig(t)
	for _, c := range attnCases() {
		var specs []seqSpec
		for _, ctx := range decodeContexts() {
			specs = append(specs, seqSpec{1, ctx})
		}
		r.checkAttention("decode", c, specs)
	}
}

// TestAttentionDecodeLargeBatch: enough context that chunks grow past 64
// keys, split and whole sequences side by side.
func TestAttentionDecodeLargeBatch(t *testing.T) {
	r := newAttnRig(t)
	seqs, maxCtx := 257, 1000
	cases := []attnCase{{12, 12, 64, kernels.F16, 16, 0}, {32, 8, 128, kernels.BF16, 16, 0}, {14, 2, 80, kernels.F16, 7, 0}}
	if emulated {
		seqs, maxCtx = 40, 250
		cases = cases[2:]
	}
	for _, c := range cases {
		var specs []seqSpec
		for range seqs {
			specs = append(specs, seqSpec{1, 1 + r.rng.IntN(maxCtx)})
		}
		specs[seqs/2].ctx = 8 * maxCtx // one long sequence among short ones
		r.checkAttention("large decode", c, specs)
	}
}

func prefillSpecs() []seqSpec {
	if emulated {
		return []seqSpec{{2, 2}, {17, 17}, {65, 70}, {30, 200}}
	}
	return []seqSpec{{2, 2}, {17, 17}, {64, 64}, {65, 65}, {130, 300}, {300, 300}, {100, 1000}, {400, 400}}
}

func TestAttentionPrefill(t *testing.T) {
	r := newAttnRig(t)
	for _, c := range attnCases() {
		r.checkAttention("prefill", c, prefillSpecs())
	}
}

func TestAttentionMixed(t *testing.T) {
	r := newAttnRig(t)
	seqs, maxCtx := 24, 500
	if emulated {
		seqs, maxCtx = 8, 150
	}
	for _, c := range attnCases() {
		var specs []seqSpec
		for range seqs {
			ctx := 1 + r.rng.IntN(maxCtx)
			q := 1
			if r.rng.IntN(2) == 0 {
				q = 1 + r.rng.IntN(ctx)
			}
			specs = append(specs, seqSpec{q, ctx})
		}
		r.checkAttention("mixed", c, specs)
	}
}

// TestAttentionGraphReplay captures a decode step's attention with short
// contexts, as the engine does at start-up, and replays it with others.
func TestAttentionGraphReplay(t *testing.T) {
	r := newAttnRig(t)
	const bucket, bs = 8, 16
	maxLen := 8200
	replays := [][]int{{1, 100, 4097, 65, 8193, 3, 513, 2000}, {64, 1, 2, 7000, 129, 128, 1, 4096}}
	cases := []attnCase{{12, 12, 64, kernels.F16, bs, 0}, {32, 8, 128, kernels.BF16, bs, 0}}
	if emulated {
		maxLen = 400
		replays = [][]int{{1, 100, 257, 65, 3, 5, 200, 64}, {64, 1, 2, 300, 129, 128, 1, 20}}
		cases = cases[1:]
	}
	stride := (maxLen + bs - 1) / bs
	for ci, c := range cases {
		sh := c.shape()
		var poolBlocks int
		var batches []*kernels.Batch
		for _, ctxs := range append([][]int{{1, 1, 1, 1, 1, 1, 1, 1}}, replays...) {
			var specs []seqSpec
			for _, x := range ctxs {
				specs = append(specs, seqSpec{1, x})
			}
			b, nb := attnBatch(r.rng, specs, bs, stride)
			batches = append(batches, b)
			poolBlocks = max(poolBlocks, nb)
		}
		kc := r.randCache(1, c.dt, poolBlocks*bs, sh.KVWidth())
		vc := r.randCache(1, c.dt, poolBlocks*bs, sh.KVWidth())
		qkv := r.rand(1.5, c.dt, bucket, sh.QKVWidth())
		out := r.poisoned(c.dt, bucket, sh.QWidth())
		var cur *kernels.Batch
		step := func() (kernels.Tensor, error) {
			if err := r.g.SetBatch(cur); err != nil {
				return nil, err
			}
			return out.gpu, r.g.Attention(out.gpu, qkv.gpu, kc.gpu, vc.gpu, sh)
		}
		for i, b := range batches {
			cur = b
			poison := make([]float32, bucket*sh.QWidth())
			for j := range poison {
				poison[j] = float32(math.NaN())
			}
			must(t, r.g.Upload(out.gpu, poison))
			if _, err := r.g.Graph(100+ci, b, step); err != nil {
				t.Fatal(err)
			}
			must(t, r.g.Sync())
			r.c.SetBatch(b)
			must(t, r.c.Attention(out.cpu, qkv.cpu, kc.cpu, vc.cpu, sh))
			what := "capture"
			if i > 0 {
				what = fmt.Sprintf("replay %d", i)
			}
			r.compare(fmt.Sprintf("graph %s, %v, contexts %v", what, c, contextsOf(b)), out, c.tol())
		}
		r.free(kc, vc, qkv, out)
	}
	if r.g.NumGraphs() != len(cases) {
		t.Fatalf("%d graphs for %d captures", r.g.NumGraphs(), len(cases))
	}
}

func contextsOf(b *kernels.Batch) []int {
	var out []int
	for _, s := range b.Seqs {
		out = append(out, s.ContextLen)
	}
	return out
}

// TestAttentionRejects: geometries and tensors the kernels cannot take are
// errors, not launches.
func TestAttentionRejects(t *testing.T) {
	r := newAttnRig(t)
	b, numBlocks := attnBatch(r.rng, []seqSpec{{1, 5}, {3, 9}}, 16, 0)
	r.batch(b)
	n := len(b.Tokens)
	mk := func(dt kernels.DType, sh kernels.AttnShape) (out, qkv, kc, vc kernels.Tensor) {
		alloc := func(rows, cols int) kernels.Tensor {
			x, err := r.g.Alloc(dt, rows, cols)
			must(t, err)
			return x
		}
		return alloc(n, sh.QWidth()), alloc(n, sh.QKVWidth()), alloc(numBlocks*16, sh.KVWidth()), alloc(numBlocks*16, sh.KVWidth())
	}
	for _, tc := range []struct {
		name string
		dt   kernels.DType
		sh   kernels.AttnShape
	}{
		{"head size 12", kernels.F16, kernels.AttnShape{NumHeads: 2, NumKVHeads: 2, HeadDim: 12, Scale: 1}},
		{"head size 264", kernels.F16, kernels.AttnShape{NumHeads: 2, NumKVHeads: 2, HeadDim: 264, Scale: 1}},
		{"fp32", kernels.F32, kernels.AttnShape{NumHeads: 2, NumKVHeads: 2, HeadDim: 64, Scale: 1}},
		{"heads not a multiple of KV heads", kernels.F16, kernels.AttnShape{NumHeads: 6, NumKVHeads: 4, HeadDim: 8, Scale: 1}},
	} {
		out, qkv, kc, vc := mk(tc.dt, tc.sh)
		if err := r.g.Attention(out, qkv, kc, vc, tc.sh); err == nil {
			t.Errorf("%s: accepted", tc.name)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}
	sh := kernels.AttnShape{NumHeads: 4, NumKVHeads: 2, HeadDim: 64, Scale: 1}
	out, qkv, kc, vc := mk(kernels.F16, sh)
	bf, _, _, _ := mk(kernels.BF16, sh)
	if err := r.g.Attention(bf, qkv, kc, vc, sh); err == nil {
		t.Error("bf16 out with fp16 qkv: accepted")
	}
	wide := kernels.AttnShape{NumHeads: 4, NumKVHeads: 4, HeadDim: 64, Scale: 1}
	if err := r.g.Attention(out, qkv, kc, vc, wide); err == nil {
		t.Error("a shape the tensors do not have: accepted")
	}
	bad := &kernels.Batch{BlockSize: 16, Tokens: []int32{0}, Positions: []int32{0}, Slots: []int32{0},
		Seqs: []kernels.SeqSlice{{QueryLen: 1, ContextLen: 40, BlockTable: []int32{0}}}}
	if err := r.g.SetBatch(bad); err == nil {
		t.Error("a context longer than its block table: accepted")
	}
}
