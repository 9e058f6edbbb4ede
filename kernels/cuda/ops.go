package cuda

import (
	"fmt"
	"os"
	"unsafe"

	"benchtop/kernels"
)

func ptr(t kernels.Tensor) uintptr {
	if t == nil {
		return 0
	}
	return t.(*Tensor).ptr
}

func grid1(n int) dim3 { return dim3{uint32(n), 1, 1} }

// biasAct launches bias_act: one block row per tensor row, 512 columns a block.
func (b *Backend) biasAct(x *Tensor, bias kernels.Tensor, relu int) error {
	cols := x.cols()
	if x.rows() > 65535 {
		return fmt.Errorf("bias act: %d rows exceed the kernel's grid of 65535", x.rows())
	}
	return b.launch(kname("bias_act", x.dtype), dim3{uint32((cols + 511) / 512), uint32(x.rows()), 1}, dim3{256, 1, 1}, 0,
		x.ptr, ptr(bias), int64(x.rows()), cols, relu)
}

// halfDType is the 16-bit dtype every tensor of ts shares (nil entries are
// skipped): the kernels take fp16 or bf16 storage, all operands alike.
func halfDType(what string, ts ...kernels.Tensor) (kernels.DType, error) {
	dt := kernels.DType(-1)
	for _, t := range ts {
		if t == nil {
			continue
		}
		switch {
		case t.DType() != kernels.F16 && t.DType() != kernels.BF16:
			return dt, fmt.Errorf("%s: tensor %v is %s; the CUDA kernels take fp16 or bf16", what, t.Shape(), t.DType())
		case dt >= 0 && t.DType() != dt:
			return dt, fmt.Errorf("%s: tensors of %s and %s mixed; the CUDA kernels take one dtype", what, dt, t.DType())
		}
		dt = t.DType()
	}
	if dt < 0 {
		return dt, fmt.Errorf("%s: no tensor", what)
	}
	return dt, nil
}

// kname is the exported name of a kernel's instantiation for dt: NAME_f16
// or NAME_bf16 (see src/common.cuh).
func kname(base string, dt kernels.DType) string {
	if dt == kernels.BF16 {
		return base + "_bf16"
	}
	return base + "_f16"
}

// sampleEnv picks the sampling kernel: "legacy" runs the one sample.cu
// replaced (sample_legacy.cu), for A/B runs.
const sampleEnv = "BENCHTOP_SAMPLE"

func (b *Backend) sampleKernel() string {
	if os.Getenv(sampleEnv) == "legacy" {
		return "sample_legacy"
	}
	return "sample"
}

// needHalf checks the tensors of a kernel that has an fp16 instantiation only.
func (b *Backend) needHalf(what string, ts ...kernels.Tensor) error {
	for _, t := range ts {
		if t != nil && t.DType() != kernels.F16 {
			return fmt.Errorf("%s: tensor %v is %s; the CUDA kernels take fp16", what, t.Shape(), t.DType())
		}
	}
	return nil
}

func (b *Backend) Embed(out, tok, pos kernels.Tensor, posOffset int) error {
	o := out.(*Tensor)
	dt, err := halfDType("embed", out, tok, pos)
	if err != nil {
		return err
	}
	if o.rows() != b.meta.cur.n {
		return fmt.Errorf("embed: out %v for %d tokens", o.shape, b.meta.cur.n)
	}
	if tok == nil && pos == nil {
		return fmt.Errorf("embed: neither a token nor a position table")
	}
	return b.launch(kname("embed", dt), grid1(o.rows()), dim3{128, 1, 1}, 0, o.ptr, ptr(tok), ptr(pos),
		b.meta.ptrs.tokens, b.meta.ptrs.positions, posOffset, o.cols())
}

func (b *Backend) LayerNorm(out, x, w, bias kernels.Tensor, eps float32) error {
	o, xt := out.(*Tensor), x.(*Tensor)
	dt, err := halfDType("layernorm", out, x, w, bias)
	if err != nil {
		return err
	}
	d := xt.cols()
	if d > 24000 {
		return fmt.Errorf("layernorm: rows of %d exceed the kernel's 24000", d)
	}
	return b.launch(kname("layernorm", dt), grid1(xt.rows()), dim3{256, 1, 1}, uint32((d+32)*4), o.ptr, xt.ptr, ptr(w), ptr(bias), d, eps)
}

func (b *Backend) Linear(out, x, w, bias kernels.Tensor) error {
	o, xt, wt := out.(*Tensor), x.(*Tensor), w.(*Tensor)
	n, k, m := xt.rows(), xt.cols(), wt.rows()
	if wt.cols() != k || o.rows() != n || o.cols() != m {
		return fmt.Errorf("linear: x %v · w %v into out %v", xt.shape, wt.shape, o.shape)
	}
	// Decode-sized products go to a small-M kernel where one was measured faster.
	if done, err := b.gemvLinear(o, xt, wt, bias, nil, kernels.ActNone); done || err != nil {
		return err
	}
	dt, err := halfDType("linear", x, w, bias)
	if err != nil {
		return err
	}
	ab := int32(dataR16F)
	if dt == kernels.BF16 {
		ab = dataR16BF
	}
	ctype := ab
	switch {
	case o.dtype != kernels.F32 && o.dtype != dt:
		return fmt.Errorf("linear: %s output for %s operands", o.dtype, dt)
	case o.dtype == kernels.F32:
		if bias != nil {
			return fmt.Errorf("linear: an fp32 output takes no bias")
		}
		ctype = dataR32F
	}
	// Row-major out[n,m] = x[n,k]·w[m,k]ᵀ is column-major outᵀ = wᵀᵀ·xᵀ.
	rows := gemmRows(n, xt, o)
	b.profGemm(rows, m, k)
	st := b.blas.cublasGemmEx(b.handle, opT, opN, int32(m), int32(rows), int32(k), b.alpha, wt.ptr, ab, int32(k),
		xt.ptr, ab, int32(k), unsafe.Add(b.alpha, 4), o.ptr, ctype, int32(m), computeF32, gemmDefaultTOp)
	b.profEnd()
	if err := b.blas.check(st, fmt.Sprintf("cublasGemmEx %dx%dx%d", rows, m, k)); err != nil {
		return err
	}
	if bias == nil {
		return nil
	}
	return b.biasAct(o, bias, 0)
}

func (b *Backend) BiasAct(x, bias kernels.Tensor, relu bool) error {
	xt := x.(*Tensor)
	if _, err := halfDType("bias act", x, bias); err != nil {
		return err
	}
	r := 0
	if relu {
		r = 1
	}
	return b.biasAct(xt, bias, r)
}

func (b *Backend) ResidualLayerNorm(h, x, bias, out, w, lb kernels.Tensor, eps float32) error {
	ht := h.(*Tensor)
	if kernels.Numel(x.Shape()) != kernels.Numel(ht.shape) {
		return fmt.Errorf("residual: h %v and x %v differ", ht.shape, x.Shape())
	}
	dt, err := halfDType("residual layernorm", h, x, bias, out, w, lb)
	if err != nil {
		return err
	}
	d := ht.cols()
	if d > 24000 {
		return fmt.Errorf("residual layernorm: rows of %d exceed the kernel's 24000", d)
	}
	norm := 0
	if out != nil {
		norm = 1
	}
	return b.launch(kname("residual_layernorm", dt), grid1(ht.rows()), dim3{256, 1, 1}, uint32((d+32)*4),
		ht.ptr, ptr(x), ptr(bias), ptr(out), ptr(w), ptr(lb), d, eps, norm)
}

func (b *Backend) GatherLast(out, x kernels.Tensor) error {
	o := out.(*Tensor)
	if _, err := halfDType("gather", out, x); err != nil {
		return err
	}
	if o.rows() != b.meta.cur.l {
		return fmt.Errorf("gather last: out %v for %d sequences needing logits", o.shape, b.meta.cur.l)
	}
	return b.launch("gather_rows", grid1(o.rows()), dim3{128, 1, 1}, 0, o.ptr, ptr(x), b.meta.ptrs.logitRows, o.cols())
}

func (b *Backend) Sample(logits kernels.Tensor, params []kernels.SampleParams) ([]int32, error) {
	lt := logits.(*Tensor)
	rows := len(params)
	if lt.argmaxVocab > 0 {
		return b.argmaxTokens(lt, params)
	}
	if lt.dtype != kernels.F32 || lt.rows() < rows {
		return nil, fmt.Errorf("sample: logits %v %s for %d rows (want fp32)", lt.shape, lt.dtype, rows)
	}
	if rows == 0 {
		return nil, nil
	}
	p := &b.meta.params
	if err := p.ensure(b, rows); err != nil {
		return nil, err
	}
	slots := unsafe.Slice((*uint64)(p.host), p.rows*paramSlots)
	temp := unsafe.Slice((*float32)(p.host), p.rows*2)[:p.rows]
	topk := unsafe.Slice((*int32)(unsafe.Pointer(&slots[p.rows/2])), p.rows)
	topp := unsafe.Slice((*float32)(unsafe.Pointer(&slots[p.rows])), p.rows)
	seed := slots[2*p.rows : 3*p.rows]
	step := slots[3*p.rows : 4*p.rows]
	toks := unsafe.Slice((*int32)(unsafe.Pointer(&slots[4*p.rows])), p.rows)
	for i, sp := range params {
		temp[i], topk[i], topp[i], seed[i], step[i] = sp.Temperature, int32(sp.TopK), sp.TopP, sp.Seed, sp.Step
	}
	b.profBegin("upload sampling parameters")
	err := b.d.check(b.d.cuMemcpyHtoDAsync(p.dev, p.host, uint64(4*p.rows*8), b.stream), "upload sampling parameters")
	b.profEnd()
	if err != nil {
		return nil, err
	}
	dev := func(slot int) uintptr { return p.dev + uintptr(slot*8) }
	if err := b.launch(b.sampleKernel(), grid1(rows), dim3{1024, 1, 1}, 0, dev(4*p.rows), lt.ptr, int64(lt.cols()),
		p.dev, dev(p.rows/2), dev(p.rows), dev(2*p.rows), dev(3*p.rows)); err != nil {
		return nil, err
	}
	b.profBegin("download tokens")
	err = b.d.check(b.d.cuMemcpyDtoHAsync(unsafe.Pointer(&toks[0]), dev(4*p.rows), uint64(rows*4), b.stream), "download tokens")
	b.profEnd()
	if err != nil {
		return nil, err
	}
	if err := b.Sync(); err != nil {
		return nil, fmt.Errorf("sample %d rows: %w", rows, err)
	}
	return append([]int32(nil), toks[:rows]...), nil
}

// argmaxTokens reads back the greedy tokens FusedArgmax left in keys.
func (b *Backend) argmaxTokens(keys *Tensor, params []kernels.SampleParams) ([]int32, error) {
	rows := len(params)
	for i, p := range params {
		if p.Temperature > 0 {
			return nil, fmt.Errorf("sample: row %d samples at temperature %g, but the step computed greedy tokens only", i, p.Temperature)
		}
	}
	if rows == 0 {
		return nil, nil
	}
	if rows > keys.rows() {
		return nil, fmt.Errorf("sample: %d rows of %d greedy tokens", rows, keys.rows())
	}
	p := &b.meta.params
	if err := p.ensure(b, rows); err != nil {
		return nil, err
	}
	b.profBegin("download tokens")
	err := b.d.check(b.d.cuMemcpyDtoHAsync(p.host, keys.ptr, uint64(rows*8), b.stream), "download greedy tokens")
	b.profEnd()
	if err != nil {
		return nil, err
	}
	if err := b.Sync(); err != nil {
		return nil, fmt.Errorf("greedy tokens of %d rows: %w", rows, err)
	}
	out := make([]int32, rows)
	for i, kv := range unsafe.Slice((*uint64)(p.host), rows) {
		id := 0xffffffff - uint32(kv)
		if kv == 0 || int(id) >= keys.argmaxVocab {
			return nil, fmt.Errorf("sample: row %d has no greedy token (key %#x)", i, kv)
		}
		out[i] = int32(id)
	}
	return out, nil
}
