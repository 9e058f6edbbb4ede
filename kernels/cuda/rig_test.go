package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"benchtop/kernels"
	"benchtop/kernels/cpu"
)

// The rig the GPU tests share: each tensor made twice, on the GPU backend
// and on the CPU reference, and outputs compared by relative L2 error.

// pair holds the same data on the GPU and on the CPU reference.
type pair struct {
	gpu, cpu kernels.Tensor
}

type rig struct {
	t   *testing.T
	g   *Backend
	c   *cpu.Backend
	rng *rand.Rand
}

// openRig opens a backend with open (skipping the test when there is
// none) beside a CPU reference of cpuBytes, with inputs drawn from a
// generator seeded by the test's name and seed.
func openRig(t *testing.T, open func() (*Backend, error), cpuBytes int64, seed uint64) *rig {
	g, err := open()
	if err != nil {
		t.Skipf("no GPU: %v", err)
	}
	t.Cleanup(func() { g.Close() })
	return &rig{t: t, g: g, c: cpu.New(cpuBytes), rng: rand.New(rand.NewPCG(uint64(len(t.Name())), seed))}
}

func newRig(t *testing.T) *rig { return openRig(t, Open, 8<<30, 99) }

// rand makes a tensor of element type dt of N(0, scale) values, the same
// on both backends.
func (r *rig) rand(scale float64, dt kernels.DType, shape ...int) pair {
	vals := make([]float32, kernels.Numel(shape))
	for i := range vals {
		vals[i] = float32(r.rng.NormFloat64() * scale)
	}
	return r.from(vals, dt, shape...)
}

func (r *rig) from(vals []float32, dt kernels.DType, shape ...int) pair {
	r.t.Helper()
	gt, err := r.g.Alloc(dt, shape...)
	if err != nil {
		r.t.Fatal(err)
	}
	ct, _ := r.c.Alloc(dt, shape...)
	if err := r.g.Upload(gt, vals); err != nil {
		r.t.Fatal(err)
	}
	r.c.Upload(ct, vals)
	return pair{gt, ct}
}

// poisoned is an output: NaN everywhere, so an element left unwritten fails.
func (r *rig) poisoned(dt kernels.DType, shape ...int) pair {
	vals := make([]float32, kernels.Numel(shape))
	for i := range vals {
		vals[i] = float32(math.NaN())
	}
	return r.from(vals, dt, shape...)
}

// poison refills the GPU side of an output with NaN (all-ones bits: NaN in
// fp32, fp16 and bf16), leaving the CPU reference as it is.
func (r *rig) poison(p pair) {
	r.t.Helper()
	t := p.gpu.(*Tensor)
	must(r.t, r.g.d.check(r.g.d.cuMemsetD16Async(t.ptr, 0xffff, uint64(t.bytes/2), r.g.stream), "poison"))
}

func (r *rig) batch(b *kernels.Batch) {
	r.t.Helper()
	if err := r.g.SetBatch(b); err != nil {
		r.t.Fatal(err)
	}
	r.c.SetBatch(b)
}

// diff is ‖gpu − cpu‖ / ‖cpu‖ of an output and its first mismatches: an
// element off by more than 10·tol relative, or not finite on the GPU.
func (r *rig) diff(what string, p pair, tol float64) (rel float64, bad []string) {
	r.t.Helper()
	g, err := r.g.Download(p.gpu)
	if err != nil {
		r.t.Fatalf("%s: %v", what, err)
	}
	c, _ := r.c.Download(p.cpu)
	var num, den float64
	for i := range c {
		d := float64(g[i]) - float64(c[i])
		if math.IsNaN(float64(g[i])) || math.IsInf(float64(g[i]), 0) {
			d = math.Inf(1)
		}
		num += d * d
		den += float64(c[i]) * float64(c[i])
		if (math.Abs(d) > 10*tol*(1+math.Abs(float64(c[i]))) || math.IsInf(d, 0)) && len(bad) < 5 {
			bad = append(bad, fmt.Sprintf("[%d] gpu %g cpu %g", i, g[i], c[i]))
		}
	}
	return math.Sqrt(num / math.Max(den, 1e-30)), bad
}

// compare checks ‖gpu − cpu‖ / ‖cpu‖ ≤ tol, stopping the test with the
// first mismatches when it is not.
func (r *rig) compare(what string, p pair, tol float64) {
	r.t.Helper()
	rel, bad := r.diff(what, p, tol)
	if !(rel <= tol) {
		r.t.Fatalf("%s: relative error %.3g > %.1g; first mismatches: %v", what, rel, tol, bad)
	}
	r.t.Logf("%s: relative error %.3g", what, rel)
}

// check compares like compare but reports instead of stopping, so one
// run shows every failing variant; it returns the relative error.
func (r *rig) check(what string, p pair, tol float64) float64 {
	r.t.Helper()
	rel, bad := r.diff(what, p, tol)
	if !(rel <= tol) {
		r.t.Errorf("%s: relative error %.3g > %.1g; first mismatches: %v", what, rel, tol, bad)
	}
	return rel
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
