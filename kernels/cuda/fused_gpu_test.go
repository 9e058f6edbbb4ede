package cuda

import (
	"fmt"
	"math"
	"testing"

	"benchtop/kernels"
)

// newFusedRig is a rig on the backend the attention tests use: a GPU, or the
// CPU emulator with the cudaemu tag.
func newFusedRig(t *testing.T) *rig { return openRig(t, openAttnBackend, 8<<30, 17) }

// fusedCase is one way the model calls the fused kernels.
type fusedCase struct {
	name     string
	pro      kernels.PrologueKind
	affine   bool // the norm has a weight (and, LayerNorm, a bias)
	bias     bool
	residual bool // in place: out holds h, h += ...
	act      kernels.Act
	f32      bool // fp32 logits out
	argmax   bool
}

var fusedCases = []fusedCase{
	{name: "qkv (layernorm)", pro: kernels.ProLayerNorm, affine: true},
	{name: "fc1 (layernorm, bias, relu)", pro: kernels.ProLayerNorm, affine: true, bias: true, act: kernels.ActReLU},
	{name: "out-proj (bias, residual)", pro: kernels.ProNone, bias: true, residual: true},
	{name: "down (swiglu, residual)", pro: kernels.ProSwiGLU, residual: true},
	{name: "gate-up (rmsnorm)", pro: kernels.ProRMSNorm, affine: true},
	{name: "rmsnorm without weight, bias", pro: kernels.ProRMSNorm, bias: true},
	{name: "lm head (layernorm, fp32)", pro: kernels.ProLayerNorm, affine: true, f32: true},
	{name: "lm head argmax (rmsnorm)", pro: kernels.ProRMSNorm, affine: true, argmax: true},
}

// TestFusedLinear runs every fused case on CUDA-core variants (row tiles,
// warps, grid splits) at sizes that are not tile multiples, fp16 and bf16,
// against the CPU twins, outputs poisoned with NaN (in-place residual
// outputs start as the residual). It runs on the emulator too.
func TestFusedLinear(t *testing.T) {
	r := newFusedRig(t)
	must(t, r.g.gemvBuffers())
	st := r.g.gemvState()
	defer func() { st.force = nil }()
	shapes := [][2]int{{37, 136}, {1003, 776}, {2304, 768}}
	ms := []int{1, 2, 3, 4}
	warps := []int{1, 3, 8}
	splits := []int{1, 3}
	if emulated {
		shapes, warps = [][2]int{{37, 136}, {19, 264}}, []int{1, 3}
	}
	run := 0
	for _, dt := range []kernels.DType{kernels.F16, kernels.BF16} {
		for _, sh := range shapes {
			n, k := sh[0], sh[1]
			w := r.rand(0.05, dt, n, k)
			for _, m := range ms {
				for _, rows := range simtRows {
					for _, wp := range warps {
						for _, s := range splits {
							v := gemvVariant{fam: gemvSIMT, tile: smallestTile(m, 1, simtTiles), rows: rows, warps: wp, split: s, aligned: true}
							if !v.fits(m, n, k, true) {
								continue
							}
							c := fusedCases[run%len(fusedCases)]
							run++
							st.force = &v
							r.fusedCheck(fmt.Sprintf("%s %s %dx%dx%d %v", c.name, dt, m, n, k, v), c, dt, m, w)
						}
					}
				}
			}
			r.free(w)
		}
	}
	// Every case with the variant the table would pick by default.
	st.force = nil
	if emulated {
		return
	}
	for _, dt := range []kernels.DType{kernels.F16, kernels.BF16} {
		w := r.rand(0.05, dt, 2307, 768)
		for _, c := range fusedCases {
			for _, m := range ms {
				r.fusedCheck(fmt.Sprintf("%s %s %dx2307x768 (table)", c.name, dt, m), c, dt, m, w)
			}
		}
		r.free(w)
	}
}

// fusedCheck runs one case on both backends and compares.
func (r *rig) fusedCheck(what string, c fusedCase, dt kernels.DType, m int, w pair) {
	t := r.t
	t.Helper()
	n, k := w.cpu.Shape()[0], w.cpu.Shape()[1]
	in := k
	if c.pro == kernels.ProSwiGLU {
		in = 2 * k
	}
	x := r.rand(1, dt, m, in)
	defer r.free(x)
	var p, pc kernels.Prologue
	p.Kind, pc.Kind = c.pro, c.pro
	p.Eps, pc.Eps = 1e-5, 1e-5
	if c.affine {
		nw := r.rand(0.5, dt, k)
		defer r.free(nw)
		p.W, pc.W = nw.gpu, nw.cpu
		if c.pro == kernels.ProLayerNorm {
			nb := r.rand(0.2, dt, k)
			defer r.free(nb)
			p.B, pc.B = nb.gpu, nb.cpu
		}
	}
	var bias pair
	if c.bias {
		bias = r.rand(0.3, dt, n)
		defer r.free(bias)
	}
	if c.argmax {
		ids := r.poisoned(kernels.F32, m, 2)
		defer r.free(ids)
		must(t, r.g.FusedArgmax(ids.gpu, x.gpu, w.gpu, p))
		got, err := r.g.Sample(ids.gpu, make([]kernels.SampleParams, m))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		logits := r.poisoned(kernels.F32, m, n)
		defer r.free(logits)
		must(t, r.c.FusedLinear(logits.cpu, x.cpu, w.cpu, nil, nil, pc, kernels.ActNone))
		host, _ := r.c.Download(logits.cpu)
		for i, tok := range got {
			row := host[i*n : (i+1)*n]
			want := kernels.Argmax(row)
			if tok < 0 || int(tok) >= n {
				t.Fatalf("%s row %d: token %d", what, i, tok)
			}
			if best := float64(row[want]); tok != want && best-float64(row[tok]) > 1e-2*(1+math.Abs(best)) {
				t.Errorf("%s row %d: gpu %d (%g), cpu %d (%g)", what, i, tok, row[tok], want, best)
			}
		}
		return
	}
	odt := dt
	if c.f32 {
		odt = kernels.F32
	}
	var out pair
	if c.residual {
		out = r.rand(1, dt, m, n)
	} else {
		out = r.poisoned(odt, m, n)
	}
	defer r.free(out)
	var res kernels.Tensor
	var resc kernels.Tensor
	if c.residual {
		res, resc = out.gpu, out.cpu
	}
	if err := r.g.FusedLinear(out.gpu, x.gpu, w.gpu, bias.gpu, res, p, c.act); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	must(t, r.c.FusedLinear(out.cpu, x.cpu, w.cpu, bias.cpu, resc, pc, c.act))
	// The prologue rounds its rows to the operands' dtype: fp32 logits carry
	// that rounding too.
	r.check(what, out, gemvTol(dt))
}

// TestFusedRejects: bad operands are errors, not launches.
func TestFusedRejects(t *testing.T) {
	r := newFusedRig(t)
	dt := kernels.F16
	x, w, out := r.rand(1, dt, 2, 64), r.rand(1, dt, 10, 64), r.poisoned(dt, 2, 10)
	big := r.rand(1, dt, 5, 64)
	nw := r.rand(1, dt, 64)
	for name, err := range map[string]error{
		"too many rows":   r.g.FusedLinear(r.poisoned(dt, 5, 10).gpu, big.gpu, w.gpu, nil, nil, kernels.Prologue{}, kernels.ActNone),
		"swiglu width":    r.g.FusedLinear(out.gpu, x.gpu, w.gpu, nil, nil, kernels.Prologue{Kind: kernels.ProSwiGLU}, kernels.ActNone),
		"bias on rmsnorm": r.g.FusedLinear(out.gpu, x.gpu, w.gpu, nil, nil, kernels.Prologue{Kind: kernels.ProRMSNorm, W: nw.gpu, B: nw.gpu}, kernels.ActNone),
		"out aliases x":   r.g.FusedLinear(x.gpu, x.gpu, r.rand(1, dt, 64, 64).gpu, nil, nil, kernels.Prologue{}, kernels.ActNone),
		"bad prologue":    r.g.FusedLinear(out.gpu, x.gpu, w.gpu, nil, nil, kernels.Prologue{Kind: 9}, kernels.ActNone),
		"ids shape":       r.g.FusedArgmax(out.gpu, x.gpu, w.gpu, kernels.Prologue{}),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if r.g.FusesDecode(5, 64) || r.g.FusesDecode(1, 60) {
		t.Errorf("FusesDecode accepts 5 rows or a width that is no multiple of 8")
	}
}

// TestFusedQKV checks the QKV GEMM that stores K and V itself against the
// CPU twin (FusedLinear, then WriteKV): the QKV rows and both caches whole,
// padding slots left alone, on every row tile and a grid split.
func TestFusedQKV(t *testing.T) {
	r := newFusedRig(t)
	must(t, r.g.gemvBuffers())
	st := r.g.gemvState()
	defer func() { st.force = nil }()
	sh := kernels.AttnShape{NumHeads: 3, NumKVHeads: 3, HeadDim: 24, Scale: 1}
	const k, numSlots = 136, 40
	for _, dt := range []kernels.DType{kernels.F16, kernels.BF16} {
		w := r.rand(0.05, dt, sh.QKVWidth(), k)
		bias := r.rand(0.3, dt, sh.QKVWidth())
		nw, nb := r.rand(0.5, dt, k), r.rand(0.2, dt, k)
		p := func(nw, nb kernels.Tensor) kernels.Prologue {
			return kernels.Prologue{Kind: kernels.ProLayerNorm, W: nw, B: nb, Eps: 1e-5}
		}
		for _, m := range []int{1, 3, 4} {
			b := &kernels.Batch{BlockSize: 8}
			for i := range m {
				slot := int32(5*i + 3)
				if i == 1 {
					slot = -1 // padding: stores nothing
				}
				b.Tokens, b.Positions, b.Slots = append(b.Tokens, 1), append(b.Positions, int32(i)), append(b.Slots, slot)
				b.Seqs = append(b.Seqs, kernels.SeqSlice{QueryStart: i, QueryLen: 1, ContextLen: i + 1, BlockTable: []int32{0, 1, 2, 3, 4}, NeedLogits: true})
			}
			r.batch(b)
			for _, rows := range simtRows {
				for _, s := range []int{1, 3} {
					v := gemvVariant{fam: gemvSIMT, tile: smallestTile(m, 1, simtTiles), rows: rows, warps: 2, split: s, aligned: true}
					st.force = &v
					x := r.rand(1, dt, m, k)
					qkv := r.poisoned(dt, m, sh.QKVWidth())
					kc, vc := r.rand(1, dt, numSlots, sh.KVWidth()), r.rand(1, dt, numSlots, sh.KVWidth())
					what := fmt.Sprintf("%s %d rows %v", dt, m, v)
					must(t, r.g.FusedQKV(qkv.gpu, x.gpu, w.gpu, bias.gpu, kc.gpu, vc.gpu, sh, p(nw.gpu, nb.gpu)))
					must(t, r.c.FusedQKV(qkv.cpu, x.cpu, w.cpu, bias.cpu, kc.cpu, vc.cpu, sh, p(nw.cpu, nb.cpu)))
					r.check(what+" qkv", qkv, gemvTol(dt))
					r.check(what+" k cache", kc, gemvTol(dt))
					r.check(what+" v cache", vc, gemvTol(dt))
					r.free(x, qkv, kc, vc)
				}
			}
		}
		r.free(w, bias, nw, nb)
	}
}
