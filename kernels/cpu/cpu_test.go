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
