package cuda

import (
	"math"
	"regexp"
	"slices"
	"testing"

	"benchtop/kernels"
)

// These run without a GPU: the choice rule, the candidate lists and the
// kernel names, on constructed inputs.

func TestGemvPick(t *testing.T) {
	mma := func(s int) gemvVariant {
		return gemvVariant{fam: gemvMMA, tile: 1, rows: 1, warps: 4, split: s, aligned: true}
	}
	simt := gemvVariant{fam: gemvSIMT, tile: 1, rows: 2, warps: 2, split: 1, aligned: true}
	for _, tc := range []struct {
		name       string
		cublas     float64
		timed      []gemvTiming
		want       gemvVariant
		found, use bool
	}{
		{"fastest matched wins and beats cuBLAS", 8, []gemvTiming{{mma(1), 3, true}, {simt, 2.5, true}, {mma(4), 2.8, true}}, simt, true, true},
		{"a faster variant that did not match is never picked", 8, []gemvTiming{{mma(1), 1, false}, {simt, 4, true}}, simt, true, true},
		{"within the margin of cuBLAS: found, not used", 4, []gemvTiming{{simt, 3.9, true}}, simt, true, false},
		{"exactly at the margin is used", 4, []gemvTiming{{simt, 3.8, true}}, simt, true, true},
		{"slower than cuBLAS", 2, []gemvTiming{{simt, 3, true}}, simt, true, false},
		{"nothing matched", 8, []gemvTiming{{simt, 1, false}}, gemvVariant{}, false, false},
		{"unmeasured (0 µs) is skipped", 8, []gemvTiming{{mma(2), 0, true}, {simt, 5, true}}, simt, true, true},
		{"no cuBLAS time: never used", 0, []gemvTiming{{simt, 1, true}}, simt, true, false},
		{"no candidates", 8, nil, gemvVariant{}, false, false},
	} {
		best, found, use := gemvPick(tc.cublas, tc.timed)
		if found != tc.found || use != tc.use || found && best.v != tc.want {
			t.Errorf("%s: got %v found %v use %v; want %v found %v use %v", tc.name, best.v, found, use, tc.want, tc.found, tc.use)
		}
	}
	ts := []gemvTiming{{mma(1), 0, false}, {mma(2), 3, false}, {mma(4), 1, false}, {simt, 3, false}}
	rankTimings(ts)
	if got := []float64{ts[0].us, ts[1].us, ts[2].us, ts[3].us}; !slices.Equal(got, []float64{1, 3, 3, 0}) || ts[1].v != mma(2) {
		t.Errorf("ranked %v", ts)
	}
}

// Shapes of the models the engine runs (opt-125m, SmolLM2, Qwen3-0.6B,
// Llama-3.2-1B), plus odd ones.
var gemvTestShapes = [][2]int{
	{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}, {50272, 768},
	{960, 576}, {576, 1536}, {4096, 1024}, {1024, 3072}, {3072, 2048}, {2048, 8192}, {128256, 2048},
	{777, 770}, {100, 776}, {33, 40}, {1, 8},
}

func TestGemvCandidates(t *testing.T) {
	const sms = 132
	for _, nk := range gemvTestShapes {
		n, k := nk[0], nk[1]
		for m := 1; m <= gemvMaxM; m++ {
			for _, aligned := range []bool{true, false} {
				if aligned && k%8 != 0 {
					continue
				}
				cands := gemvCandidates(m, n, k, aligned, sms)
				seen := map[gemvVariant]bool{}
				hasMMA := false
				for _, v := range cands {
					if seen[v] {
						t.Fatalf("%dx%dx%d: %v listed twice", m, n, k, v)
					}
					seen[v] = true
					if !v.fits(m, n, k, aligned) {
						t.Fatalf("%dx%dx%d aligned %v: candidate %v does not fit", m, n, k, aligned, v)
					}
					tiles, split, splitLen := v.geometry(n, k)
					if split != v.split || (split-1)*splitLen >= ceilDiv(k, v.kUnit()) {
						t.Fatalf("%dx%dx%d: %v has an empty split (%d tiles, split %d of %d)", m, n, k, v, tiles, split, splitLen)
					}
					if split > 1 && tiles >= 2*sms {
						t.Fatalf("%dx%dx%d: %v splits %d tiles", m, n, k, v, tiles)
					}
					if f, c := v.workspace(m, n, k); f > gemvWSFloats || c > gemvCounters {
						t.Fatalf("%dx%dx%d: %v needs workspace %d floats, %d counters", m, n, k, v, f, c)
					}
					if v.fam == gemvSIMT && (!aligned || m > 4) {
						t.Fatalf("%dx%dx%d aligned %v: SIMT candidate %v", m, n, k, aligned, v)
					}
					if !aligned && (v.aligned || v.rows != 1) {
						t.Fatalf("%dx%dx%d unaligned: candidate %v", m, n, k, v)
					}
					if v.fam == gemvMMA {
						hasMMA = true
						if v.tile != mmaTile(m, aligned) {
							t.Fatalf("m=%d: MMA tile %d", m, v.tile)
						}
					}
					if _, ok := kernelSet()[v.kernel(kernels.F16)]; !ok {
						t.Fatalf("%v: no kernel %s", v, v.kernel(kernels.F16))
					}
				}
				if !hasMMA {
					t.Fatalf("%dx%dx%d aligned %v: no tensor-core candidate", m, n, k, aligned)
				}
				if len(cands) > 64 {
					t.Fatalf("%dx%dx%d: %d candidates to time", m, n, k, len(cands))
				}
			}
		}
	}
	// A shape with few tiles gets split-K candidates; a wide one does not.
	if !slices.ContainsFunc(gemvCandidates(1, 768, 3072, true, sms), func(v gemvVariant) bool { return v.split > 1 }) {
		t.Error("768×3072 at M=1: no split-K candidate")
	}
	if slices.ContainsFunc(gemvCandidates(1, 50272, 768, true, sms), func(v gemvVariant) bool { return v.split > 1 }) {
		t.Error("50272×768 at M=1: a split-K candidate")
	}
}

func TestGemvVariantGeometry(t *testing.T) {
	v := gemvVariant{fam: gemvMMA, tile: 2, rows: 2, warps: 4, split: 8, aligned: true}
	// 770 columns → 25 tiles of 32; K 3000 → 47 chunks of 64 → slices of 6 → 8 slices.
	if tiles, split, splitLen := v.geometry(770, 3000); tiles != 25 || split != 8 || splitLen != 6 {
		t.Fatalf("geometry: %d tiles, split %d of %d", tiles, split, splitLen)
	}
	// Asking for more slices than chunks gives one chunk a slice.
	v.split = 64
	if _, split, splitLen := v.geometry(770, 3000); split != 47 || splitLen != 1 {
		t.Fatalf("over-split: split %d of %d", split, splitLen)
	}
	if f, c := v.workspace(9, 770, 3000); f != 25*47*9*32 || c != 25 {
		t.Fatalf("workspace %d floats, %d counters", f, c)
	}
	s := gemvVariant{fam: gemvSIMT, tile: 4, rows: 4, warps: 2, split: 1, aligned: true}
	if s.fits(5, 10, 16, true) || !s.fits(4, 10, 16, true) || s.fits(4, 10, 16, false) {
		t.Fatal("SIMT fits")
	}
	u := gemvVariant{fam: gemvMMA, tile: 8, rows: 1, warps: 1, split: 1}
	if !u.fits(64, 5, 3, false) || !u.fits(64, 5, 8, true) || !u.fits(1, 5, 3, false) || u.fits(65, 5, 3, false) {
		t.Fatal("unaligned MMA fits")
	}
	if (gemvVariant{fam: gemvMMA, tile: 1, rows: 1, warps: 1, split: 1}).fits(1, 5, 3, false) {
		t.Fatal("an unaligned variant with a token tile of 1 has no kernel")
	}
	if (gemvVariant{fam: gemvMMA, tile: 1, rows: 2, warps: 1, split: 1}).fits(1, 5, 3, false) {
		t.Fatal("an unaligned variant with two row tiles has no kernel")
	}
}

func TestGemvBucket(t *testing.T) {
	want := map[int]int{1: 1, 2: 2, 3: 4, 4: 4, 5: 8, 8: 8, 9: 16, 16: 16, 17: 24, 33: 40, 63: 64, 64: 64}
	for m, b := range want {
		if got := gemvBucket(m); got != b {
			t.Errorf("bucket(%d) = %d, want %d", m, got, b)
		}
	}
	for m := 1; m <= gemvMaxM; m++ {
		b := gemvBucket(m)
		if b < m || b > gemvMaxM {
			t.Fatalf("bucket(%d) = %d", m, b)
		}
		// The variants timed at the bucket take m rows too.
		for _, v := range gemvCandidates(b, 768, 768, true, 132) {
			if !v.fits(m, 768, 768, true) {
				t.Fatalf("m=%d: %v, timed at %d rows, does not take it", m, v, b)
			}
		}
	}
}

// TestGemvKernelsInPTX: every entry point the Go side can launch is in the
// embedded PTX, and the PTX has no other small-M entry points.
func TestGemvKernelsInPTX(t *testing.T) {
	entry := regexp.MustCompile(`\.entry\s+(\w+)\(`)
	for _, mod := range []string{"gemv_simt", "gemv_mma", "gemv_epilogue"} {
		src, err := ptxFS.ReadFile("ptx/" + mod + ".ptx")
		if err != nil {
			t.Fatal(err)
		}
		var have []string
		for _, m := range entry.FindAllStringSubmatch(string(src), -1) {
			have = append(have, m[1])
		}
		want := slices.Clone(kernelsIn[mod])
		slices.Sort(have)
		slices.Sort(want)
		if !slices.Equal(have, want) {
			t.Errorf("%s.ptx defines %v; the backend loads %v", mod, have, want)
		}
	}
}

func kernelSet() map[string]bool {
	s := map[string]bool{}
	for _, mod := range []string{"gemv_simt", "gemv_mma"} {
		for _, f := range kernelsIn[mod] {
			s[f] = true
		}
	}
	return s
}

// argmaxKey is the Go twin of gemv_argmax_key (gemv.cuh), to check the
// encoding: larger values first, lower indices on ties, negative values
// below positive ones, and ArgmaxLinear's decoding.
func argmaxKey(v float32, n int) uint64 {
	u := math.Float32bits(v)
	if u&0x80000000 != 0 {
		u = ^u
	} else {
		u |= 0x80000000
	}
	return uint64(u)<<32 | uint64(0xffffffff-uint32(n))
}

func TestArgmaxKeyOrder(t *testing.T) {
	vals := []float32{-3, -1.5, -1e-30, 0, 1e-30, 0.5, 2, 2, float32(math.Inf(1))}
	for i := 1; i < len(vals); i++ {
		a, b := argmaxKey(vals[i-1], 7), argmaxKey(vals[i], 7)
		if vals[i-1] < vals[i] && a >= b || vals[i-1] == vals[i] && a != b {
			t.Fatalf("keys of %g and %g: %#x, %#x", vals[i-1], vals[i], a, b)
		}
	}
	if argmaxKey(2, 3) <= argmaxKey(2, 9) {
		t.Fatal("a tie does not prefer the lower index")
	}
	if argmaxKey(float32(math.Inf(-1)), 50000) == 0 {
		t.Fatal("a real key equals the reset value")
	}
	for _, n := range []int{0, 1, 50271, 151935} {
		if id := 0xffffffff - uint32(argmaxKey(-7, n)); int(id) != n {
			t.Fatalf("decoded %d for %d", id, n)
		}
	}
}
