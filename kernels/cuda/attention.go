package cuda

import (
	"fmt"
	"math"
	"math/bits"

	"benchtop/kernels"
)

// The attention kernels, per element type (fp16, bf16) and head-size bound
// (64, 128, 256): decode (split-KV, src/attention_decode.cu) and prefill
// (flash, src/attention_prefill.cu).
var (
	attnDecodeKernels = [2][3]string{
		{"attn_decode_f16_d64", "attn_decode_f16_d128", "attn_decode_f16_d256"},
		{"attn_decode_bf16_d64", "attn_decode_bf16_d128", "attn_decode_bf16_d256"},
	}
	attnPrefillKernels = [2][3]string{
		{"attn_prefill_f16_d64", "attn_prefill_f16_d128", "attn_prefill_f16_d256"},
		{"attn_prefill_bf16_d64", "attn_prefill_bf16_d128", "attn_prefill_bf16_d256"},
	}
)

// attnDecodeNames and attnPrefillNames are the attention modules' kernels.
var attnDecodeNames, attnPrefillNames = attnKernelNames()

func attnKernelNames() (decode, prefill []string) {
	for dt := range 2 {
		decode = append(decode, attnDecodeKernels[dt][:]...)
		prefill = append(prefill, attnPrefillKernels[dt][:]...)
	}
	return decode, prefill
}

const (
	attnThreads            = 128 // attn::kThreads
	maxAttnHeadDim         = 256
	attrMaxSharedPerSM     = 81      // CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
	sharedReservedPerBlock = 1 << 10 // a block's static shared memory (16 bytes here) and the system's
)

// attnDevice is what the attention launches need to know of the device.
type attnDevice struct {
	smemMax   int // dynamic shared memory a block may ask for
	smemPerSM int
}

// initAttention raises each attention kernel's dynamic shared memory limit
// to what its largest head size needs (above the default 48 KB), within
// what the device allows a block besides the kernel's few static bytes.
func (b *Backend) initAttention() error {
	var optin, perSM int32
	if err := b.d.check(b.d.cuDeviceGetAttribute(&optin, attrMaxSharedPerBlockOptin, b.dev), "shared memory per block"); err != nil {
		return err
	}
	if err := b.d.check(b.d.cuDeviceGetAttribute(&perSM, attrMaxSharedPerSM, b.dev), "shared memory per multiprocessor"); err != nil {
		return err
	}
	b.attn = attnDevice{smemMax: int(optin) - sharedReservedPerBlock, smemPerSM: int(perSM)}
	for dt := range 2 {
		for i, dmax := range []int{64, 128, 256} {
			for _, k := range []struct {
				name string
				need int
			}{
				{attnDecodeKernels[dt][i], decodeSmemBytes(dmax, dmax)},
				{attnPrefillKernels[dt][i], prefillSmemBytes(dmax, dmax)},
			} {
				limit := int32(min(k.need, b.attn.smemMax))
				if err := b.d.check(b.d.cuFuncSetAttribute(b.fns[k.name], attrMaxDynamicShared, limit), k.name+" shared memory"); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// decodeSmemBytes mirrors attn::decode_kernel's shared-memory layout: K and
// V stages, 8 query rows, 8 rows of P, 8 of scores, and the per-head max,
// sum and correction.
func decodeSmemBytes(headDim, dmax int) int {
	dv := (headDim+15)/16*2 + 1
	tk, stages := 64, 3
	if dmax > 128 {
		tk = 32
	}
	pv := tk/8 + 1
	return 16 * (2*stages*tk*dv + 8*dv + 8*pv + 2*(tk+4) + 6)
}

// prefillSmemBytes mirrors attn::prefill_kernel's: the query tile and two
// K and V stages.
func prefillSmemBytes(headDim, dmax int) int {
	dv := (headDim+15)/16*2 + 1
	bn := 64
	if dmax > 128 {
		bn = 32
	}
	return 16 * (prefillTileRows + 2*2*bn) * dv
}

func dmaxIndex(headDim int) (idx, dmax int) {
	switch {
	case headDim <= 64:
		return 0, 64
	case headDim <= 128:
		return 1, 128
	}
	return 2, 256
}

// Attention computes causal attention of the Q part of qkv over the paged
// cache into out, for GQA and MHA, any head size that is a multiple of 8 up
// to 256, fp16 or bf16 (every tensor of one type). Decode tokens (a
// sequence querying one token) go to attn_decode, which splits long
// contexts and merges them itself; sequences querying more go to
// attn_prefill. Errors name the kernel and its grid.
func (b *Backend) Attention(out, qkv, kc, vc kernels.Tensor, sh kernels.AttnShape) error {
	o, qt, kt, vt := out.(*Tensor), qkv.(*Tensor), kc.(*Tensor), vc.(*Tensor)
	if err := sh.Validate(); err != nil {
		return fmt.Errorf("attention: %w", err)
	}
	hd := sh.HeadDim
	if hd%8 != 0 || hd > maxAttnHeadDim {
		return fmt.Errorf("attention: head size %d: the kernels take multiples of 8 up to %d", hd, maxAttnHeadDim)
	}
	dt := 0
	switch qt.dtype {
	case kernels.F16:
	case kernels.BF16:
		dt = 1
	default:
		return fmt.Errorf("attention: qkv is %s; the CUDA kernels take fp16 or bf16", qt.dtype)
	}
	for _, t := range []*Tensor{o, kt, vt} {
		if t.dtype != qt.dtype {
			return fmt.Errorf("attention: tensor %v is %s, qkv is %s", t.shape, t.dtype, qt.dtype)
		}
	}
	m := b.meta
	n := m.cur.n
	if qt.cols() != sh.QKVWidth() || o.cols() != sh.QWidth() || kt.cols() != sh.KVWidth() || vt.cols() != sh.KVWidth() ||
		qt.rows() != n || o.rows() != n || kt.rows() != vt.rows() {
		return fmt.Errorf("attention: qkv %v, out %v, caches %v and %v for %d tokens of %+v", qt.shape, o.shape, kt.shape, vt.shape, n, sh)
	}
	group := sh.NumHeads / sh.NumKVHeads
	di, dmax := dmaxIndex(hd)
	bsShift := -1
	if bs := b.metaBlockSize; bs > 0 && bs&(bs-1) == 0 {
		bsShift = bits.TrailingZeros(uint(bs))
	}
	scaleLog2 := float32(float64(sh.Scale) * math.Log2E)
	p := &m.plan
	if m.cur.decode {
		if need := decodeSlotsCap() * sh.NumHeads * (hd + 2) * 4; need > attnWorkspaceBytes {
			return fmt.Errorf("attention: %d heads of %d need a %d-byte split-KV workspace, more than its %d", sh.NumHeads, hd, need, attnWorkspaceBytes)
		}
		smem := decodeSmemBytes(hd, dmax)
		if smem > b.attn.smemMax {
			return fmt.Errorf("attention: decode with head size %d needs %d bytes of shared memory; %s allows %d", hd, smem, b.name, b.attn.smemMax)
		}
		if arrivals := m.cur.s * sh.NumKVHeads * ceilDiv(group, 8); arrivals > attnMaxArrivals {
			return fmt.Errorf("attention: %d sequences × %d KV heads × %d head groups exceed the decode kernel's %d merge counters", m.cur.s, sh.NumKVHeads, ceilDiv(group, 8), attnMaxArrivals)
		}
		if err := b.launch(attnDecodeKernels[dt][di], grid1(b.decodeCTAs(smem)), dim3{attnThreads, 1, 1}, uint32(smem),
			o.ptr, qt.ptr, kt.ptr, vt.ptr, m.ptrs.qstart, m.ptrs.tables, p.counts, p.items, p.seqInfo, ptr(p.ws), ptr(p.counters),
			m.cur.stride, b.metaBlockSize, bsShift, sh.NumHeads, sh.NumKVHeads, hd, sh.QKVWidth(), scaleLog2, decodeSlotsCap()); err != nil {
			return err
		}
	}
	if m.cur.prefill {
		smem := prefillSmemBytes(hd, dmax)
		if smem > b.attn.smemMax {
			return fmt.Errorf("attention: prefill with head size %d needs %d bytes of shared memory; %s allows %d", hd, smem, b.name, b.attn.smemMax)
		}
		tiles := p.numTiles
		if b.capture {
			_, tiles = planCaps(m.cur)
		}
		if err := b.launch(attnPrefillKernels[dt][di], dim3{uint32(sh.NumHeads), uint32(tiles), 1}, dim3{attnThreads, 1, 1}, uint32(smem),
			o.ptr, qt.ptr, kt.ptr, vt.ptr, m.ptrs.qstart, m.ptrs.qlen, m.ptrs.ctx, m.ptrs.tables, p.counts, p.tiles,
			m.cur.stride, b.metaBlockSize, bsShift, sh.NumHeads, sh.NumKVHeads, hd, sh.QKVWidth(), scaleLog2); err != nil {
			return err
		}
	}
	return nil
}

// decodeCTAsPerSM caps the persistent decode grid's CTAs per multiprocessor
// (a variable for the micro-benchmark's sweep).
var decodeCTAsPerSM = 4

// decodeCTAs is the persistent decode grid: as many CTAs as fit on the
// device at once by shared memory, at most decodeCTAsPerSM each.
func (b *Backend) decodeCTAs(smem int) int {
	per := b.attn.smemPerSM / (smem + sharedReservedPerBlock)
	return int(b.sms) * min(max(per, 1), decodeCTAsPerSM)
}

// legacyAttention is the kernel Attention replaced (src/attention.cu: a warp
// per token and head, multi-head fp16 only, head sizes multiples of 32),
// kept for the A/B micro-benchmark.
func (b *Backend) legacyAttention(out, qkv, kc, vc kernels.Tensor, numHeads int) error {
	o, qt := out.(*Tensor), qkv.(*Tensor)
	d := o.cols()
	hd := d / numHeads
	if qt.cols() != 3*d || hd%32 != 0 || hd > 256 || qt.dtype != kernels.F16 {
		return fmt.Errorf("legacy attention: qkv %v %s, %d heads", qt.shape, qt.dtype, numHeads)
	}
	m := b.meta
	return b.launch("paged_attention", dim3{uint32(qt.rows()), uint32((numHeads + 3) / 4), 1}, dim3{128, 1, 1}, 0,
		o.ptr, qt.ptr, ptr(kc), ptr(vc), m.ptrs.tokSeq, m.ptrs.qstart, m.ptrs.qlen, m.ptrs.ctx, m.ptrs.tables,
		m.cur.stride, b.metaBlockSize, numHeads, hd, 3*d)
}
