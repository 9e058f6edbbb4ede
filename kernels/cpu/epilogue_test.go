package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"benchtop/kernels"
)

// LinearEpilogue against Linear + an explicit epilogue, on every epilogue,
// with the residual apart from out and aliasing it.
func TestLinearEpilogue(t *testing.T) {
	b := New(1 << 30)
	r := rand.New(rand.NewPCG(5, 6))
	const n, k, m = 7, 33, 19
	x, w, bias := randTensor(t, b, r, n, k), randTensor(t, b, r, m, k), randTensor(t, b, r, m)
	ref := randTensor(t, b, r, n, m)
	if err := b.Linear(ref, x, w, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name            string
		bias, res, same bool
		act             kernels.Act
	}{
		{"plain", false, false, false, kernels.ActNone},
		{"bias", true, false, false, kernels.ActNone},
		{"bias+relu", true, false, false, kernels.ActReLU},
		{"bias+residual", true, true, false, kernels.ActNone},
		{"relu+residual", false, true, false, kernels.ActReLU},
		{"bias+residual in place", true, true, true, kernels.ActNone},
		{"relu+residual in place", true, true, true, kernels.ActReLU},
	} {
		res := randTensor(t, b, r, n, m)
		resCopy := append([]float32(nil), res.Data...)
		out := randTensor(t, b, r, n, m)
		if tc.same {
			out = res
		}
		var bt, rt kernels.Tensor
		if tc.bias {
			bt = bias
		}
		if tc.res {
			rt = res
		}
		if err := b.LinearEpilogue(out, x, w, bt, rt, tc.act); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for i := 0; i < n; i++ {
			for j := 0; j < m; j++ {
				want := float64(ref.Data[i*m+j])
				if tc.bias {
					want += float64(bias.Data[j])
				}
				if tc.act == kernels.ActReLU {
					want = math.Max(want, 0)
				}
				if tc.res {
					want += float64(resCopy[i*m+j])
				}
				if got := float64(out.Data[i*m+j]); math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
					t.Fatalf("%s: out[%d,%d] = %g, want %g", tc.name, i, j, got, want)
				}
			}
		}
	}
	if err := b.LinearEpilogue(x, x, randTensor(t, b, r, k, k), nil, nil, kernels.ActNone); err == nil {
		t.Fatal("out aliasing x accepted")
	}
	if err := b.LinearEpilogue(ref, x, w, nil, randTensor(t, b, r, n, m+1), kernels.ActNone); err == nil {
		t.Fatal("a residual of the wrong size accepted")
	}
	if err := b.LinearEpilogue(ref, x, w, nil, nil, kernels.Act(9)); err == nil {
		t.Fatal("an unknown activation accepted")
	}
}

func TestArgmaxLinear(t *testing.T) {
	b := New(1 << 30)
	r := rand.New(rand.NewPCG(7, 8))
	const n, k, vocab = 5, 24, 301
	x, w := randTensor(t, b, r, n, k), randTensor(t, b, r, vocab, k)
	// Row 200 repeats row 17: where one is the maximum so is the other, and
	// the lower index wins.
	copy(w.Data[200*k:201*k], w.Data[17*k:18*k])
	copy(x.Data[2*k:3*k], w.Data[17*k:18*k]) // x row 2 is most like weight row 17
	for i := range x.Data[2*k : 3*k] {
		x.Data[2*k+i] *= 10
	}
	got, err := b.ArgmaxLinear(x, w)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		best, bestV := 0, math.Inf(-1)
		for j := 0; j < vocab; j++ {
			var s float64
			for l := 0; l < k; l++ {
				s += float64(x.Data[i*k+l]) * float64(w.Data[j*k+l])
			}
			if s > bestV {
				best, bestV = j, s
			}
		}
		if int(got[i]) != best {
			t.Fatalf("row %d: %d, want %d", i, got[i], best)
		}
	}
	if got[2] != 17 {
		t.Fatalf("tie: row 2 chose %d, want 17", got[2])
	}
	if _, err := b.ArgmaxLinear(x, randTensor(t, b, r, vocab, k+1)); err == nil {
		t.Fatal("mismatched shapes accepted")
	}
}
