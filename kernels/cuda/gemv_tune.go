package cuda

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"unsafe"

	"benchtop/kernels"
)

// gemvKey is a shape the choice table holds: x and w of dtype dt, output of
// dtype out (fp32 for logits), m×n×k, and whether 16-byte loads apply.
type gemvKey struct {
	dt, out kernels.DType
	m, n, k int
	aligned bool
}

// gemvChoice is what the table knows about a shape.
type gemvChoice struct {
	best     gemvVariant // the fastest variant whose result matched cuBLAS's
	found    bool        // best is set
	use      bool        // best beat cuBLAS by gemvMargin: Linear runs it
	cublasUs float64     // µs a launch, in a graph, weights streamed from memory
	gemvUs   float64
	timings  []gemvTiming // every candidate, fastest first
	note     string       // why no variant is used, when that is not speed
}

// gemvState is the small-M GEMMs' part of a Backend: the choice table, the
// shapes met during a graph capture that still need timing, and the device
// buffers the kernels share.
type gemvState struct {
	off     bool         // BENCHTOP_GEMV=off: cuBLAS only
	force   *gemvVariant // tests: run this variant wherever it fits, untimed
	table   map[gemvKey]*gemvChoice
	pending map[gemvKey]uintptr // untimed shapes met under capture → a weight of that shape
	ws      kernels.Tensor      // split-K partial tiles, fp32
	counter kernels.Tensor      // split-K arrival counters (zero between launches)
	keys    kernels.Tensor      // ArgmaxLinear's key per row (uint64 as two fp32 slots)
	evA     uintptr
	evB     uintptr
	l2Bytes int
}

// gemvEnv switches the small-M kernels off ("off") for A/B runs.
const gemvEnv = "BENCHTOP_GEMV"

func (b *Backend) gemvState() *gemvState {
	if b.gemv == nil {
		st := &gemvState{off: os.Getenv(gemvEnv) == "off", table: map[gemvKey]*gemvChoice{}, pending: map[gemvKey]uintptr{}}
		var l2 int32
		if b.d.cuDeviceGetAttribute(&l2, attrL2CacheSize, b.dev) == 0 {
			st.l2Bytes = int(l2)
		}
		if st.l2Bytes <= 0 {
			st.l2Bytes = 64 << 20
		}
		b.loadGemvCache(st)
		b.gemv = st
	}
	return b.gemv
}

const attrL2CacheSize = 38 // CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE

// gemvBuffers allocates the shared buffers and timing events once; never
// inside a capture (a captured graph keeps their addresses).
func (b *Backend) gemvBuffers() error {
	st := b.gemvState()
	if st.ws != nil {
		return nil
	}
	if b.capture {
		return fmt.Errorf("small-M GEMM buffers: first use inside a graph capture")
	}
	if st.evA == 0 {
		if err := b.d.check(b.d.cuEventCreate(&st.evA, 0), "cuEventCreate"); err != nil {
			return err
		}
		if err := b.d.check(b.d.cuEventCreate(&st.evB, 0), "cuEventCreate"); err != nil {
			return err
		}
	}
	ws, err := b.Alloc(kernels.F32, gemvWSFloats)
	if err != nil {
		return fmt.Errorf("small-M GEMM split-K workspace: %w", err)
	}
	counter, err := b.Alloc(kernels.F32, gemvCounters)
	if err != nil {
		b.Free(ws)
		return fmt.Errorf("small-M GEMM split-K counters: %w", err)
	}
	keys, err := b.Alloc(kernels.F32, 2*gemvMaxM)
	if err != nil {
		b.Free(ws)
		b.Free(counter)
		return fmt.Errorf("argmax keys: %w", err)
	}
	st.ws, st.counter, st.keys = ws, counter, keys
	return nil
}

// gemvArgs are one launch's operands (device addresses) and epilogue.
type gemvArgs struct {
	x, w, out, bias, res uintptr
	act, kind            int
}

// gemvLaunch enqueues v for key's shape.
func (b *Backend) gemvLaunch(v gemvVariant, key gemvKey, a gemvArgs) error {
	if !v.fits(key.m, key.n, key.k, key.aligned) {
		return fmt.Errorf("small-M GEMM %s does not take %dx%dx%d (aligned %v)", v, key.m, key.n, key.k, key.aligned)
	}
	tiles, split, splitLen := v.geometry(key.n, key.k)
	st := b.gemvState()
	var ws, counters uintptr
	if split > 1 {
		if err := b.gemvBuffers(); err != nil { // a table read from the cache timed nothing here
			return fmt.Errorf("small-M GEMM %s: %w", v, err)
		}
		ws, counters = ptr(st.ws), ptr(st.counter)
	}
	if b.prof != nil {
		b.profLabel = fmt.Sprintf("%s s%d w%d %dx%dx%d", v.kernel(key.dt), split, v.warps, key.m, key.n, key.k)
	}
	return b.launch(v.kernel(key.dt), dim3{uint32(tiles), 1, uint32(split)}, dim3{uint32(32 * v.warps), 1, 1}, 0,
		a.x, a.w, a.out, a.bias, a.res, ws, counters, key.m, key.n, key.k, a.act, a.kind, splitLen)
}

// cublasType is the cudaDataType of dt.
func cublasType(dt kernels.DType) int32 {
	switch dt {
	case kernels.F32:
		return dataR32F
	case kernels.BF16:
		return 14 // CUDA_R_16BF
	}
	return dataR16F
}

// gemvCublas runs out = x·wᵀ (+ out with accumulate) on cuBLAS for key's
// shape and dtypes.
func (b *Backend) gemvCublas(key gemvKey, x, w, out uintptr, accumulate bool) error {
	beta := unsafe.Add(b.alpha, 4)
	if accumulate {
		beta = b.alpha
	}
	t := cublasType(key.dt)
	// Row-major out[m,n] = x[m,k]·w[n,k]ᵀ is column-major outᵀ = wᵀᵀ·xᵀ.
	b.profGemm(key.m, key.n, key.k)
	st := b.blas.cublasGemmEx(b.handle, opT, opN, int32(key.n), int32(key.m), int32(key.k), b.alpha, w, t, int32(key.k),
		x, t, int32(key.k), beta, out, cublasType(key.out), int32(key.n), computeF32, gemmDefaultTOp)
	b.profEnd()
	return b.blas.check(st, fmt.Sprintf("cublasGemmEx %s %dx%dx%d", key.dt, key.m, key.n, key.k))
}

// gemvTimeGraph captures reps launches (launch(i), i = 0..reps-1) into a
// graph, replays it once to warm up and then replays times, and returns the
// median µs per launch. Graph replay is how decode steps run: back to back,
// no host launch cost between kernels.
func (b *Backend) gemvTimeGraph(reps, replays int, launch func(i int) error) (float64, error) {
	st := b.gemvState()
	if err := b.d.check(b.d.cuStreamBeginCapture(b.stream, captureThreadLocal), "begin timing capture"); err != nil {
		return 0, err
	}
	was := b.capture
	b.capture = true
	var lerr error
	for i := 0; i < reps && lerr == nil; i++ {
		lerr = launch(i)
	}
	b.capture = was
	var g, exec uintptr
	if err := b.d.check(b.d.cuStreamEndCapture(b.stream, &g), "end timing capture"); err != nil && lerr == nil {
		lerr = err
	}
	if g != 0 {
		defer b.d.cuGraphDestroy(g)
	}
	if lerr != nil {
		return 0, lerr
	}
	if err := b.d.check(b.d.cuGraphInstantiate(&exec, g, 0), "instantiate timing graph"); err != nil {
		return 0, err
	}
	defer b.d.cuGraphExecDestroy(exec)
	if err := b.d.check(b.d.cuGraphLaunch(exec, b.stream), "timing graph"); err != nil {
		return 0, err
	}
	var times []float64
	for range replays {
		b.d.cuEventRecord(st.evA, b.stream)
		if err := b.d.check(b.d.cuGraphLaunch(exec, b.stream), "timing graph"); err != nil {
			return 0, err
		}
		b.d.cuEventRecord(st.evB, b.stream)
		if err := b.d.check(b.d.cuEventSynchronize(st.evB), "timing graph"); err != nil {
			return 0, err
		}
		var ms float32
		if err := b.d.check(b.d.cuEventElapsedTime(&ms, st.evA, st.evB), "cuEventElapsedTime"); err != nil {
			return 0, err
		}
		times = append(times, float64(ms)*1e3/float64(reps))
	}
	sort.Float64s(times)
	return times[len(times)/2], nil
}

// gemvBench is the scratch a shape is timed on: random x, an output and a
// cuBLAS reference output, and copies of the weights that together
// overflow L2, cycled so every launch streams its weights from memory as a
// decode step does.
type gemvBench struct {
	key       gemvKey
	x         kernels.Tensor
	out, ref  kernels.Tensor
	copies    kernels.Tensor // nil: w itself, which alone overflows L2
	w         uintptr
	nCopies   int
	reps      int
	allocated []kernels.Tensor
}

func (s *gemvBench) weight(i int) uintptr {
	if s.copies == nil {
		return s.w
	}
	return ptr(s.copies) + uintptr((i%s.nCopies)*s.key.n*s.key.k*s.key.dt.Size())
}

func (b *Backend) newGemvBench(key gemvKey, w uintptr) (*gemvBench, error) {
	s := &gemvBench{key: key, w: w}
	alloc := func(dt kernels.DType, shape ...int) (kernels.Tensor, error) {
		t, err := b.Alloc(dt, shape...)
		if err == nil {
			s.allocated = append(s.allocated, t)
		}
		return t, err
	}
	var err error
	if s.x, err = alloc(key.dt, key.m, key.k); err != nil {
		s.free(b)
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(key.m*131+key.n), uint64(key.k)))
	vals := make([]float32, key.m*key.k)
	for i := range vals {
		vals[i] = float32(rng.NormFloat64())
	}
	if err := b.Upload(s.x, vals); err != nil {
		s.free(b)
		return nil, err
	}
	if s.out, err = alloc(key.out, key.m, key.n); err != nil {
		s.free(b)
		return nil, err
	}
	if s.ref, err = alloc(key.out, key.m, key.n); err != nil {
		s.free(b)
		return nil, err
	}
	wBytes := key.n * key.k * key.dt.Size()
	l2 := b.gemvState().l2Bytes
	s.reps = 8
	if wBytes < 2*l2 {
		s.nCopies = min(ceilDiv(2*l2, wBytes), 128)
		s.reps = max(s.reps, s.nCopies)
		copies, err := alloc(key.dt, s.nCopies*key.n, key.k)
		if errors.Is(err, kernels.ErrOutOfMemory) {
			s.nCopies = 1 // L2-warm timing beats none; both sides get the same
		} else if err != nil {
			s.free(b)
			return nil, err
		} else {
			s.copies = copies
			for i := range s.nCopies {
				if err := b.d.check(b.d.cuMemcpyDtoDAsync(s.weight(i), w, uint64(wBytes), b.stream), "copy weights"); err != nil {
					s.free(b)
					return nil, err
				}
			}
		}
	}
	return s, nil
}

func (s *gemvBench) free(b *Backend) {
	for _, t := range s.allocated {
		b.Free(t)
	}
	s.allocated = nil
}

// outKind is the kernels' out kind for key's output dtype.
func (key gemvKey) outKind() int {
	if key.out == kernels.F32 {
		return gemvOutF32
	}
	return gemvOutT
}

// timeCublas and timeVariant time one launch (µs) at the bench's shape.
func (b *Backend) timeCublas(s *gemvBench, replays int) (float64, error) {
	return b.gemvTimeGraph(s.reps, replays, func(i int) error {
		return b.gemvCublas(s.key, ptr(s.x), s.weight(i), ptr(s.ref), false)
	})
}

func (b *Backend) timeVariant(s *gemvBench, v gemvVariant, replays int) (float64, error) {
	return b.gemvTimeGraph(s.reps, replays, func(i int) error {
		return b.gemvLaunch(v, s.key, gemvArgs{x: ptr(s.x), w: s.weight(i), out: ptr(s.out), kind: s.key.outKind()})
	})
}

// matches runs v once and compares its output with cuBLAS's on the same
// inputs: relative L2 error within a few output roundings.
func (b *Backend) matches(s *gemvBench, v gemvVariant) (bool, float64, error) {
	if err := b.gemvCublas(s.key, ptr(s.x), s.weight(0), ptr(s.ref), false); err != nil {
		return false, 0, err
	}
	if err := b.gemvLaunch(v, s.key, gemvArgs{x: ptr(s.x), w: s.weight(0), out: ptr(s.out), kind: s.key.outKind()}); err != nil {
		return false, 0, err
	}
	got, err := b.Download(s.out)
	if err != nil {
		return false, 0, err
	}
	want, err := b.Download(s.ref)
	if err != nil {
		return false, 0, err
	}
	rel := relErr(got, want)
	tol := 1e-2
	if s.key.dt == kernels.BF16 {
		tol = 3e-2
	}
	return rel <= tol, rel, nil
}

// relErr is ‖got − want‖ / ‖want‖ (+Inf when got has a NaN or an Inf).
func relErr(got, want []float32) float64 {
	var num, den float64
	for i := range want {
		g := float64(got[i])
		if math.IsNaN(g) || math.IsInf(g, 0) {
			return math.Inf(1)
		}
		d := g - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(num / math.Max(den, 1e-30))
}

// gemvMeasure times cuBLAS and every candidate at key's shape (w: weights
// of that shape): one pass over all, then the four fastest and cuBLAS again
// with more replays; the fastest of those whose result matches cuBLAS's is
// the choice.
func (b *Backend) gemvMeasure(key gemvKey, w uintptr) (*gemvChoice, error) {
	if err := b.gemvBuffers(); err != nil {
		return nil, err
	}
	s, err := b.newGemvBench(key, w)
	if err != nil {
		return nil, err
	}
	defer s.free(b)
	c := &gemvChoice{}
	for _, v := range gemvCandidates(key.m, key.n, key.k, key.aligned, b.Multiprocessors()) {
		us, err := b.timeVariant(s, v, 1)
		if err != nil {
			return nil, fmt.Errorf("time %s at %dx%dx%d: %w", v, key.m, key.n, key.k, err)
		}
		c.timings = append(c.timings, gemvTiming{v: v, us: us})
	}
	rankTimings(c.timings)
	if c.cublasUs, err = b.timeCublas(s, 3); err != nil {
		return nil, err
	}
	top := c.timings[:min(4, len(c.timings))]
	for i := range top {
		if top[i].us, err = b.timeVariant(s, top[i].v, 3); err != nil {
			return nil, err
		}
		if top[i].matched, _, err = b.matches(s, top[i].v); err != nil {
			return nil, err
		}
	}
	rankTimings(c.timings)
	best, found, use := gemvPick(c.cublasUs, c.timings) // only the re-timed top ones are matched
	c.best, c.found, c.use, c.gemvUs = best.v, found, use, best.us
	switch {
	case len(c.timings) == 0:
		c.note = "no variant takes this shape"
	case !found:
		c.note = "no variant matched cuBLAS's result"
	}
	return c, nil
}

// gemvTune measures key's shape and records the choice. A shape that can't
// be timed for want of memory stays on cuBLAS.
func (b *Backend) gemvTune(key gemvKey, w uintptr) (*gemvChoice, error) {
	st := b.gemvState()
	c, err := b.gemvMeasure(key, w)
	if errors.Is(err, kernels.ErrOutOfMemory) {
		c, err = &gemvChoice{note: "no memory to time it"}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("time small-M GEMM %s %dx%dx%d: %w", key.dt, key.m, key.n, key.k, err)
	}
	st.table[key] = c
	return c, nil
}

// gemvPending says a capture met shapes the table has not timed.
func (b *Backend) gemvPending() bool { return b.gemv != nil && len(b.gemv.pending) > 0 }

// gemvTunePending times the shapes a capture met (outside any capture).
func (b *Backend) gemvTunePending() error {
	st := b.gemvState()
	keys := make([]gemvKey, 0, len(st.pending))
	for k := range st.pending {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, c gemvKey) int {
		return cmpInts([]int{int(a.dt), int(a.out), a.n, a.k, a.m}, []int{int(c.dt), int(c.out), c.n, c.k, c.m})
	})
	for _, k := range keys {
		if _, ok := st.table[k]; !ok {
			if _, err := b.gemvTune(k, st.pending[k]); err != nil {
				return err
			}
		}
	}
	clear(st.pending)
	return nil
}

func cmpInts(a, b []int) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// GemvChoice is one shape of the small-M GEMM choice table.
type GemvChoice struct {
	DType, Out kernels.DType
	M, N, K    int
	Kernel     string  // the fastest variant that matched cuBLAS ("" when none)
	KernelUs   float64 // its µs a launch (in a graph, weights from memory)
	CublasUs   float64
	Used       bool   // Linear runs Kernel instead of cuBLAS at this shape
	Note       string // why not, when that is not speed
}

// GemvChoices lists the choice table measured so far, by dtype and shape.
func (b *Backend) GemvChoices() []GemvChoice {
	if b.gemv == nil {
		return nil
	}
	var out []GemvChoice
	for k, c := range b.gemv.table {
		g := GemvChoice{DType: k.dt, Out: k.out, M: k.m, N: k.n, K: k.k, CublasUs: c.cublasUs, Used: c.use, Note: c.note}
		if c.found {
			g.Kernel, g.KernelUs = c.best.String(), c.gemvUs
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, c GemvChoice) int {
		return cmpInts([]int{int(a.DType), int(a.Out), a.N, a.K, a.M}, []int{int(c.DType), int(c.Out), c.N, c.K, c.M})
	})
	return out
}
