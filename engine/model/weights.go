package model

import (
	"fmt"

	"benchtop/kernels"
)

// fetch reads the named weight from src and checks its shape; model says
// what expects it (for the error).
func fetch(src Source, name string, shape []int, model string) ([]float32, error) {
	vals, got, ok, err := src.Tensor(name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("checkpoint has no weight %s (%s expects it)", name, model)
	}
	if !sameShape(got, shape) {
		return nil, fmt.Errorf("weight %s has shape %v, config says %v", name, got, shape)
	}
	return vals, nil
}

// upload allocates a tensor of dtype dt on be and fills it.
func upload(be kernels.Backend, dt kernels.DType, vals []float32, shape ...int) (kernels.Tensor, error) {
	t, err := be.Alloc(dt, shape...)
	if err != nil {
		return nil, err
	}
	if err := be.Upload(t, vals); err != nil {
		be.Free(t)
		return nil, err
	}
	return t, nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// concatRows stacks row-major matrices of equal width: the fused QKV and
// gate|up weights (and their biases) from their parts.
func concatRows(parts ...[]float32) []float32 {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]float32, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// tensorBytes is the device memory of ts (nil entries and aliases of an
// earlier entry skipped).
func tensorBytes(ts []*kernels.Tensor) int64 {
	var n int64
	seen := map[kernels.Tensor]bool{}
	for _, t := range ts {
		if *t == nil || seen[*t] {
			continue
		}
		seen[*t] = true
		n += int64(kernels.Numel((*t).Shape())) * int64((*t).DType().Size())
	}
	return n
}
