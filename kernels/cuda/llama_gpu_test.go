package cuda

import (
	"fmt"
	"math"
	"testing"

	"benchtop/kernels"
)

// TestLlamaKernels checks residual RMSNorm, SwiGLU and the QKV prep (bias,
// Qwen3's q/k norm, rotary embedding, Q scale, GQA KV write) against the CPU
// backend, in fp16 and bf16, at widths that are not block multiples,
// outputs poisoned with NaN.
func TestLlamaKernels(t *testing.T) {
	r := newRig(t)
	for _, dt := range []kernels.DType{kernels.F16, kernels.BF16} {
		for _, d := range []int{771, 2050, 64} {
			rows := 37
			h, x, w := r.rand(1, dt, rows, d), r.rand(1, dt, rows, d), r.rand(1, dt, d)
			out := r.poisoned(dt, rows, d)
			must(t, r.g.ResidualRMSNorm(h.gpu, x.gpu, out.gpu, w.gpu, 1e-6))
			must(t, r.c.ResidualRMSNorm(h.cpu, x.cpu, out.cpu, w.cpu, 1e-6))
			r.compare(fmt.Sprintf("%s residual rmsnorm %d wide (h)", dt, d), h, tolFor(dt, 2e-3))
			r.compare(fmt.Sprintf("%s residual rmsnorm %d wide (out)", dt, d), out, tolFor(dt, 2e-3))
			first := r.poisoned(dt, rows, d)
			must(t, r.g.ResidualRMSNorm(h.gpu, nil, first.gpu, w.gpu, 1e-5))
			must(t, r.c.ResidualRMSNorm(h.cpu, nil, first.cpu, w.cpu, 1e-5))
			r.compare(fmt.Sprintf("%s rmsnorm without residual", dt), first, tolFor(dt, 2e-3))
			must(t, r.g.ResidualRMSNorm(h.gpu, x.gpu, h.gpu, w.gpu, 1e-5))
			must(t, r.c.ResidualRMSNorm(h.cpu, x.cpu, h.cpu, w.cpu, 1e-5))
			r.compare(fmt.Sprintf("%s residual rmsnorm in place", dt), h, tolFor(dt, 2e-3))
		}
		for _, f := range []int{771, 1536, 5} {
			gu := r.rand(2, dt, 13, 2*f)
			out := r.poisoned(dt, 13, f)
			must(t, r.g.SwiGLU(out.gpu, gu.gpu))
			must(t, r.c.SwiGLU(out.cpu, gu.cpu))
			r.compare(fmt.Sprintf("%s swiglu f=%d", dt, f), out, tolFor(dt, 2e-3))
		}
		qkvPrep(t, r, dt)
		b := randomBatch(r.rng, 9, 16, 64, 100)
		r.batch(b)
		x := r.rand(1, dt, len(b.Tokens), 70)
		last := r.poisoned(dt, b.NumLogits(), 70)
		must(t, r.g.GatherLast(last.gpu, x.gpu))
		must(t, r.c.GatherLast(last.cpu, x.cpu))
		r.compare(fmt.Sprintf("%s gather last", dt), last, 1e-6)
	}
}

func qkvPrep(t *testing.T, r *rig, dt kernels.DType) {
	for _, tc := range []struct {
		heads, kvHeads, hd       int
		bias, norm, rope, scaled bool
	}{
		{6, 2, 64, true, true, true, true},    // Qwen3-like with biases
		{9, 3, 64, false, false, true, true},  // SmolLM2's heads
		{16, 8, 128, false, true, true, true}, // Qwen3-0.6B's
		{4, 4, 80, true, false, false, false}, // OPT with head size 80
		{5, 1, 256, true, false, true, true},
		{3, 1, 8, false, true, true, false},
		{2, 2, 37, true, true, false, true}, // odd head size, no rotary
	} {
		sh := kernels.AttnShape{NumHeads: tc.heads, NumKVHeads: tc.kvHeads, HeadDim: tc.hd, Scale: 1}
		const numBlocks, bs = 300, 7
		b := randomBatch(r.rng, 6, bs, numBlocks, 100)
		for i := range b.Positions {
			b.Positions[i] += 40000 // large angles: the fp32 product must agree
		}
		b.Slots[0] = -1 // a padded row: prepared, not stored
		r.batch(b)
		n := len(b.Tokens)
		kc, vc := r.rand(1, dt, numBlocks*bs, sh.KVWidth()), r.rand(1, dt, numBlocks*bs, sh.KVWidth())
		qkv := r.rand(1, dt, n, sh.QKVWidth())
		var gp, cp kernels.QKVPrep
		if tc.bias {
			bias := r.rand(0.5, dt, sh.QKVWidth())
			gp.Bias, cp.Bias = bias.gpu, bias.cpu
		}
		if tc.norm {
			qn, kn := r.rand(0.3, dt, tc.hd), r.rand(0.3, dt, tc.hd)
			gp.QNorm, cp.QNorm, gp.KNorm, cp.KNorm = qn.gpu, qn.cpu, kn.gpu, kn.cpu
			gp.NormEps, cp.NormEps = 1e-6, 1e-6
		}
		if tc.rope {
			freqs := make([]float32, tc.hd/2)
			for i := range freqs {
				freqs[i] = float32(1 / math.Pow(1e6, float64(2*i)/float64(tc.hd)))
			}
			inv := r.from(freqs, kernels.F32, tc.hd/2)
			gp.InvFreq, cp.InvFreq = inv.gpu, inv.cpu
		}
		if tc.scaled {
			gp.QScale = float32(1 / math.Sqrt(float64(tc.hd)))
			cp.QScale = gp.QScale
		}
		must(t, r.g.WriteKV(kc.gpu, vc.gpu, qkv.gpu, sh, gp))
		must(t, r.c.WriteKV(kc.cpu, vc.cpu, qkv.cpu, sh, cp))
		what := fmt.Sprintf("%s qkv prep %+v", dt, tc)
		r.compare(what+" (qkv)", qkv, tolFor(dt, 2e-3))
		r.compare(what+" (K cache)", kc, tolFor(dt, 2e-3))
		r.compare(what+" (V cache)", vc, tolFor(dt, 2e-3))
	}
	bad := r.rand(1, dt, 3, 12)
	if err := r.g.WriteKV(bad.gpu, bad.gpu, bad.gpu, kernels.AttnShape{NumHeads: 1, NumKVHeads: 1, HeadDim: 300, Scale: 1}, kernels.QKVPrep{}); err == nil {
		t.Fatal("head size 300 accepted")
	}
}
