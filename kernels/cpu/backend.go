package cpu

import (
	"fmt"
	"runtime"

	"benchtop/kernels"
)

// Tensor is a host tensor: a float32 slice with a shape. Large tensors'
// Data lives in an anonymous mapping (region), outside the Go heap.
type Tensor struct {
	shape  []int
	dtype  kernels.DType
	Data   []float32
	region []byte
	view   bool // shares another tensor's memory
	// greedy says Data holds FusedArgmax's tokens (column 0 of [n, 2]).
	greedy bool
}

func (t *Tensor) Shape() []int         { return t.shape }
func (t *Tensor) DType() kernels.DType { return t.dtype }

// Rows and Cols view the tensor as a matrix over its last dimension.
func (t *Tensor) Cols() int { return t.shape[len(t.shape)-1] }
func (t *Tensor) Rows() int { return len(t.Data) / t.Cols() }

// Backend is the CPU reference backend.
type Backend struct {
	memBytes int64
	inUse    int64
	threads  int
	batch    *kernels.Batch
}

// DefaultMemoryBytes is the memory budget a CPU backend reports when none is
// given: the KV pool is sized against it as a GPU's is against its memory.
const DefaultMemoryBytes = 4 << 30

// New returns a CPU backend that reports memBytes of memory (0: the default)
// and uses every core.
func New(memBytes int64) *Backend {
	if memBytes <= 0 {
		memBytes = DefaultMemoryBytes
	}
	return &Backend{memBytes: memBytes, threads: runtime.GOMAXPROCS(0)}
}

func (b *Backend) Info() kernels.DeviceInfo {
	return kernels.DeviceInfo{
		Backend:      "cpu",
		Name:         fmt.Sprintf("CPU (%d threads, %s)", b.threads, runtime.GOARCH),
		MemoryBytes:  b.memBytes,
		ComputeDType: kernels.F32,
	}
}

func (b *Backend) MemoryInUse() int64 { return b.inUse }

func (b *Backend) MemoryInfo() (free, total int64) { return b.memBytes - b.inUse, b.memBytes }

// Alloc returns a zeroed tensor, within the backend's memory budget; a
// shape whose size overflows or exceeds the budget is ErrOutOfMemory, never
// a runtime crash.
func (b *Backend) Alloc(dt kernels.DType, shape ...int) (kernels.Tensor, error) {
	n := kernels.Numel(shape)
	switch {
	case n < 0:
		return nil, fmt.Errorf("alloc %v: a negative dimension, or more than %d elements: %w", shape, kernels.MaxNumel, kernels.ErrOutOfMemory)
	case n == 0:
		return nil, fmt.Errorf("alloc %v: empty shape", shape)
	}
	bytes := int64(n) * 4
	if bytes > b.memBytes-b.inUse {
		return nil, fmt.Errorf("alloc %v (%d bytes, %d of %d in use): %w", shape, bytes, b.inUse, b.memBytes, kernels.ErrOutOfMemory)
	}
	data, region, err := alloc(n)
	if err != nil {
		return nil, fmt.Errorf("alloc %v: %w", shape, err)
	}
	b.inUse += bytes
	return &Tensor{shape: append([]int(nil), shape...), dtype: dt, Data: data, region: region}, nil
}

// Free returns t's memory; views of t must not be used after it.
func (b *Backend) Free(t kernels.Tensor) {
	if ct, ok := t.(*Tensor); ok && ct != nil && ct.Data != nil {
		if ct.view {
			return // a view owns nothing
		}
		b.inUse -= int64(len(ct.Data)) * 4
		ct.Data = nil
		release(ct.region)
		ct.region = nil
	}
}

func (b *Backend) Upload(dst kernels.Tensor, src []float32) error {
	d := dst.(*Tensor)
	if len(src) != len(d.Data) {
		return fmt.Errorf("upload: %d values into tensor %v", len(src), d.shape)
	}
	if d.dtype == kernels.F32 {
		copy(d.Data, src)
		return nil
	}
	for i, v := range src {
		d.Data[i] = kernels.RoundTo(d.dtype, v)
	}
	return nil
}

func (b *Backend) Download(src kernels.Tensor) ([]float32, error) {
	return append([]float32(nil), src.(*Tensor).Data...), nil
}

func (b *Backend) SetBatch(bt *kernels.Batch) error {
	b.batch = bt
	return nil
}

func (b *Backend) Sync() error  { return nil }
func (b *Backend) Close() error { return nil }

// parallel runs fn over [0, n) in contiguous chunks, one per thread.
func (b *Backend) parallel(n int, fn func(lo, hi int)) {
	threads := b.threads
	if threads > n {
		threads = n
	}
	if threads <= 1 {
		fn(0, n)
		return
	}
	done := make(chan struct{}, threads)
	chunk := (n + threads - 1) / threads
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		go func() { fn(lo, hi); done <- struct{}{} }()
	}
	for lo := 0; lo < n; lo += chunk {
		<-done
	}
}

func data(t kernels.Tensor) []float32 {
	if t == nil {
		return nil
	}
	return t.(*Tensor).Data
}

func (b *Backend) View(t kernels.Tensor, rows int) (kernels.Tensor, error) {
	ct := t.(*Tensor)
	if rows < 0 || rows > ct.shape[0] {
		return nil, fmt.Errorf("view: %d rows of tensor %v", rows, ct.shape)
	}
	shape := append([]int{rows}, ct.shape[1:]...)
	return &Tensor{shape: shape, dtype: ct.dtype, Data: ct.Data[:kernels.Numel(shape)], view: true}, nil
}
