package cuda

import (
	"fmt"

	"benchtop/kernels"
)

// The kernels that finish the Llama family's GEMMs (and OPT's QKV GEMM):
// src/rmsnorm.cu, src/swiglu.cu, src/kv_write.cu.

func (b *Backend) ResidualRMSNorm(h, x, out, w kernels.Tensor, eps float32) error {
	ht, ot := h.(*Tensor), out.(*Tensor)
	dt, err := halfDType("residual rmsnorm", h, x, out, w)
	if err != nil {
		return err
	}
	d := ht.cols()
	switch {
	case x != nil && kernels.Numel(x.Shape()) != kernels.Numel(ht.shape):
		return fmt.Errorf("residual rmsnorm: h %v and x %v differ", ht.shape, x.Shape())
	case kernels.Numel(ot.shape) != kernels.Numel(ht.shape) || ot.cols() != d:
		return fmt.Errorf("residual rmsnorm: out %v for h %v", ot.shape, ht.shape)
	case w == nil || kernels.Numel(w.Shape()) != d:
		return fmt.Errorf("residual rmsnorm: weight for rows of %d", d)
	}
	return b.launch(kname("residual_rmsnorm", dt), grid1(ht.rows()), dim3{256, 1, 1}, 0, ht.ptr, ptr(x), ot.ptr, ptr(w), d, eps)
}

func (b *Backend) SwiGLU(out, gu kernels.Tensor) error {
	ot, gt := out.(*Tensor), gu.(*Tensor)
	dt, err := halfDType("swiglu", out, gu)
	if err != nil {
		return err
	}
	f := ot.cols()
	if gt.cols() != 2*f || gt.rows() != ot.rows() {
		return fmt.Errorf("swiglu: gate|up %v for out %v", gt.shape, ot.shape)
	}
	return b.launch(kname("swiglu", dt), dim3{uint32(ot.rows()), uint32((f + 511) / 512), 1}, dim3{256, 1, 1}, 0, ot.ptr, gt.ptr, f)
}

// maxPrepHeadDim is the widest head qkv_prep stages in shared memory.
const maxPrepHeadDim = 256

func (b *Backend) WriteKV(kc, vc, qkv kernels.Tensor, sh kernels.AttnShape, p kernels.QKVPrep) error {
	qt := qkv.(*Tensor)
	dt, err := halfDType("write kv", kc, vc, qkv, p.Bias, p.QNorm, p.KNorm)
	if err != nil {
		return err
	}
	if err := sh.Validate(); err != nil {
		return fmt.Errorf("write kv: %w", err)
	}
	hd, w := sh.HeadDim, sh.QKVWidth()
	numel := func(t kernels.Tensor) int { return kernels.Numel(t.Shape()) }
	switch {
	case qt.cols() != w || qt.rows() != b.meta.cur.n:
		return fmt.Errorf("write kv: qkv %v for %d tokens of %+v", qt.shape, b.meta.cur.n, sh)
	case kc.(*Tensor).cols() != sh.KVWidth() || vc.(*Tensor).cols() != sh.KVWidth():
		return fmt.Errorf("write kv: caches %v, %v for rows of %d", kc.Shape(), vc.Shape(), sh.KVWidth())
	case hd > maxPrepHeadDim:
		return fmt.Errorf("write kv: head size %d exceeds the kernel's %d", hd, maxPrepHeadDim)
	case p.Bias != nil && numel(p.Bias) != w:
		return fmt.Errorf("write kv: bias %v for rows of %d", p.Bias.Shape(), w)
	case (p.QNorm != nil && numel(p.QNorm) != hd) || (p.KNorm != nil && numel(p.KNorm) != hd):
		return fmt.Errorf("write kv: q/k norm weights for head size %d", hd)
	case p.InvFreq != nil && (hd%2 != 0 || numel(p.InvFreq) != hd/2 || p.InvFreq.DType() != kernels.F32):
		return fmt.Errorf("write kv: rotary frequencies %v %s for head size %d (want fp32 [%d], an even head size)",
			p.InvFreq.Shape(), p.InvFreq.DType(), hd, hd/2)
	}
	scale := p.QScale
	if scale == 0 {
		scale = 1
	}
	heads := sh.NumHeads + 2*sh.NumKVHeads
	return b.launch(kname("qkv_prep", dt), dim3{uint32(qt.rows()), uint32((heads + 3) / 4), 1}, dim3{128, 1, 1}, 0,
		ptr(kc), ptr(vc), qt.ptr, ptr(p.Bias), ptr(p.QNorm), ptr(p.KNorm), ptr(p.InvFreq),
		b.meta.ptrs.positions, b.meta.ptrs.slots, sh.NumHeads, sh.NumKVHeads, hd, p.NormEps, scale)
}

var _ kernels.Backend = (*Backend)(nil)
