package cuda

import (
	"fmt"
	"os"

	"benchtop/kernels"
)

// The fused decode path (kernels.DecodeFuser): gemv_fused.cu's GEMV with a
// norm or SwiGLU prologue and gemv_finish's epilogue, for steps of at most
// fusedMaxRows tokens (the CUDA-core kernels' token tiles), where a GEMM
// streams its weights and a separate norm kernel costs as much as the GEMM.
// BENCHTOP_FUSE=off keeps the model on its per-kernel path, for A/B runs.
const fuseEnv = "BENCHTOP_FUSE"

const fusedMaxRows = 4

// The prologues as gemv_fused.cu numbers them.
const (
	gemvProNone      = 0
	gemvProLayerNorm = 1
	gemvProRMSNorm   = 2
	gemvProSwiGLU    = 3
)

func init() {
	var names []string
	for _, dt := range []kernels.DType{kernels.F16, kernels.BF16} {
		for _, t := range simtTiles {
			for _, r := range simtRows {
				names = append(names, fusedKernel(dt, t, r))
			}
		}
	}
	kernelsIn["gemv_fused"] = names
}

func fusedKernel(dt kernels.DType, tile, rows int) string {
	return fmt.Sprintf("gemv_fused_%s_m%d_r%d", dtypeTag(dt), tile, rows)
}

// fusedBlocksPerSM caps a prologue kernel's grid: with more tiles than
// this many blocks a multiprocessor, blocks take several tiles each.
const fusedBlocksPerSM = 16

// fusedSmemBytes is the dynamic shared memory of a prologue kernel of token
// tile tile at K: the staged rows, the norm's weight and its bias.
func fusedSmemBytes(tile, k int) int { return (tile + 2) * k * 2 }

// fusedStaticSmem bounds gemv_fused's static shared memory (the prologue's
// scratch, the warps' partial sums, split-K's flag), kept out of the
// dynamic allowance.
const fusedStaticSmem = 4 << 10

// initFused raises the fused kernels' dynamic shared memory limit (the
// staged rows) to what the device allows a block.
func (b *Backend) initFused() error {
	b.fusedSmem = min(b.attn.smemMax-fusedStaticSmem, 200<<10)
	for _, name := range kernelsIn["gemv_fused"] {
		if err := b.d.check(b.d.cuFuncSetAttribute(b.fns[name], attrMaxDynamicShared, int32(b.fusedSmem)), name+" shared memory"); err != nil {
			return err
		}
	}
	return nil
}

// FusesDecode says whether the fused kernels take steps of rows tokens
// whose prologue inputs are width wide (see kernels.DecodeFuser).
func (b *Backend) FusesDecode(rows, width int) bool {
	if rows < 1 || rows > fusedMaxRows || width < 8 || width%8 != 0 || os.Getenv(fuseEnv) == "off" || b.gemvState().off {
		return false
	}
	return fusedSmemBytes(smallestTile(rows, 1, simtTiles), width) <= b.fusedSmem
}

func proCode(k kernels.PrologueKind) (int, error) {
	switch k {
	case kernels.ProNone:
		return gemvProNone, nil
	case kernels.ProLayerNorm:
		return gemvProLayerNorm, nil
	case kernels.ProRMSNorm:
		return gemvProRMSNorm, nil
	case kernels.ProSwiGLU:
		return gemvProSwiGLU, nil
	}
	return 0, fmt.Errorf("prologue %v", k)
}

// fusedCheck validates a fused GEMM's operands: x [m, in] of 16-bit dtype
// (in = K, or 2K for SwiGLU), w [n, K] of x's dtype, the prologue's vectors
// [K], alignment for 16-byte loads, at most fusedMaxRows rows, and room for
// the staged rows. It returns the prologue's code.
func (b *Backend) fusedCheck(what string, xt, wt *Tensor, p kernels.Prologue) (int, error) {
	pro, err := proCode(p.Kind)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	m, k := xt.rows(), wt.cols()
	in := k
	if p.Kind == kernels.ProSwiGLU {
		in = 2 * k
	}
	if xt.cols() != in {
		return 0, fmt.Errorf("%s: x %v for w %v with a %v prologue", what, xt.shape, wt.shape, p.Kind)
	}
	if _, err := halfDType(what, xt, wt, p.W, p.B); err != nil {
		return 0, err
	}
	switch {
	case p.B != nil && p.Kind != kernels.ProLayerNorm:
		return 0, fmt.Errorf("%s: a %v prologue takes no bias", what, p.Kind)
	case p.B != nil && p.W == nil:
		return 0, fmt.Errorf("%s: a norm bias without a weight", what)
	case (p.Kind == kernels.ProNone || p.Kind == kernels.ProSwiGLU) && p.W != nil:
		return 0, fmt.Errorf("%s: a %v prologue takes no weight", what, p.Kind)
	}
	for _, t := range []kernels.Tensor{p.W, p.B} {
		if t != nil && kernels.Numel(t.Shape()) != k {
			return 0, fmt.Errorf("%s: norm vector %v for rows of %d", what, t.Shape(), k)
		}
	}
	if m < 1 || m > fusedMaxRows {
		return 0, fmt.Errorf("%s: %d rows; the fused kernels take 1 to %d", what, m, fusedMaxRows)
	}
	if k%8 != 0 || xt.ptr%16 != 0 || wt.ptr%16 != 0 || ptr(p.W)%16 != 0 || ptr(p.B)%16 != 0 {
		return 0, fmt.Errorf("%s: K %d or an operand not 16-byte aligned", what, k)
	}
	if need := fusedSmemBytes(smallestTile(m, 1, simtTiles), k); need > b.fusedSmem {
		return 0, fmt.Errorf("%s: %d rows of %d need %d bytes of shared memory; the kernels have %d", what, m, k, need, b.fusedSmem)
	}
	return pro, nil
}

// FusedLinear computes out = act(p(x)·wᵀ + bias) + residual in one kernel
// (see kernels.DecodeFuser).
func (b *Backend) FusedLinear(out, x, w, bias, residual kernels.Tensor, p kernels.Prologue, act kernels.Act) error {
	o, xt, wt := out.(*Tensor), x.(*Tensor), w.(*Tensor)
	pro, err := b.fusedCheck("fused linear", xt, wt, p)
	if err != nil {
		return err
	}
	m, k, n := xt.rows(), wt.cols(), wt.rows()
	if o.rows() != m || o.cols() != n {
		return fmt.Errorf("fused linear: out %v for x %v · w %v", o.shape, xt.shape, wt.shape)
	}
	kind := gemvOutT
	switch {
	case o.dtype == kernels.F32:
		if bias != nil || residual != nil || act != kernels.ActNone {
			return fmt.Errorf("fused linear: an fp32 output takes no bias, residual or activation")
		}
		kind = gemvOutF32
	case o.dtype != xt.dtype:
		return fmt.Errorf("fused linear: %s output for %s operands", o.dtype, xt.dtype)
	}
	if _, err := halfDType("fused linear", x, bias, residual); err != nil {
		return err
	}
	if bias != nil && kernels.Numel(bias.Shape()) != n || residual != nil && kernels.Numel(residual.Shape()) != m*n {
		return fmt.Errorf("fused linear: bias %v or residual %v for out %v", shapeOf(bias), shapeOf(residual), o.shape)
	}
	if act != kernels.ActNone && act != kernels.ActReLU {
		return fmt.Errorf("fused linear: activation %v", act)
	}
	if o.ptr == xt.ptr {
		return fmt.Errorf("fused linear: out aliases x")
	}
	key := gemvKey{dt: xt.dtype, out: o.dtype, m: m, n: n, k: k, aligned: true}
	v, err := b.fusedVariant(key, wt.ptr)
	if err != nil {
		return err
	}
	return b.fusedLaunch(v, key, p, pro, gemvArgs{x: xt.ptr, w: wt.ptr, out: o.ptr, bias: ptr(bias), res: ptr(residual), act: int(act), kind: kind}, fusedKV{})
}

// fusedKV is where a fused QKV GEMM stores K and V (zero: nowhere).
type fusedKV struct {
	kc, vc, slots   uintptr
	qWidth, kvWidth int
}

// FusedQKV computes qkv = p(x)·wᵀ + bias and stores each token's K and V
// at its slot of the caches in the same kernel (see kernels.DecodeFuser).
func (b *Backend) FusedQKV(qkv, x, w, bias, kc, vc kernels.Tensor, sh kernels.AttnShape, p kernels.Prologue) error {
	o, xt, wt, kt, vt := qkv.(*Tensor), x.(*Tensor), w.(*Tensor), kc.(*Tensor), vc.(*Tensor)
	pro, err := b.fusedCheck("fused qkv", xt, wt, p)
	if err != nil {
		return err
	}
	if err := sh.Validate(); err != nil {
		return fmt.Errorf("fused qkv: %w", err)
	}
	m, k, n := xt.rows(), wt.cols(), wt.rows()
	if _, err := halfDType("fused qkv", qkv, x, bias, kc, vc); err != nil {
		return err
	}
	switch {
	case n != sh.QKVWidth() || o.rows() != m || o.cols() != n:
		return fmt.Errorf("fused qkv: qkv %v, w %v for %d tokens of %+v", o.shape, wt.shape, m, sh)
	case m != b.meta.cur.n:
		return fmt.Errorf("fused qkv: %d rows for a step of %d tokens", m, b.meta.cur.n)
	case kt.cols() != sh.KVWidth() || vt.cols() != sh.KVWidth():
		return fmt.Errorf("fused qkv: caches %v, %v for rows of %d", kt.shape, vt.shape, sh.KVWidth())
	case bias != nil && kernels.Numel(bias.Shape()) != n:
		return fmt.Errorf("fused qkv: bias %v for rows of %d", bias.Shape(), n)
	case o.ptr == xt.ptr:
		return fmt.Errorf("fused qkv: qkv aliases x")
	}
	key := gemvKey{dt: xt.dtype, out: o.dtype, m: m, n: n, k: k, aligned: true}
	v, err := b.fusedVariant(key, wt.ptr)
	if err != nil {
		return err
	}
	return b.fusedLaunch(v, key, p, pro, gemvArgs{x: xt.ptr, w: wt.ptr, out: o.ptr, bias: ptr(bias), kind: gemvOutT},
		fusedKV{kc: kt.ptr, vc: vt.ptr, slots: b.meta.ptrs.slots, qWidth: sh.QWidth(), kvWidth: sh.KVWidth()})
}

// FusedArgmax enqueues the greedy token of each row of p(x)·wᵀ into ids (see
// kernels.DecodeFuser): the keys are cleared, then the fused kernel's
// epilogue keeps each row's largest (value, lowest index) key. Sample reads
// them back.
func (b *Backend) FusedArgmax(ids, x, w kernels.Tensor, p kernels.Prologue) error {
	it, xt, wt := ids.(*Tensor), x.(*Tensor), w.(*Tensor)
	pro, err := b.fusedCheck("fused argmax", xt, wt, p)
	if err != nil {
		return err
	}
	m, k, vocab := xt.rows(), wt.cols(), wt.rows()
	if it.dtype != kernels.F32 || it.cols() != 2 || it.rows() < m {
		return fmt.Errorf("fused argmax: ids %v %s for %d rows (want [rows, 2] fp32)", it.shape, it.dtype, m)
	}
	key := gemvKey{dt: xt.dtype, out: kernels.F32, m: m, n: vocab, k: k, aligned: true}
	v, err := b.fusedVariant(key, wt.ptr)
	if err != nil {
		return err
	}
	b.profBegin("clear argmax keys")
	err = b.d.check(b.d.cuMemsetD16Async(it.ptr, 0, uint64(4*m), b.stream), "fused argmax: clear keys")
	b.profEnd()
	if err != nil {
		return err
	}
	if err := b.fusedLaunch(v, key, p, pro, gemvArgs{x: xt.ptr, w: wt.ptr, out: it.ptr, kind: gemvOutArgmax}, fusedKV{}); err != nil {
		return err
	}
	it.argmaxVocab = vocab
	return nil
}

// fusedVariant is the CUDA-core variant the choice table measured fastest at
// key's shape (the plain kernel's time stands for the fused one's); a shape
// not yet timed is timed now, or, inside a capture, noted for Graph to time
// and recapture, running a default meanwhile.
func (b *Backend) fusedVariant(key gemvKey, w uintptr) (gemvVariant, error) {
	st := b.gemvState()
	tile := smallestTile(key.m, 1, simtTiles)
	def := gemvVariant{fam: gemvSIMT, tile: tile, rows: 2, warps: 4, split: 1, aligned: true}
	if f := st.force; f != nil && f.fam == gemvSIMT && f.fits(key.m, key.n, key.k, true) {
		return *f, nil
	}
	if err := b.gemvBuffers(); err != nil {
		return def, err
	}
	tk := key
	tk.m = gemvBucket(key.m)
	c := st.table[tk]
	if c == nil {
		if b.capture {
			st.pending[tk] = w
			return def, nil
		}
		var err error
		if c, err = b.gemvTune(tk, w); err != nil {
			return def, err
		}
	}
	best, bestUs := def, 0.0
	for _, t := range c.timings {
		if t.v.fam == gemvSIMT && t.us > 0 && t.v.fits(key.m, key.n, key.k, true) && (bestUs == 0 || t.us < bestUs) {
			best, bestUs = t.v, t.us
		}
	}
	return best, nil
}

// fusedLaunch enqueues gemv_fused for v at key's shape.
func (b *Backend) fusedLaunch(v gemvVariant, key gemvKey, p kernels.Prologue, pro int, a gemvArgs, kv fusedKV) error {
	if !v.fits(key.m, key.n, key.k, true) || v.fam != gemvSIMT {
		return fmt.Errorf("fused GEMM %s does not take %dx%dx%d", v, key.m, key.n, key.k)
	}
	tiles, split, splitLen := v.geometry(key.n, key.k)
	st := b.gemvState()
	var ws, counters uintptr
	if split > 1 {
		if err := b.gemvBuffers(); err != nil {
			return fmt.Errorf("fused GEMM %s: %w", v, err)
		}
		ws, counters = ptr(st.ws), ptr(st.counter)
	}
	name := fusedKernel(key.dt, v.tile, v.rows)
	// With a prologue, a grid of many tiles (the LM head's) takes several
	// tiles a block, so the rows are staged once for them.
	grid, smem := tiles, uint32(0)
	if pro != gemvProNone {
		smem = uint32(fusedSmemBytes(v.tile, key.k))
		if split == 1 {
			grid = min(tiles, fusedBlocksPerSM*b.Multiprocessors())
		}
	}
	if b.prof != nil {
		b.profLabel = fmt.Sprintf("%s %v s%d w%d %dx%dx%d", name, p.Kind, split, v.warps, key.m, key.n, key.k)
	}
	return b.launch(name, dim3{uint32(grid), 1, uint32(split)}, dim3{uint32(32 * v.warps), 1, 1}, smem,
		a.x, a.w, a.out, a.bias, a.res, ws, counters, key.m, key.n, key.k, a.act, a.kind, splitLen,
		ptr(p.W), ptr(p.B), p.Eps, pro, kv.kc, kv.vc, kv.slots, kv.qWidth, kv.kvWidth)
}

func shapeOf(t kernels.Tensor) []int {
	if t == nil {
		return nil
	}
	return t.Shape()
}
