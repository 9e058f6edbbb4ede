package cuda

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"benchtop/kernels"
)

// randomBatch is a mixed step: prefill chunks and decodes of several
// sequences over shuffled blocks, sizes that are not block multiples.
func randomBatch(rng *rand.Rand, numSeqs, blockSize, numBlocks, vocab int) *kernels.Batch {
	b := &kernels.Batch{BlockSize: blockSize}
	perm := rng.Perm(numBlocks)
	next := 0
	for s := 0; s < numSeqs; s++ {
		ctx := 1 + rng.IntN(90)
		q := 1
		if rng.IntN(2) == 0 {
			q = 1 + rng.IntN(ctx)
		}
		nb := (ctx + blockSize - 1) / blockSize
		table := make([]int32, nb)
		for i := range table {
			table[i] = int32(perm[next])
			next++
		}
		start := len(b.Tokens)
		for p := ctx - q; p < ctx; p++ {
			b.Tokens = append(b.Tokens, int32(rng.IntN(vocab)))
			b.Positions = append(b.Positions, int32(p))
			b.Slots = append(b.Slots, table[p/blockSize]*int32(blockSize)+int32(p%blockSize))
		}
		b.Seqs = append(b.Seqs, kernels.SeqSlice{QueryStart: start, QueryLen: q, ContextLen: ctx, BlockTable: table, NeedLogits: rng.IntN(3) > 0})
	}
	return b
}

func TestEmbedAndLayerNorms(t *testing.T) {
	r := newRig(t)
	for _, dt := range []kernels.DType{kernels.F16, kernels.BF16} {
		embedAndNorms(t, r, dt)
	}
}

// tolFor widens an fp16 tolerance to bf16's 3 fewer mantissa bits.
func tolFor(dt kernels.DType, fp16 float64) float64 {
	if dt == kernels.BF16 {
		return 8 * fp16
	}
	return fp16
}

func embedAndNorms(t *testing.T, r *rig, dt kernels.DType) {
	const vocab, d = 1003, 200
	b := randomBatch(r.rng, 7, 16, 64, vocab)
	r.batch(b)
	n := len(b.Tokens)
	tok, pos := r.rand(1, dt, vocab, d), r.rand(1, dt, 200, d)
	out := r.poisoned(dt, n, d)
	must(t, r.g.Embed(out.gpu, tok.gpu, pos.gpu, 2))
	must(t, r.c.Embed(out.cpu, tok.cpu, pos.cpu, 2))
	r.compare(fmt.Sprintf("%s embed", dt), out, tolFor(dt, 1e-3))
	only := r.poisoned(dt, n, d)
	must(t, r.g.Embed(only.gpu, nil, pos.gpu, 0))
	must(t, r.c.Embed(only.cpu, nil, pos.cpu, 0))
	r.compare("embed positions only", only, tolFor(dt, 1e-3))

	x, w, bias := r.rand(3, dt, 37, 771), r.rand(1, dt, 771), r.rand(1, dt, 771)
	ln := r.poisoned(dt, 37, 771)
	must(t, r.g.LayerNorm(ln.gpu, x.gpu, w.gpu, bias.gpu, 1e-5))
	must(t, r.c.LayerNorm(ln.cpu, x.cpu, w.cpu, bias.cpu, 1e-5))
	r.compare("layernorm", ln, tolFor(dt, 2e-3))
	must(t, r.g.LayerNorm(x.gpu, x.gpu, nil, nil, 1e-5)) // in place, no affine
	must(t, r.c.LayerNorm(x.cpu, x.cpu, nil, nil, 1e-5))
	r.compare("layernorm in place", x, tolFor(dt, 2e-3))

	// Residual + norm, pre-LN (separate out) and post-LN (out aliases h).
	// Even widths (half2 rows), still not a multiple of the block.
	h, x2, bias2 := r.rand(1, dt, 37, 770), r.rand(1, dt, 37, 770), r.rand(1, dt, 770)
	w, bias = r.rand(1, dt, 770), r.rand(1, dt, 770)
	normed := r.poisoned(dt, 37, 770)
	must(t, r.g.ResidualLayerNorm(h.gpu, x2.gpu, bias2.gpu, normed.gpu, w.gpu, bias.gpu, 1e-5))
	must(t, r.c.ResidualLayerNorm(h.cpu, x2.cpu, bias2.cpu, normed.cpu, w.cpu, bias.cpu, 1e-5))
	r.compare("residual (h)", h, tolFor(dt, 2e-3))
	r.compare("residual layernorm (out)", normed, tolFor(dt, 2e-3))
	must(t, r.g.ResidualLayerNorm(h.gpu, x2.gpu, nil, h.gpu, w.gpu, bias.gpu, 1e-5))
	must(t, r.c.ResidualLayerNorm(h.cpu, x2.cpu, nil, h.cpu, w.cpu, bias.cpu, 1e-5))
	r.compare("residual layernorm in place", h, tolFor(dt, 2e-3))
	must(t, r.g.ResidualLayerNorm(x2.gpu, h.gpu, nil, nil, nil, nil, 1e-5))
	must(t, r.c.ResidualLayerNorm(x2.cpu, h.cpu, nil, nil, nil, nil, 1e-5))
	r.compare("residual only", x2, tolFor(dt, 2e-3))
	// Wider than a warp's registers hold: the block-per-row kernels.
	for _, wide := range []int{2050, 3001} {
		hw, xw, ww := r.rand(1, dt, 5, wide), r.rand(1, dt, 5, wide), r.rand(1, dt, wide)
		nw := r.poisoned(dt, 5, wide)
		must(t, r.g.ResidualLayerNorm(hw.gpu, xw.gpu, nil, nw.gpu, ww.gpu, ww.gpu, 1e-5))
		must(t, r.c.ResidualLayerNorm(hw.cpu, xw.cpu, nil, nw.cpu, ww.cpu, ww.cpu, 1e-5))
		r.compare(fmt.Sprintf("residual layernorm %d wide", wide), nw, tolFor(dt, 2e-3))
		must(t, r.g.LayerNorm(hw.gpu, hw.gpu, nil, nil, 1e-5))
		must(t, r.c.LayerNorm(hw.cpu, hw.cpu, nil, nil, 1e-5))
		r.compare(fmt.Sprintf("layernorm %d wide", wide), hw, tolFor(dt, 2e-3))
	}

	a := r.rand(1, dt, 1001, 3) // odd width: the scalar tail
	ab := r.rand(1, dt, 3)
	must(t, r.g.BiasAct(a.gpu, ab.gpu, true))
	must(t, r.c.BiasAct(a.cpu, ab.cpu, true))
	r.compare("bias + relu", a, tolFor(dt, 1e-3))
	must(t, r.g.BiasAct(a.gpu, ab.gpu, false))
	must(t, r.c.BiasAct(a.cpu, ab.cpu, false))
	r.compare("bias", a, tolFor(dt, 1e-3))
}

func TestLinear(t *testing.T) {
	r := newRig(t)
	for _, dt := range []kernels.DType{kernels.F16, kernels.BF16} {
		for _, sz := range [][3]int{{1, 768, 768}, {13, 100, 257}, {129, 64, 3000}, {100, 768, 3072}} {
			n, k, m := sz[0], sz[1], sz[2]
			x, w, bias := r.rand(1, dt, n, k), r.rand(0.05, dt, m, k), r.rand(0.5, dt, m)
			out := r.poisoned(dt, n, m)
			must(t, r.g.Linear(out.gpu, x.gpu, w.gpu, bias.gpu))
			must(t, r.c.Linear(out.cpu, x.cpu, w.cpu, bias.cpu))
			r.compare(fmt.Sprintf("linear %v %s out", sz, dt), out, tolFor(dt, 2e-3))
			o32 := r.poisoned(kernels.F32, n, m)
			must(t, r.g.Linear(o32.gpu, x.gpu, w.gpu, nil))
			must(t, r.c.Linear(o32.cpu, x.cpu, w.cpu, nil))
			r.compare(fmt.Sprintf("linear %v %s operands, fp32 out", sz, dt), o32, 1e-3)
		}
	}
}

func TestWriteKVAttentionGather(t *testing.T) {
	r := newRig(t)
	for _, tc := range []struct{ heads, hd, bs, seqs int }{{12, 64, 16, 9}, {3, 32, 5, 4}, {2, 128, 1, 3}, {5, 96, 7, 11}} {
		d := tc.heads * tc.hd
		const numBlocks = 700
		b := randomBatch(r.rng, tc.seqs, tc.bs, numBlocks, 100)
		n := len(b.Tokens)
		r.batch(b)
		kc, vc := r.rand(1, kernels.F16, numBlocks*tc.bs, d), r.rand(1, kernels.F16, numBlocks*tc.bs, d)
		qkv, qb := r.rand(0.5, kernels.F16, n, 3*d), r.rand(0.5, kernels.F16, 3*d)
		sh := kernels.AttnShape{NumHeads: tc.heads, NumKVHeads: tc.heads, HeadDim: tc.hd, Scale: 1}
		must(t, r.g.WriteKV(kc.gpu, vc.gpu, qkv.gpu, sh, kernels.QKVPrep{Bias: qb.gpu}))
		must(t, r.c.WriteKV(kc.cpu, vc.cpu, qkv.cpu, sh, kernels.QKVPrep{Bias: qb.cpu}))
		r.compare("qkv + bias", qkv, 1e-3)
		r.compare("kv write (K)", kc, 1e-3)
		r.compare("kv write (V)", vc, 1e-3)
		out := r.poisoned(kernels.F16, n, d)
		must(t, r.g.Attention(out.gpu, qkv.gpu, kc.gpu, vc.gpu, sh))
		must(t, r.c.Attention(out.cpu, qkv.cpu, kc.cpu, vc.cpu, sh))
		r.compare(fmt.Sprintf("attention heads=%d dim=%d block=%d", tc.heads, tc.hd, tc.bs), out, 5e-3)
		last := r.poisoned(kernels.F16, b.NumLogits(), d)
		must(t, r.g.GatherLast(last.gpu, out.gpu))
		must(t, r.c.GatherLast(last.cpu, out.cpu))
		r.compare("gather last", last, 5e-3)
	}
}

func TestSample(t *testing.T) {
	r := newRig(t)
	const rows, vocab = 64, 50272
	logits := r.rand(2, kernels.F32, rows, vocab)
	host, _ := r.c.Download(logits.cpu)
	var greedy, params []kernels.SampleParams
	for i := 0; i < rows; i++ {
		greedy = append(greedy, kernels.SampleParams{})
		p := kernels.SampleParams{Temperature: []float32{0.5, 0.8, 1, 1.3}[i%4], Seed: uint64(1000 + i), Step: uint64(i)}
		switch i % 4 {
		case 1:
			p.TopP = 0.95
		case 2:
			p.TopK = 50
		case 3:
			p.TopK, p.TopP = 200, 0.5
		}
		params = append(params, p)
	}
	got, err := r.g.Sample(logits.gpu, greedy)
	must(t, err)
	checkSampled(t, "greedy", got, host, vocab, greedy) // deterministic: every row must agree
	got, err = r.g.Sample(logits.gpu, params)
	must(t, err)
	same := checkSampled(t, "sampled", got, host, vocab, params)
	t.Logf("sampled: %d of %d rows equal the CPU reference", same, rows)
}

func TestGraphReplay(t *testing.T) {
	r := newRig(t)
	const d = 64
	x := r.rand(1, kernels.F16, 8, d)
	out := r.poisoned(kernels.F16, 8, d)
	var b *kernels.Batch
	fn := func() (kernels.Tensor, error) {
		if err := r.g.SetBatch(b); err != nil {
			return nil, err
		}
		if err := r.g.BiasAct(x.gpu, nil, true); err != nil {
			return nil, err
		}
		return out.gpu, r.g.ResidualLayerNorm(x.gpu, x.gpu, nil, out.gpu, nil, nil, 1e-5)
	}
	b = &kernels.Batch{BlockSize: 16, Tokens: []int32{1}, Positions: []int32{0}, Slots: []int32{0},
		Seqs: []kernels.SeqSlice{{QueryLen: 1, ContextLen: 1, BlockTable: []int32{0}, NeedLogits: true}}}
	for i := 0; i < 3; i++ { // capture, then two replays: x is scaled three times
		if _, err := r.g.Graph(1, b, fn); err != nil {
			t.Fatal(err)
		}
		must(t, r.c.BiasAct(x.cpu, nil, true))
		must(t, r.c.ResidualLayerNorm(x.cpu, x.cpu, nil, out.cpu, nil, nil, 1e-5))
	}
	must(t, r.g.Sync())
	r.compare("graph replays", out, 1e-3)
	if r.g.NumGraphs() != 1 {
		t.Fatalf("%d graphs", r.g.NumGraphs())
	}
}

func TestBiasActWide(t *testing.T) {
	r := newRig(t)
	for _, dt := range []kernels.DType{kernels.F16, kernels.BF16} {
		a, ab := r.rand(1, dt, 37, 3074), r.rand(1, dt, 3074)
		must(t, r.g.BiasAct(a.gpu, ab.gpu, true))
		must(t, r.c.BiasAct(a.cpu, ab.cpu, true))
		r.compare(fmt.Sprintf("%s bias + relu, 3074 wide", dt), a, tolFor(dt, 1e-3))
	}
}
