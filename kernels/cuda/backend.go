package cuda

import (
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"benchtop/kernels"
)

// Tensor is a device buffer.
type Tensor struct {
	ptr   uintptr
	shape []int
	dtype kernels.DType
	bytes int64
	owned bool // false for views
	// capRows is how many rows the allocation under the tensor holds (a
	// view's parent's): a GEMM may run on more rows than the view has
	// (cublasRows) without leaving it.
	capRows int
	// argmaxVocab, when not 0, says the tensor holds FusedArgmax's keys for
	// a vocabulary of this size (Sample decodes them).
	argmaxVocab int
}

func (t *Tensor) Shape() []int         { return t.shape }
func (t *Tensor) DType() kernels.DType { return t.dtype }
func (t *Tensor) cols() int            { return t.shape[len(t.shape)-1] }
func (t *Tensor) rows() int            { return kernels.Numel(t.shape) / t.cols() }

// Backend is the CUDA backend. Every method must be called from the
// goroutine that called Open (it is locked to its OS thread).
type Backend struct {
	d             *driver
	blas          *cublas
	dev           int32
	ctx           uintptr
	stream        uintptr
	handle        uintptr
	name          string
	cc            [2]int32
	sms           int32
	total         int64
	inUse         int64
	mods          map[string]uintptr
	fns           map[string]uintptr
	args          *argArena
	meta          *metaBuffers
	graphs        map[int]*graph
	capture       bool
	evStart       uintptr
	evEnd         uintptr
	blasWS        uintptr
	alpha         unsafe.Pointer // pinned 1.0f and 0.0f for cuBLAS
	closed        bool
	metaBlockSize int
	allocs        map[uintptr]int64 // live allocations, freed by Close
	attn          attnDevice
	gemv          *gemvState // small-M GEMMs: choice table and buffers (gemv_tune.go)
	prof          *profiler  // BENCHTOP_PROFILE_KERNELS (profile.go); nil when off
	cuWin         cuWindows  // BENCHTOP_CUPROFILE (profile.go); nil when off
	profLabel     string     // the next launch's name in the kernel profile, when not its kernel's
	fusedSmem     int        // dynamic shared memory a fused GEMM may stage its rows in (fused.go)
}

// Open initialises the first GPU. It locks the calling goroutine to its OS
// thread for the backend's life.
func Open() (be *Backend, err error) { return OpenDevice(0) }

// OpenDevice initialises GPU ordinal (as CUDA numbers them, after
// CUDA_VISIBLE_DEVICES) in its primary context, current on the calling
// goroutine's OS thread, which it locks for the backend's life: one device
// goroutine per GPU, each with its own backend, owns every call to it. An
// ordinal the driver does not see is an error naming the GPUs it sees.
func OpenDevice(ordinal int) (be *Backend, err error) {
	runtime.LockOSThread()
	defer func() {
		if err != nil {
			runtime.UnlockOSThread()
		}
	}()
	d, n, err := initDriver()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("the CUDA driver sees no GPU")
	}
	if ordinal < 0 || ordinal >= n {
		return nil, fmt.Errorf("GPU %d: %w", ordinal, errNoSuchGPU(d, n))
	}
	b := &Backend{d: d, mods: map[string]uintptr{}, fns: map[string]uintptr{}, graphs: map[int]*graph{}, allocs: map[uintptr]int64{}}
	if err := d.check(d.cuDeviceGet(&b.dev, int32(ordinal)), "cuDeviceGet"); err != nil {
		return nil, err
	}
	name := make([]byte, 256)
	if err := d.check(d.cuDeviceGetName(&name[0], int32(len(name)), b.dev), "cuDeviceGetName"); err != nil {
		return nil, err
	}
	b.name = cString(&name[0])
	var total uint64
	if err := d.check(d.cuDeviceTotalMem(&total, b.dev), "cuDeviceTotalMem"); err != nil {
		return nil, err
	}
	b.total = int64(total)
	d.cuDeviceGetAttribute(&b.cc[0], attrComputeCapabilityMajor, b.dev)
	d.cuDeviceGetAttribute(&b.cc[1], attrComputeCapabilityMinor, b.dev)
	d.cuDeviceGetAttribute(&b.sms, attrMultiprocessorCount, b.dev)
	if b.cc[0] < 8 {
		return nil, fmt.Errorf("%s has compute capability %d.%d; the kernels need 8.0 or newer", b.name, b.cc[0], b.cc[1])
	}
	if err := d.check(d.cuDevicePrimaryCtxRetain(&b.ctx, b.dev), "cuDevicePrimaryCtxRetain"); err != nil {
		return nil, err
	}
	if err := d.check(d.cuCtxSetCurrent(b.ctx), "cuCtxSetCurrent"); err != nil {
		return nil, err
	}
	fail := func(e error) (*Backend, error) { b.Close(); return nil, e }
	if err := d.check(d.cuStreamCreate(&b.stream, 1), "cuStreamCreate"); err != nil {
		return fail(err)
	}
	if v := os.Getenv(cuProfileEnv); v != "" {
		if b.cuWin, err = parseCUWindows(v); err != nil {
			return fail(err)
		}
	}
	if err := setAttnSplit(os.Getenv(attnSplitEnv)); err != nil {
		return fail(err)
	}
	b.prof = newProfiler(d, b.stream)
	if err := b.loadModules(); err != nil {
		return fail(err)
	}
	if b.blas, err = loadCublas(); err != nil {
		return fail(err)
	}
	if err := b.blas.check(b.blas.cublasCreate(&b.handle), "cublasCreate"); err != nil {
		return fail(err)
	}
	if err := b.blas.check(b.blas.cublasSetStream(b.handle, b.stream), "cublasSetStream"); err != nil {
		return fail(err)
	}
	// A workspace of our own keeps cuBLAS from allocating inside a graph capture.
	const wsBytes = 32 << 20
	if err := d.check(d.cuMemAlloc(&b.blasWS, wsBytes), "cuMemAlloc (cuBLAS workspace)"); err != nil {
		return fail(err)
	}
	b.inUse += wsBytes
	if err := b.blas.check(b.blas.cublasSetWorkspace(b.handle, b.blasWS, wsBytes), "cublasSetWorkspace"); err != nil {
		return fail(err)
	}
	if err := d.check(d.cuMemAllocHost(&b.alpha, 16), "cuMemAllocHost"); err != nil {
		return fail(err)
	}
	*(*float32)(b.alpha) = 1
	*(*float32)(unsafe.Add(b.alpha, 4)) = 0
	if b.args, err = newArgArena(d); err != nil {
		return fail(err)
	}
	b.meta = &metaBuffers{}
	if err := d.check(d.cuEventCreate(&b.evStart, 0), "cuEventCreate"); err != nil {
		return fail(err)
	}
	if err := d.check(d.cuEventCreate(&b.evEnd, 0), "cuEventCreate"); err != nil {
		return fail(err)
	}
	return b, nil
}

func (b *Backend) Info() kernels.DeviceInfo {
	return kernels.DeviceInfo{Backend: "cuda", Name: b.name, MemoryBytes: b.total, ComputeDType: kernels.F16, CUDAGraphs: true}
}

// ComputeCapability and Multiprocessors describe the device.
func (b *Backend) ComputeCapability() (int, int) { return int(b.cc[0]), int(b.cc[1]) }
func (b *Backend) Multiprocessors() int          { return int(b.sms) }

func (b *Backend) MemoryInUse() int64 { return b.inUse }

func (b *Backend) MemoryInfo() (free, total int64) {
	var f, t uint64
	if b.d.cuMemGetInfo(&f, &t) != 0 {
		return b.total - b.inUse, b.total
	}
	return int64(f), int64(t)
}

func (b *Backend) Alloc(dt kernels.DType, shape ...int) (kernels.Tensor, error) {
	n := kernels.Numel(shape)
	if n <= 0 {
		return nil, fmt.Errorf("alloc %v: empty or negative shape", shape)
	}
	bytes := int64(n) * int64(dt.Size())
	var p uintptr
	if r := b.d.cuMemAlloc(&p, uint64(bytes)); r != 0 {
		if r == 2 { // CUDA_ERROR_OUT_OF_MEMORY
			return nil, fmt.Errorf("alloc %v %s (%d bytes, %d in use): %w", shape, dt, bytes, b.inUse, kernels.ErrOutOfMemory)
		}
		return nil, b.d.check(r, fmt.Sprintf("cuMemAlloc %d bytes", bytes))
	}
	b.inUse += bytes
	b.allocs[p] = bytes
	t := &Tensor{ptr: p, shape: append([]int(nil), shape...), dtype: dt, bytes: bytes, owned: true}
	t.capRows = t.rows()
	// Zeroed memory: padded graph rows read finite values.
	if err := b.d.check(b.d.cuMemsetD16Async(p, 0, uint64(bytes/2), b.stream), "cuMemsetD16"); err != nil {
		return nil, err
	}
	return t, nil
}

func (b *Backend) Free(t kernels.Tensor) {
	ct, ok := t.(*Tensor)
	if !ok || ct == nil || !ct.owned || ct.ptr == 0 {
		return
	}
	b.d.cuStreamSynchronize(b.stream)
	b.d.cuMemFree(ct.ptr)
	b.inUse -= ct.bytes
	delete(b.allocs, ct.ptr)
	ct.ptr = 0
}

func (b *Backend) View(t kernels.Tensor, rows int) (kernels.Tensor, error) {
	ct := t.(*Tensor)
	if rows < 0 || rows > ct.shape[0] {
		return nil, fmt.Errorf("view: %d rows of tensor %v", rows, ct.shape)
	}
	shape := append([]int{rows}, ct.shape[1:]...)
	return &Tensor{ptr: ct.ptr, shape: shape, dtype: ct.dtype, bytes: int64(kernels.Numel(shape) * ct.dtype.Size()), capRows: ct.capRows}, nil
}

func (b *Backend) Upload(dst kernels.Tensor, src []float32) error {
	t := dst.(*Tensor)
	if len(src) != kernels.Numel(t.shape) {
		return fmt.Errorf("upload: %d values into tensor %v", len(src), t.shape)
	}
	var buf []byte
	switch t.dtype {
	case kernels.F32:
		buf = unsafe.Slice((*byte)(unsafe.Pointer(&src[0])), len(src)*4)
	default:
		h := make([]uint16, len(src))
		conv := kernels.F32ToF16
		if t.dtype == kernels.BF16 {
			conv = kernels.F32ToBF16
		}
		for i, v := range src {
			h[i] = conv(v)
		}
		buf = unsafe.Slice((*byte)(unsafe.Pointer(&h[0])), len(h)*2)
	}
	if err := b.d.check(b.d.cuMemcpyHtoDAsync(t.ptr, unsafe.Pointer(&buf[0]), uint64(len(buf)), b.stream), "upload"); err != nil {
		return err
	}
	err := b.Sync()
	runtime.KeepAlive(buf)
	return err
}

func (b *Backend) Download(src kernels.Tensor) ([]float32, error) {
	t := src.(*Tensor)
	n := kernels.Numel(t.shape)
	out := make([]float32, n)
	if t.dtype == kernels.F32 {
		if err := b.d.check(b.d.cuMemcpyDtoHAsync(unsafe.Pointer(&out[0]), t.ptr, uint64(n*4), b.stream), "download"); err != nil {
			return nil, err
		}
		return out, b.Sync()
	}
	h := make([]uint16, n)
	if err := b.d.check(b.d.cuMemcpyDtoHAsync(unsafe.Pointer(&h[0]), t.ptr, uint64(n*2), b.stream), "download"); err != nil {
		return nil, err
	}
	if err := b.Sync(); err != nil {
		return nil, err
	}
	conv := kernels.F16ToF32
	if t.dtype == kernels.BF16 {
		conv = kernels.BF16ToF32
	}
	for i, v := range h {
		out[i] = conv(v)
	}
	return out, nil
}

func (b *Backend) Sync() error {
	return b.d.check(b.d.cuStreamSynchronize(b.stream), "stream synchronize")
}

func (b *Backend) MarkStart() error {
	if b.prof != nil {
		b.prof.markStart()
	}
	return b.d.check(b.d.cuEventRecord(b.evStart, b.stream), "cuEventRecord")
}

func (b *Backend) MarkEnd() (float64, error) {
	if err := b.d.check(b.d.cuEventRecord(b.evEnd, b.stream), "cuEventRecord"); err != nil {
		return 0, err
	}
	if err := b.d.check(b.d.cuEventSynchronize(b.evEnd), "cuEventSynchronize"); err != nil {
		return 0, err
	}
	var ms float32
	if err := b.d.check(b.d.cuEventElapsedTime(&ms, b.evStart, b.evEnd), "cuEventElapsedTime"); err != nil {
		return 0, err
	}
	if b.prof != nil {
		b.prof.markEnd(float64(ms))
	}
	b.cuWindowEnds()
	return float64(ms), nil
}

func (b *Backend) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	if b.stream != 0 {
		b.d.cuStreamSynchronize(b.stream)
	}
	if b.cuWin.open() != nil {
		b.d.cuProfilerStop()
	}
	if b.prof != nil {
		b.prof.report()
		b.prof.free()
	}
	if err := b.saveGemvCache(); err != nil {
		fmt.Fprintf(os.Stderr, "benchtop: %v\n", err)
	}
	b.ResetGraphs()
	for p := range b.allocs {
		b.d.cuMemFree(p)
	}
	b.allocs = nil
	if b.meta != nil {
		b.meta.free(b)
	}
	if b.handle != 0 {
		b.blas.cublasDestroy(b.handle)
	}
	if b.blasWS != 0 {
		b.d.cuMemFree(b.blasWS)
	}
	if b.args != nil {
		b.d.cuMemFreeHost(b.args.host)
	}
	if b.alpha != nil {
		b.d.cuMemFreeHost(b.alpha)
	}
	if b.ctx != 0 {
		b.d.cuDevicePrimaryCtxRelease(b.dev)
	}
	runtime.UnlockOSThread()
	return nil
}
