package cuda

import (
	"fmt"
	"unsafe"

	"benchtop/kernels"
)

// layout is where each metadata array sits, in int32 words, in the buffer
// uploaded once per step: tokens, positions, slots and the token→sequence
// map ([n] each), then per sequence query start, query length and context
// length ([S] each), the logit rows [L], the block tables [S × stride], and
// the attention plan (attention_plan.go). decode and prefill say whether
// some sequence queries one token, or more than one: they choose the
// attention kernels, so a graph replays only steps of its kinds.
type layout struct {
	n, s, l, stride int
	decode, prefill bool
}

func (l layout) words() int { return 4*l.n + 3*l.s + l.l + l.s*l.stride + planWords(l) }

// metaBuffers is the pinned staging buffer and its device twin. They only
// grow; a growth moves them, so captured graphs are dropped.
type metaBuffers struct {
	host   unsafe.Pointer
	dev    uintptr
	words  int
	cur    layout
	ptrs   metaPtrs
	params paramBuffers
	plan   attnPlan
}

type metaPtrs struct {
	tokens, positions, slots, tokSeq, qstart, qlen, ctx, logitRows, tables uintptr
}

func (m *metaBuffers) free(b *Backend) {
	if m.host != nil {
		b.d.cuMemFreeHost(m.host)
		b.d.cuMemFree(m.dev)
		m.host, m.dev, m.words = nil, 0, 0
	}
	m.params.free(b)
}

func layoutOf(bt *kernels.Batch) layout {
	l := layout{n: len(bt.Tokens), s: len(bt.Seqs), l: bt.NumLogits(), stride: bt.BlockTableStride}
	for _, s := range bt.Seqs {
		l.stride = max(l.stride, len(s.BlockTable))
		l.decode = l.decode || s.QueryLen == 1
		l.prefill = l.prefill || s.QueryLen > 1
	}
	return l
}

// ensure grows the buffers to hold words int32s.
func (m *metaBuffers) ensure(b *Backend, words int) error {
	if err := m.plan.alloc(b); err != nil {
		return err
	}
	if words <= m.words {
		return nil
	}
	if b.capture {
		return fmt.Errorf("step metadata outgrew its buffer during a graph capture")
	}
	words = max(words, 2*m.words, 1<<14)
	old := *m
	if err := b.d.check(b.d.cuMemAllocHost(&m.host, uint64(words*4)), "cuMemAllocHost (step metadata)"); err != nil {
		return err
	}
	if err := b.d.check(b.d.cuMemAlloc(&m.dev, uint64(words*4)), "cuMemAlloc (step metadata)"); err != nil {
		b.d.cuMemFreeHost(m.host)
		m.host = old.host
		return err
	}
	if old.host != nil {
		b.d.cuStreamSynchronize(b.stream)
		b.d.cuMemFreeHost(old.host)
		b.d.cuMemFree(old.dev)
		b.inUse -= int64(old.words * 4)
	}
	b.inUse += int64(words * 4)
	m.words = words
	b.ResetGraphs()
	return nil
}

// fill writes bt's metadata into the staging buffer and sets the device
// pointers of each array.
func (m *metaBuffers) fill(b *Backend, bt *kernels.Batch) (layout, error) {
	l := layoutOf(bt)
	if err := m.ensure(b, l.words()); err != nil {
		return l, err
	}
	w := unsafe.Slice((*int32)(m.host), m.words)
	off := 0
	// take reserves the next n words: their staging slice and device address.
	take := func(n int) ([]int32, uintptr) {
		p := m.dev + uintptr(off*4)
		off += n
		return w[off-n : off], p
	}
	put := func(vals []int32) uintptr {
		dst, p := take(len(vals))
		copy(dst, vals)
		return p
	}
	m.ptrs.tokens = put(bt.Tokens)
	m.ptrs.positions = put(bt.Positions)
	m.ptrs.slots = put(bt.Slots)
	tokSeq, pTokSeq := take(l.n)
	qstart, pQstart := take(l.s)
	qlen, pQlen := take(l.s)
	ctx, pCtx := take(l.s)
	rows, pRows := take(l.l)
	tables, pTables := take(l.s * l.stride)
	m.ptrs.tokSeq, m.ptrs.qstart, m.ptrs.qlen, m.ptrs.ctx, m.ptrs.logitRows, m.ptrs.tables = pTokSeq, pQstart, pQlen, pCtx, pRows, pTables
	for i := range tokSeq {
		tokSeq[i] = -1
	}
	r := 0
	for si, s := range bt.Seqs {
		qstart[si], qlen[si], ctx[si] = int32(s.QueryStart), int32(s.QueryLen), int32(s.ContextLen)
		if s.QueryStart < 0 || s.QueryStart+s.QueryLen > l.n {
			return l, fmt.Errorf("batch: sequence %d queries tokens %d..%d of %d", si, s.QueryStart, s.QueryStart+s.QueryLen, l.n)
		}
		for j := s.QueryStart; j < s.QueryStart+s.QueryLen; j++ {
			tokSeq[j] = int32(si)
		}
		if s.NeedLogits {
			rows[r] = int32(s.QueryStart + s.QueryLen - 1)
			r++
		}
		row := tables[si*l.stride : (si+1)*l.stride]
		copy(row, s.BlockTable)
		clear(row[len(s.BlockTable):])
	}
	if err := m.plan.build(take, bt, l); err != nil {
		return l, err
	}
	m.cur = l
	return l, nil
}

func (b *Backend) SetBatch(bt *kernels.Batch) error {
	if len(bt.Positions) != len(bt.Tokens) || len(bt.Slots) != len(bt.Tokens) {
		return fmt.Errorf("batch: %d tokens, %d positions, %d slots", len(bt.Tokens), len(bt.Positions), len(bt.Slots))
	}
	l, err := b.meta.fill(b, bt)
	if err != nil {
		return err
	}
	b.metaBlockSize = bt.BlockSize
	if b.prof != nil {
		b.prof.setBatch(bt)
	}
	b.cuWindowBegins(bt)
	b.profBegin("upload step metadata")
	defer b.profEnd()
	return b.d.check(b.d.cuMemcpyHtoDAsync(b.meta.dev, b.meta.host, uint64(l.words()*4), b.stream), "upload step metadata")
}

// paramBuffers stage sampling parameters and bring tokens back.
type paramBuffers struct {
	host unsafe.Pointer
	dev  uintptr
	rows int
}

// Per row: temperature f32, top_k i32, top_p f32, pad, seed u64, step u64,
// token i32 — stored as five arrays of 8-byte slots.
const paramSlots = 5

func (p *paramBuffers) ensure(b *Backend, rows int) error {
	if rows <= p.rows {
		return nil
	}
	rows = (max(rows, 256) + 63) &^ 63
	p.free(b)
	bytes := uint64(rows * paramSlots * 8)
	if err := b.d.check(b.d.cuMemAllocHost(&p.host, bytes), "cuMemAllocHost (sampling)"); err != nil {
		return err
	}
	if err := b.d.check(b.d.cuMemAlloc(&p.dev, bytes), "cuMemAlloc (sampling)"); err != nil {
		return err
	}
	p.rows = rows
	return nil
}

func (p *paramBuffers) free(b *Backend) {
	if p.host != nil {
		b.d.cuMemFreeHost(p.host)
		b.d.cuMemFree(p.dev)
		p.host, p.dev, p.rows = nil, 0, 0
	}
}
