package cuda

import (
	"fmt"
	"math/bits"
	"unsafe"

	"benchtop/kernels"
)

// gemvAligned says whether 16-byte loads apply: K a multiple of 8 and both
// operands 16-byte aligned (every row then is).
func gemvAligned(x, w uintptr, k int) bool { return k%8 == 0 && x%16 == 0 && w%16 == 0 }

// gemvShape is the table key of out = x·wᵀ and the kernels' out kind, or
// false when the small-M kernels don't take the call (too many rows, a dtype
// or an epilogue they lack): cuBLAS then runs it.
func gemvShape(o, x, w *Tensor, bias, residual kernels.Tensor, act kernels.Act) (gemvKey, int, bool) {
	m, k, n := x.rows(), x.cols(), w.rows()
	key := gemvKey{dt: x.dtype, out: o.dtype, m: m, n: n, k: k, aligned: gemvAligned(x.ptr, w.ptr, k)}
	if m < 1 || m > gemvMaxM || x.dtype != kernels.F16 && x.dtype != kernels.BF16 || w.dtype != x.dtype {
		return key, 0, false
	}
	if bias != nil && (bias.DType() != x.dtype || kernels.Numel(bias.Shape()) != n) ||
		residual != nil && (residual.DType() != x.dtype || kernels.Numel(residual.Shape()) != m*n) {
		return key, 0, false
	}
	switch {
	case o.dtype == x.dtype:
		return key, gemvOutT, true
	case o.dtype == kernels.F32 && bias == nil && residual == nil && act == kernels.ActNone:
		return key, gemvOutF32, true
	}
	return key, 0, false
}

// gemvLinear runs out = act(x·wᵀ + bias) + residual on a small-M kernel
// when the choice table says one beats cuBLAS at the shape; false: the
// caller runs cuBLAS. A shape the table hasn't seen is timed here, or,
// under a graph capture (where nothing can be timed), noted for Graph,
// which times it and captures again.
func (b *Backend) gemvLinear(o, x, w *Tensor, bias, residual kernels.Tensor, act kernels.Act) (bool, error) {
	key, kind, ok := gemvShape(o, x, w, bias, residual, act)
	if !ok {
		return false, nil
	}
	st := b.gemvState()
	var v gemvVariant
	switch {
	case st.off:
		return false, nil
	case st.force != nil:
		if !st.force.fits(key.m, key.n, key.k, key.aligned) {
			return false, nil
		}
		v = *st.force
	default:
		tk := key
		tk.m = gemvBucket(key.m)
		c := st.table[tk]
		if c == nil {
			if b.capture {
				st.pending[tk] = w.ptr
				return false, nil
			}
			var err error
			if c, err = b.gemvTune(tk, w.ptr); err != nil {
				return false, err
			}
		}
		if !c.use {
			return false, nil
		}
		v = c.best
	}
	err := b.gemvLaunch(v, key, gemvArgs{x: x.ptr, w: w.ptr, out: o.ptr, bias: ptr(bias), res: ptr(residual), act: int(act), kind: kind})
	return true, err
}

// gemvBucket is the row count the table is measured at for m rows: the
// engine's decode graph sizes (1, 2, 4, then multiples of 8), so the
// captures at start-up time every shape and an eager step of m rows (a short
// prefill) reuses the choice of the bucket that holds it, untimed — its
// variant takes m since it takes more — instead of pausing to time it.
func gemvBucket(m int) int {
	if m <= 4 {
		return 1 << bits.Len(uint(max(m, 1)-1))
	}
	return ceilDiv(m, 8) * 8
}

// gemvForce makes every call the variant fits run it, untimed (nil: back to
// the table). Tests use it to check each variant inside the engine's calls.
func (b *Backend) gemvForce(v *gemvVariant) error {
	if err := b.gemvBuffers(); err != nil {
		return err
	}
	b.gemvState().force = v
	return nil
}

// LinearEpilogue computes out = act(x·wᵀ + bias) + residual (see
// kernels.LinearEpiloguer): one small-M kernel where the choice table has
// one for the shape, else cuBLAS and one elementwise pass. residual may
// alias out, then with no activation.
func (b *Backend) LinearEpilogue(out, x, w, bias, residual kernels.Tensor, act kernels.Act) error {
	o, xt, wt := out.(*Tensor), x.(*Tensor), w.(*Tensor)
	n, k, m := xt.rows(), xt.cols(), wt.rows()
	if wt.cols() != k || o.rows() != n || o.cols() != m {
		return fmt.Errorf("linear epilogue: x %v · w %v into out %v", xt.shape, wt.shape, o.shape)
	}
	if xt.dtype != kernels.F16 && xt.dtype != kernels.BF16 {
		return fmt.Errorf("linear epilogue: x is %s; want fp16 or bf16", xt.dtype)
	}
	for _, t := range []kernels.Tensor{w, out, bias, residual} {
		if t != nil && t.DType() != xt.dtype {
			return fmt.Errorf("linear epilogue: tensor %v is %s, x is %s", t.Shape(), t.DType(), xt.dtype)
		}
	}
	if bias != nil && kernels.Numel(bias.Shape()) != m {
		return fmt.Errorf("linear epilogue: bias %v for %d outputs", bias.Shape(), m)
	}
	if residual != nil && kernels.Numel(residual.Shape()) != n*m {
		return fmt.Errorf("linear epilogue: residual %v for out %v", residual.Shape(), o.shape)
	}
	if act != kernels.ActNone && act != kernels.ActReLU {
		return fmt.Errorf("linear epilogue: activation %v", act)
	}
	if xt.ptr == o.ptr {
		return fmt.Errorf("linear epilogue: out aliases x")
	}
	res := ptr(residual)
	inPlace := res != 0 && res == o.ptr
	if inPlace && act != kernels.ActNone {
		return fmt.Errorf("linear epilogue: a residual that aliases out takes no activation")
	}
	if done, err := b.gemvLinear(o, xt, wt, bias, residual, act); done || err != nil {
		return err
	}
	key := gemvKey{dt: xt.dtype, out: o.dtype, m: gemmRows(n, xt, o), n: m, k: k}
	if inPlace {
		res = 0 // the GEMM accumulates onto out, which holds the residual
	}
	if err := b.gemvCublas(key, xt.ptr, wt.ptr, o.ptr, inPlace); err != nil {
		return err
	}
	if bias == nil && res == 0 && act == kernels.ActNone {
		return nil
	}
	return b.launch("linear_epilogue_"+dtypeTag(xt.dtype), dim3{uint32(ceilDiv(m, 256)), uint32(n), 1}, dim3{256, 1, 1}, 0,
		o.ptr, ptr(bias), res, m, int(act))
}

// ArgmaxLinear returns the greedy token of each row of x·wᵀ (see
// kernels.ArgmaxLinearer): the small-M kernel with the argmax fused into its
// epilogue, 64 rows a launch, the logits never written.
func (b *Backend) ArgmaxLinear(x, w kernels.Tensor) ([]int32, error) {
	xt, wt := x.(*Tensor), w.(*Tensor)
	rows, k, vocab := xt.rows(), xt.cols(), wt.rows()
	if wt.cols() != k {
		return nil, fmt.Errorf("argmax linear: x %v · w %v", xt.shape, wt.shape)
	}
	if xt.dtype != kernels.F16 && xt.dtype != kernels.BF16 || wt.dtype != xt.dtype {
		return nil, fmt.Errorf("argmax linear: x %s and w %s; want both fp16 or both bf16", xt.dtype, wt.dtype)
	}
	if b.capture {
		return nil, fmt.Errorf("argmax linear waits for the device: not inside a graph capture")
	}
	if err := b.gemvBuffers(); err != nil {
		return nil, err
	}
	st := b.gemvState()
	ids := make([]int32, rows)
	keys := make([]uint64, gemvMaxM)
	for r0 := 0; r0 < rows; r0 += gemvMaxM {
		mr := min(gemvMaxM, rows-r0)
		xp := xt.ptr + uintptr(r0*k*xt.dtype.Size())
		key := gemvKey{dt: xt.dtype, out: kernels.F32, m: mr, n: vocab, k: k, aligned: gemvAligned(xp, wt.ptr, k)}
		v, err := b.argmaxVariant(key, wt.ptr)
		if err != nil {
			return nil, err
		}
		if err := b.d.check(b.d.cuMemsetD16Async(ptr(st.keys), 0, uint64(4*mr), b.stream), "argmax linear: clear keys"); err != nil {
			return nil, err
		}
		if err := b.gemvLaunch(v, key, gemvArgs{x: xp, w: wt.ptr, out: ptr(st.keys), kind: gemvOutArgmax}); err != nil {
			return nil, fmt.Errorf("argmax linear: %w", err)
		}
		if err := b.d.check(b.d.cuMemcpyDtoHAsync(unsafe.Pointer(&keys[0]), ptr(st.keys), uint64(8*mr), b.stream), "argmax linear: download"); err != nil {
			return nil, err
		}
		if err := b.Sync(); err != nil {
			return nil, fmt.Errorf("argmax linear %dx%dx%d: %w", mr, vocab, k, err)
		}
		for i, kv := range keys[:mr] {
			id := 0xffffffff - uint32(kv)
			if kv == 0 || int(id) >= vocab {
				return nil, fmt.Errorf("argmax linear: row %d has no maximum (key %#x)", r0+i, kv)
			}
			ids[r0+i] = int32(id)
		}
	}
	return ids, nil
}

// argmaxVariant is the variant the LM head's fp32 GEMM measured fastest at
// the shape (timed now if new), whether or not it beat cuBLAS: with the
// argmax fused there is no cuBLAS twin.
func (b *Backend) argmaxVariant(key gemvKey, w uintptr) (gemvVariant, error) {
	st := b.gemvState()
	if st.force != nil && st.force.fits(key.m, key.n, key.k, key.aligned) {
		return *st.force, nil
	}
	tk := key
	tk.m = gemvBucket(key.m)
	c := st.table[tk]
	if c == nil {
		var err error
		if c, err = b.gemvTune(tk, w); err != nil {
			return gemvVariant{}, err
		}
	}
	if c.found {
		return c.best, nil
	}
	// Untimed (no memory to time it): tensor cores, one 16-row tile a block.
	v := gemvVariant{fam: gemvMMA, tile: mmaTile(key.m, key.aligned), rows: 1, warps: 4, split: 1, aligned: key.aligned}
	if !v.fits(key.m, key.n, key.k, key.aligned) {
		return v, fmt.Errorf("argmax linear: no kernel takes %dx%dx%d", key.m, key.n, key.k)
	}
	return v, nil
}
