package cuda

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"benchtop/kernels"
)

// GPU tests of the small-M GEMMs against the CPU twins (kernels/cpu Linear,
// LinearEpilogue, ArgmaxLinear): fresh seeded random inputs, outputs
// poisoned with NaN, sizes that are not tile multiples. They skip without a
// GPU.

var gemvTestMs = []int{1, 2, 3, 7, 16, 33, 64}

// gemvTol is the relative L2 error allowed for an output of dtype dt: a few
// output roundings (the reference keeps fp32).
func gemvTol(dt kernels.DType) float64 {
	switch dt {
	case kernels.BF16:
		return 8e-3
	case kernels.F32:
		return 1e-3
	}
	return 2e-3
}

// testVariants is every variant a test launches at m×n×k: each family with
// the token tile the tuner would use for m, each row tile, 1, 3 and 8 warps
// and splits of 1, 3 and 7 slices, where they fit; and the element-load
// kernel on aligned shapes too.
func testVariants(m, n, k int, aligned bool) []gemvVariant {
	var out []gemvVariant
	for _, fam := range []gemvFamily{gemvMMA, gemvSIMT} {
		tile, rows := mmaTile(m, aligned), mmaRows
		if fam == gemvSIMT {
			tile, rows = smallestTile(m, 1, simtTiles), simtRows
		}
		for _, r := range rows {
			for _, w := range []int{1, 3, 8} {
				for _, s := range []int{1, 3, 7} {
					v := gemvVariant{fam: fam, tile: tile, rows: r, warps: w, split: s, aligned: aligned}
					if tile > 0 && v.fits(m, n, k, aligned) {
						out = append(out, v)
					}
				}
			}
		}
	}
	if aligned { // the element-load kernel takes aligned shapes too
		for _, w := range []int{1, 8} {
			for _, s := range []int{1, 3} {
				if v := (gemvVariant{fam: gemvMMA, tile: mmaUnalignedTile, rows: 1, warps: w, split: s}); v.fits(m, n, k, aligned) {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// TestGemvVariants runs every variant, launched directly, on the shapes of
// the engine's models and odd ones, fp16 and bf16, against the CPU Linear.
func TestGemvVariants(t *testing.T) {
	r := newRig(t)
	must(t, r.g.gemvBuffers())
	shapes := []struct {
		n, k int
		out  string // "x": x's dtype, "f32": logits
	}{
		{2304, 768, "x"}, {768, 768, "x"}, {3072, 768, "x"}, {768, 3072, "x"}, {50272, 768, "f32"},
		{960, 576, "x"}, {576, 1536, "x"}, {4096, 1024, "x"}, {1024, 3072, "x"}, {3072, 2048, "x"}, {2048, 8192, "x"},
		{777, 770, "x"}, {100, 776, "x"}, {33, 40, "f32"}, {1, 8, "x"}, {45, 1000, "x"},
	}
	failed := 0
	for _, dt := range []kernels.DType{kernels.F16, kernels.BF16} {
		for _, sh := range shapes {
			w := r.rand(0.05, dt, sh.n, sh.k)
			for _, m := range gemvTestMs {
				x := r.rand(1, dt, m, sh.k)
				odt := dt
				if sh.out == "f32" {
					odt = kernels.F32
				}
				out := r.poisoned(odt, m, sh.n)
				must(t, r.c.Linear(out.cpu, x.cpu, w.cpu, nil))
				aligned := gemvAligned(ptr(x.gpu), ptr(w.gpu), sh.k)
				key := gemvKey{dt: dt, out: odt, m: m, n: sh.n, k: sh.k, aligned: aligned}
				worst, worstV := 0.0, ""
				for _, v := range testVariants(m, sh.n, sh.k, aligned) {
					r.poison(out)
					must(t, r.g.gemvLaunch(v, key, gemvArgs{x: ptr(x.gpu), w: ptr(w.gpu), out: ptr(out.gpu), kind: key.outKind()}))
					before := failed
					rel := r.check(fmt.Sprintf("%s %dx%dx%d %v", dt, m, sh.n, sh.k, v), out, gemvTol(odt))
					if !(rel <= gemvTol(odt)) {
						failed++
					}
					if rel > worst || failed > before {
						worst, worstV = rel, v.String()
					}
					if failed > 60 {
						t.Fatalf("more than 60 variants failed; stopping")
					}
				}
				t.Logf("%s %dx%dx%d out %s: %d variants, worst relative error %.3g (%s)", dt, m, sh.n, sh.k, odt,
					len(testVariants(m, sh.n, sh.k, aligned)), worst, worstV)
				r.free(x, out)
			}
			r.free(w)
		}
	}
}

// TestGemvEpilogues checks LinearEpilogue and Linear with a bias on every
// path they take: the measured choice, forced tensor-core and CUDA-core
// variants with a grid split-K, and cuBLAS with the epilogue kernel
// (small-M kernels off, and M above their range).
func TestGemvEpilogues(t *testing.T) {
	r := newRig(t)
	must(t, r.g.gemvBuffers())
	type path struct {
		name  string
		off   bool
		force *gemvVariant
	}
	paths := []path{
		{"chosen", false, nil},
		{"mma split 3", false, &gemvVariant{fam: gemvMMA, tile: 8, rows: 2, warps: 3, split: 3, aligned: true}},
		{"mma unaligned split 2", false, &gemvVariant{fam: gemvMMA, tile: 8, rows: 1, warps: 2, split: 2}},
		{"simt split 2", false, &gemvVariant{fam: gemvSIMT, tile: 4, rows: 4, warps: 2, split: 2, aligned: true}},
		{"cuBLAS + epilogue", true, nil},
	}
	type epi struct {
		name             string
		bias, res, alias bool
		act              kernels.Act
	}
	epis := []epi{
		{"bias", true, false, false, kernels.ActNone},
		{"bias+relu", true, false, false, kernels.ActReLU},
		{"bias+residual", true, true, false, kernels.ActNone},
		{"bias+residual in place", true, true, true, kernels.ActNone},
		{"residual in place", false, true, true, kernels.ActNone},
		{"relu+residual", false, true, false, kernels.ActReLU},
	}
	st := r.g.gemvState()
	for _, dt := range []kernels.DType{kernels.F16, kernels.BF16} {
		for _, nk := range [][2]int{{3072, 768}, {768, 3072}, {777, 770}} {
			n, k := nk[0], nk[1]
			w, bias := r.rand(0.05, dt, n, k), r.rand(0.5, dt, n)
			for _, m := range []int{1, 3, 33, 100} {
				x := r.rand(1, dt, m, k)
				for _, p := range paths {
					st.off, st.force = p.off, p.force
					for _, e := range epis {
						var out, b, rs pair
						res := r.rand(1, dt, m, n)
						if e.bias {
							b = bias
						}
						if e.res {
							rs = res
						}
						if e.alias {
							out = r.rand(1, dt, m, n) // h: the residual, updated in place
							rs = out
						} else {
							out = r.poisoned(dt, m, n)
						}
						what := fmt.Sprintf("%s %dx%dx%d %s: %s", dt, m, n, k, p.name, e.name)
						if err := r.g.LinearEpilogue(out.gpu, x.gpu, w.gpu, b.gpu, rs.gpu, e.act); err != nil {
							t.Errorf("%s: %v", what, err)
							r.free(out, res)
							continue
						}
						must(t, r.c.LinearEpilogue(out.cpu, x.cpu, w.cpu, b.cpu, rs.cpu, e.act))
						r.check(what, out, gemvTol(dt))
						r.free(out, res)
					}
					// Linear with a bias goes through the same dispatch.
					if dt == kernels.F16 {
						out := r.poisoned(dt, m, n)
						must(t, r.g.Linear(out.gpu, x.gpu, w.gpu, bias.gpu))
						must(t, r.c.Linear(out.cpu, x.cpu, w.cpu, bias.cpu))
						r.check(fmt.Sprintf("%s %dx%dx%d %s: Linear + bias", dt, m, n, k, p.name), out, gemvTol(dt))
						r.free(out)
					}
				}
				st.off, st.force = false, nil
				r.free(x)
			}
			r.free(w, bias)
		}
	}
	// A residual aliasing out with an activation is refused on every path.
	x, w, h := r.rand(1, kernels.F16, 2, 64), r.rand(1, kernels.F16, 32, 64), r.rand(1, kernels.F16, 2, 32)
	if err := r.g.LinearEpilogue(h.gpu, x.gpu, w.gpu, nil, h.gpu, kernels.ActReLU); err == nil {
		t.Error("in-place residual with ReLU accepted")
	}
	if err := r.g.LinearEpilogue(x.gpu, x.gpu, r.rand(1, kernels.F16, 64, 64).gpu, nil, nil, kernels.ActNone); err == nil {
		t.Error("out aliasing x accepted")
	}
	for _, c := range r.g.GemvChoices() {
		t.Logf("choice %s→%s %dx%dx%d: cuBLAS %.2f µs, %s %.2f µs, used %v %s", c.DType, c.Out, c.M, c.N, c.K, c.CublasUs, c.Kernel, c.KernelUs, c.Used, c.Note)
	}
}

// TestGemvGraph: shapes first met under a graph capture are timed between
// the captures, and the replays use the choice; forced split-K variants
// replay correctly (their tile counters reset every launch). The graph is an
// OPT MLP block — FC1 + bias + ReLU, FC2 + bias + residual in place — and,
// for fp16, the LM head into fp32 logits (cuBLAS's Linear path is fp16-only
// for now), in fp16 and bf16.
func TestGemvGraph(t *testing.T) {
	r := newRig(t)
	const d, ff, vocab = 768, 3072, 1003
	bt := &kernels.Batch{BlockSize: 16, Tokens: []int32{1}, Positions: []int32{0}, Slots: []int32{0},
		Seqs: []kernels.SeqSlice{{QueryLen: 1, ContextLen: 1, BlockTable: []int32{0}, NeedLogits: true}}}
	key := 10
	for _, dt := range []kernels.DType{kernels.F16, kernels.BF16} {
		for _, tc := range []struct {
			name  string
			m     int
			force *gemvVariant
		}{
			{"chosen", 8, nil},
			{"mma split 4", 8, &gemvVariant{fam: gemvMMA, tile: 1, rows: 1, warps: 2, split: 4, aligned: true}},
			{"simt split 3", 2, &gemvVariant{fam: gemvSIMT, tile: 2, rows: 2, warps: 2, split: 3, aligned: true}},
		} {
			name := fmt.Sprintf("%s %s", dt, tc.name)
			must(t, r.g.gemvForce(tc.force))
			h := r.rand(1, dt, tc.m, d)
			w1, b1 := r.rand(0.03, dt, ff, d), r.rand(0.5, dt, ff)
			w2, b2 := r.rand(0.02, dt, d, ff), r.rand(0.5, dt, d)
			ffn := r.poisoned(dt, tc.m, ff)
			head := r.rand(0.05, dt, vocab, d)
			logits := r.poisoned(kernels.F32, tc.m, vocab)
			withHead := dt == kernels.F16
			fn := func() (kernels.Tensor, error) {
				if err := r.g.SetBatch(bt); err != nil {
					return nil, err
				}
				if err := r.g.LinearEpilogue(ffn.gpu, h.gpu, w1.gpu, b1.gpu, nil, kernels.ActReLU); err != nil {
					return nil, err
				}
				if err := r.g.LinearEpilogue(h.gpu, ffn.gpu, w2.gpu, b2.gpu, h.gpu, kernels.ActNone); err != nil {
					return nil, err
				}
				if !withHead {
					return h.gpu, nil
				}
				return logits.gpu, r.g.Linear(logits.gpu, h.gpu, head.gpu, nil)
			}
			for range 3 { // capture (after timing the new shapes), then two replays: h grows three times
				if _, err := r.g.Graph(key, bt, fn); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				must(t, r.c.LinearEpilogue(ffn.cpu, h.cpu, w1.cpu, b1.cpu, nil, kernels.ActReLU))
				must(t, r.c.LinearEpilogue(h.cpu, ffn.cpu, w2.cpu, b2.cpu, h.cpu, kernels.ActNone))
				if withHead {
					must(t, r.c.Linear(logits.cpu, h.cpu, head.cpu, nil))
				}
			}
			key++
			must(t, r.g.Sync())
			r.check(name+": ffn after three replays", ffn, gemvTol(dt))
			r.check(name+": h after three replays", h, gemvTol(dt))
			if withHead {
				r.check(name+": logits after three replays", logits, gemvTol(kernels.F32))
			}
			if r.g.gemvPending() {
				t.Errorf("%s: shapes still pending after the capture", name)
			}
			if tc.force == nil {
				st := r.g.gemvState()
				keys := []gemvKey{{dt: dt, out: dt, m: tc.m, n: ff, k: d, aligned: true}, {dt: dt, out: dt, m: tc.m, n: d, k: ff, aligned: true}}
				if withHead {
					keys = append(keys, gemvKey{dt: dt, out: kernels.F32, m: tc.m, n: vocab, k: d, aligned: true})
				}
				for _, k := range keys {
					c := st.table[k]
					if c == nil {
						t.Errorf("%s: %+v was not timed before the capture", name, k)
						continue
					}
					t.Logf("%s %+v: cuBLAS %.2f µs, best %v %.2f µs, used %v %s", name, k, c.cublasUs, c.best, c.gemvUs, c.use, c.note)
				}
			}
			must(t, r.g.gemvForce(nil))
			r.g.ResetGraphs()
			r.free(h, w1, b1, w2, b2, ffn, head, logits)
		}
	}
}

// TestArgmaxLinear: the fused LM head + greedy argmax against the CPU twin;
// a GPU token may differ only where the CPU logits tie within rounding.
func TestArgmaxLinear(t *testing.T) {
	r := newRig(t)
	must(t, r.g.gemvBuffers())
	st := r.g.gemvState()
	for _, dt := range []kernels.DType{kernels.F16, kernels.BF16} {
		for _, vk := range [][2]int{{50272, 768}, {1003, 770}} {
			vocab, k := vk[0], vk[1]
			w := r.rand(0.05, dt, vocab, k)
			for _, rows := range []int{1, 3, 64, 100} {
				x := r.rand(1, dt, rows, k)
				logits := r.poisoned(kernels.F32, rows, vocab)
				must(t, r.c.Linear(logits.cpu, x.cpu, w.cpu, nil))
				host, _ := r.c.Download(logits.cpu)
				for _, force := range []*gemvVariant{nil,
					{fam: gemvMMA, tile: 8, rows: 2, warps: 4, split: 3, aligned: true},
					{fam: gemvSIMT, tile: 4, rows: 2, warps: 2, split: 2, aligned: true}} {
					st.force = force
					got, err := r.g.ArgmaxLinear(x.gpu, w.gpu)
					if err != nil {
						t.Fatalf("%s %dx%dx%d: %v", dt, rows, vocab, k, err)
					}
					want, _ := r.c.ArgmaxLinear(x.cpu, w.cpu)
					near := 0
					for i := range want {
						if got[i] == want[i] {
							continue
						}
						row := host[i*vocab : (i+1)*vocab]
						if got[i] < 0 || int(got[i]) >= vocab {
							t.Fatalf("%s row %d: token %d", dt, i, got[i])
						}
						best := float64(row[want[i]])
						if gap := best - float64(row[got[i]]); gap > 2e-3*(1+math.Abs(best)) {
							t.Errorf("%s %dx%dx%d force %v row %d: gpu %d (%g), cpu %d (%g)", dt, rows, vocab, k, force, i, got[i], row[got[i]], want[i], best)
						}
						near++
					}
					t.Logf("%s %dx%dx%d force %v: %d/%d rows equal, %d near ties", dt, rows, vocab, k, force, len(want)-near, len(want), near)
				}
				st.force = nil
				r.free(x, logits)
			}
			r.free(w)
		}
	}
	// Exact ties keep the lowest index: rows 5 and 700 of w equal, and the largest.
	const vocab, k = 1003, 64
	wv := make([]float32, vocab*k)
	for i := range wv {
		wv[i] = float32(r.rng.NormFloat64() * 0.01)
	}
	for _, row := range []int{700, 5} {
		for j := 0; j < k; j++ {
			wv[row*k+j] = 1
		}
	}
	xv := make([]float32, 3*k)
	for i := range xv {
		xv[i] = 1
	}
	x, w := r.from(xv, kernels.F16, 3, k), r.from(wv, kernels.F16, vocab, k)
	got, err := r.g.ArgmaxLinear(x.gpu, w.gpu)
	must(t, err)
	if fmt.Sprint(got) != "[5 5 5]" {
		t.Errorf("tie: %v, want [5 5 5]", got)
	}
	if _, err := r.g.ArgmaxLinear(x.gpu, r.rand(1, kernels.F16, 10, k+1).gpu); err == nil || !strings.Contains(err.Error(), "argmax") {
		t.Errorf("mismatched shapes: %v", err)
	}
}
