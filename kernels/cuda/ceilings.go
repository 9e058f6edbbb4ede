package cuda

import (
	"math/rand/v2"
	"sort"

	"benchtop/kernels"
)

// MeasureCeilings times a 1 GiB device-to-device copy and an
// 8192×8192×8192 fp16 GEMM on random data (zeros run faster than real data),
// each the median of several runs after a warm-up.
func (b *Backend) MeasureCeilings() (kernels.Ceilings, error) {
	var c kernels.Ceilings
	const copyBytes = 1 << 30
	src, err := b.Alloc(kernels.F16, copyBytes/2)
	if err != nil {
		return c, err
	}
	defer b.Free(src)
	dst, err := b.Alloc(kernels.F16, copyBytes/2)
	if err != nil {
		return c, err
	}
	defer b.Free(dst)
	ms, err := b.timeMedian(5, func() error {
		return b.d.check(b.d.cuMemcpyDtoDAsync(ptr(dst), ptr(src), copyBytes, b.stream), "device copy")
	})
	if err != nil {
		return c, err
	}
	c.BandwidthBytesPerSec = 2 * copyBytes / (ms / 1e3)

	const n = 8192
	mats := make([]kernels.Tensor, 3)
	r := rand.New(rand.NewPCG(1, 2))
	tile := make([]float32, n*64)
	for i := range tile {
		tile[i] = float32(r.NormFloat64())
	}
	for i := range mats {
		if mats[i], err = b.Alloc(kernels.F16, n, n); err != nil {
			return c, err
		}
		defer b.Free(mats[i])
	}
	// Random rows, repeated down each matrix.
	part, _ := b.View(mats[0], 64)
	if err := b.Upload(part, tile); err != nil {
		return c, err
	}
	for _, m := range mats[:2] {
		for row := 0; row < n; row += 64 {
			if err := b.d.check(b.d.cuMemcpyDtoDAsync(ptr(m)+uintptr(row*n*2), ptr(mats[0]), uint64(64*n*2), b.stream), "fill"); err != nil {
				return c, err
			}
		}
	}
	ms, err = b.timeMedian(5, func() error { return b.Linear(mats[2], mats[0], mats[1], nil) })
	if err != nil {
		return c, err
	}
	c.MatmulFlopsPerSec = 2 * float64(n) * n * n / (ms / 1e3)
	return c, nil
}

func (b *Backend) timeMedian(reps int, f func() error) (float64, error) {
	if err := f(); err != nil { // warm-up
		return 0, err
	}
	var times []float64
	for range reps {
		if err := b.MarkStart(); err != nil {
			return 0, err
		}
		if err := f(); err != nil {
			return 0, err
		}
		ms, err := b.MarkEnd()
		if err != nil {
			return 0, err
		}
		times = append(times, ms)
	}
	sort.Float64s(times)
	return times[len(times)/2], nil
}
