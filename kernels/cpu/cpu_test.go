package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"benchtop/kernels"
)

func randTensor(t *testing.T, b *Backend, r *rand.Rand, shape ...int) *Tensor {
	t.Helper()
	x, err := b.Alloc(kernels.F32, shape...)
	if err != nil {
		t.Fatal(err)
	}
	ct := x.(*Tensor)
	for i := range ct.Data {
		ct.Data[i] = float32(r.NormFloat64())
	}
	return ct
}

func TestLinearMatchesNaive(t *testing.T) {
	b := New(1 << 30)
	r := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][3]int{{1, 7, 5}, {3, 33, 17}, {65, 19, 131}, {2, 64, 4}, {129, 5, 3}} {
		n, k, m := sz[0], sz[1], sz[2]
		x, w, bias := randTensor(t, b, r, n, k), randTensor(t, b, r, m, k), randTensor(t, b, r, m)
		out := randTensor(t, b, r, n, m) // poisoned: every element must be written
		if err := b.Linear(out, x, w, bias); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			for j := 0; j < m; j++ {
				want := float64(bias.Data[j])
				for l := 0; l < k; l++ {
					want += float64(x.Data[i*k+l]) * float64(w.Data[j*k+l])
				}
				if got := float64(out.Data[i*m+j]); math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
					t.Fatalf("%v: out[%d,%d] = %g, want %g", sz, i, j, got, want)
				}
			}
		}
	}
	bad, _ := b.Alloc(kernels.F32, 3, 3)
	if err := b.Linear(bad, bad, randTensor(t, b, r, 3, 4), nil); err == nil {
		t.Fatal("shape mismatch accepted")
	}
}

func TestAllocRespectsBudget(t *testing.T) {
	b := New(1000)
	if _, err := b.Alloc(kernels.F32, 100); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Alloc(kernels.F32, 200); err == nil {
		t.Fatal("allocation over the budget succeeded")
	}
	if b.MemoryInUse() != 400 {
		t.Fatalf("in use %d", b.MemoryInUse())
	}
}

// The AVX2 micro-kernel and the pure-Go loop compute the same products.
func TestVectorAndScalarPathsAgree(t *testing.T) {
	if !haveFMA {
		t.Skip("no AVX2/FMA here")
	}
	b := New(1 << 30)
	r := rand.New(rand.NewPCG(9, 9))
	for _, sz := range [][3]int{{1, 8, 4}, {3, 777, 13}, {100, 768, 3072 / 8}, {5, 16, 9}} {
		x, w := randTensor(t, b, r, sz[0], sz[1]), randTensor(t, b, r, sz[2], sz[1])
		vec, scalar := randTensor(t, b, r, sz[0], sz[2]), randTensor(t, b, r, sz[0], sz[2])
		if err := b.Linear(vec, x, w, nil); err != nil {
			t.Fatal(err)
		}
		haveFMA = false
		err := b.Linear(scalar, x, w, nil)
		haveFMA = true
		if err != nil {
			t.Fatal(err)
		}
		for i := range vec.Data {
			if d := math.Abs(float64(vec.Data[i] - scalar.Data[i])); d > 1e-4*(1+math.Abs(float64(scalar.Data[i]))) {
				t.Fatalf("%v: element %d: vector %g, scalar %g", sz, i, vec.Data[i], scalar.Data[i])
			}
		}
	}
}

// BenchmarkLinearDecode is one decode-step FC1 of opt-125m at batch 100.
func BenchmarkLinearDecode(bm *testing.B) {
	b := New(1 << 30)
	r := rand.New(rand.NewPCG(1, 1))
	t := &testing.T{}
	x, w, out := randTensor(t, b, r, 100, 768), randTensor(t, b, r, 3072, 768), randTensor(t, b, r, 100, 3072)
	for _, vec := range []bool{true, false} {
		if vec && !haveFMA {
			continue
		}
		bm.Run(map[bool]string{true: "avx2", false: "go"}[vec], func(bm *testing.B) {
			saved := haveFMA
			haveFMA = vec
			defer func() { haveFMA = saved }()
			bm.SetBytes(int64(3072 * 768 * 4))
			for bm.Loop() {
				b.Linear(out, x, w, nil)
			}
			bm.ReportMetric(2*100*768*3072*float64(bm.N)/bm.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
