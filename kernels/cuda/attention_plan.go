package cuda

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"benchtop/kernels"
)

// The attention plan is the part of a step's metadata that hands the
// attention kernels their work (src/attention_decode.cu,
// src/attention_prefill.cu). It is built on the host in fill, once per step
// (every layer reads it), and uploaded with the rest of the metadata, so a
// CUDA graph replays it with the step's own contexts.
//
//	header [4]: decode items, prefill tiles, 0, 0
//	items [itemCap × 4]: sequence, first key, end key, workspace slot
//	seq info [S × 2] (decode steps): chunks of the sequence, first slot
//	tiles [tileCap × 2]: sequence, first query row
//
// A decode sequence's context is cut into chunks of one size for the whole
// step, a multiple of 64 keys chosen so that the step has about
// decodeTargetItems chunks: long contexts split across many CTAs
// (FlashDecoding), short ones stay whole. A split sequence's chunks write
// partial softmaxes to workspace slots, and its last chunk merges them.
// Items and tiles go longest first so that the longest work starts first.

// The decode split's knobs (variables so that the micro-benchmark can
// sweep them): the step's chunk target, and the chunks' least size, a
// multiple of the decode tile (64 keys).
// The defaults are the best of the micro-benchmark's sweep on an H200
// (2026-11-29, BENCHMARKS.md): fewer, longer chunks won at every context
// and batch it measured. BENCHTOP_ATTN_SPLIT=TARGET,MINCHUNK[,CTAS] sets
// them (and the CTAs per multiprocessor) for A/B runs.
var (
	decodeTargetItems = 256
	decodeMinChunk    = 128
)

const attnSplitEnv = "BENCHTOP_ATTN_SPLIT"

// setAttnSplit reads BENCHTOP_ATTN_SPLIT.
func setAttnSplit(v string) error {
	if v == "" {
		return nil
	}
	f := strings.Split(v, ",")
	var n []int
	for _, s := range f {
		x, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || x < 1 {
			return fmt.Errorf("%s=%q: want TARGET,MINCHUNK[,CTAS], positive counts", attnSplitEnv, v)
		}
		n = append(n, x)
	}
	if len(n) < 2 || len(n) > 3 || n[1]%64 != 0 {
		return fmt.Errorf("%s=%q: want TARGET,MINCHUNK[,CTAS] with MINCHUNK a multiple of 64", attnSplitEnv, v)
	}
	decodeTargetItems, decodeMinChunk = n[0], n[1]
	if len(n) == 3 {
		decodeCTAsPerSM = n[2]
	}
	return nil
}

const (
	prefillTileRows = 64 // PrefillGeom::kRows
	planHeaderWords = 4
)

// decodeSlotsCap bounds the workspace slots of a step: a split sequence has
// ctx/chunk < parts < 2·ctx/chunk, and Σ ctx/chunk ≤ decodeTargetItems.
func decodeSlotsCap() int { return 2 * decodeTargetItems }

// planCaps are the plan's array lengths for a layout: at most one item per
// sequence plus one per chunk of the target, and at most one tile per 64
// query rows plus one per sequence (a sequence with q ≥ 2 queries has
// ceil(q/64) ≤ q/2 tiles).
func planCaps(l layout) (items, tiles int) {
	if l.decode {
		items = decodeTargetItems + l.s
	}
	if l.prefill {
		tiles = min(l.n/2, (l.n+(prefillTileRows-1)*l.s)/prefillTileRows)
	}
	return items, tiles
}

func planWords(l layout) int {
	items, tiles := planCaps(l)
	w := planHeaderWords + 4*items + 2*tiles
	if l.decode {
		w += 2 * l.s
	}
	return w
}

type decodeItem struct{ seq, k0, k1, slot int32 }

type prefillTile struct{ seq, q0, keys int32 }

// attnPlan holds the device addresses of this step's plan, its counts, and
// the split-KV workspace, which is allocated once at a fixed size so that
// no allocation happens during a graph capture.
type attnPlan struct {
	counts, items, seqInfo, tiles uintptr
	numItems, numSplit, numTiles  int
	chunk                         int // keys per decode chunk this step

	ws, counters kernels.Tensor

	itemBuf []decodeItem // reused step to step
	tileBuf []prefillTile
}

// attnWorkspaceBytes holds decodeSlotsCap() partial results of every head:
// at the default target, heads × (head size + 2) ≤ 16,384 floats (64 heads
// of 254, 128 of 126).
const attnWorkspaceBytes = 64 << 20

// attnCounterWords are the decode kernel's work counters: two, then one per
// sequence × KV head × group of 8 query heads from word 64
// (attn::kArriveOffset).
const (
	attnCounterWords = 1 << 18
	attnMaxArrivals  = attnCounterWords - 64
)

func (p *attnPlan) alloc(b *Backend) error {
	if p.ws != nil {
		return nil
	}
	ws, err := b.Alloc(kernels.F32, attnWorkspaceBytes/4)
	if err != nil {
		return fmt.Errorf("attention workspace: %w", err)
	}
	counters, err := b.Alloc(kernels.F32, attnCounterWords) // zeroed; the kernels leave them zero
	if err != nil {
		b.Free(ws)
		return fmt.Errorf("attention work counters: %w", err)
	}
	p.ws, p.counters = ws, counters
	return nil
}

// build writes bt's plan into the staging buffer through take, which
// reserves the next words of it.
func (p *attnPlan) build(take func(n int) ([]int32, uintptr), bt *kernels.Batch, l layout) error {
	itemCap, tileCap := planCaps(l)
	hdr, pHdr := take(planHeaderWords)
	items, pItems := take(4 * itemCap)
	var info []int32
	var pInfo uintptr
	if l.decode {
		info, pInfo = take(2 * l.s)
	}
	tiles, pTiles := take(2 * tileCap)
	p.counts, p.items, p.seqInfo, p.tiles = pHdr, pItems, pInfo, pTiles
	bs := bt.BlockSize
	total := 0
	for si, s := range bt.Seqs {
		switch {
		case s.QueryLen < 0 || s.QueryLen > s.ContextLen:
			return fmt.Errorf("batch: sequence %d queries %d tokens of a context of %d", si, s.QueryLen, s.ContextLen)
		case s.ContextLen > 0 && bs <= 0:
			return fmt.Errorf("batch: block size %d", bs)
		case s.ContextLen > len(s.BlockTable)*bs:
			return fmt.Errorf("batch: sequence %d has a context of %d in %d blocks of %d", si, s.ContextLen, len(s.BlockTable), bs)
		}
		if s.QueryLen == 1 {
			total += s.ContextLen
		}
	}

	chunk := max(decodeMinChunk, (total+decodeTargetItems-1)/decodeTargetItems)
	chunk = (chunk + 63) / 64 * 64
	p.itemBuf = p.itemBuf[:0]
	slot := 0
	for si, s := range bt.Seqs {
		if s.QueryLen != 1 {
			if info != nil {
				info[2*si], info[2*si+1] = 0, -1
			}
			continue
		}
		parts := (s.ContextLen + chunk - 1) / chunk
		if parts == 1 {
			p.itemBuf = append(p.itemBuf, decodeItem{int32(si), 0, int32(s.ContextLen), -1})
			info[2*si], info[2*si+1] = 1, -1
			continue
		}
		for j := range parts {
			k0 := j * chunk
			p.itemBuf = append(p.itemBuf, decodeItem{int32(si), int32(k0), int32(min(s.ContextLen, k0+chunk)), int32(slot + j)})
		}
		info[2*si], info[2*si+1] = int32(parts), int32(slot)
		slot += parts
	}
	if len(p.itemBuf) > itemCap || slot > decodeSlotsCap() {
		return fmt.Errorf("attention plan: %d decode items (cap %d), %d slots (cap %d)", len(p.itemBuf), itemCap, slot, decodeSlotsCap())
	}
	// Longest first, to 1/64 of a chunk: a counting sort by length bucket
	// (the host prepares every step while the device waits).
	var start [65]int
	bucket := func(it decodeItem) int { return 63 - int(it.k1-it.k0-1)*64/chunk }
	for _, it := range p.itemBuf {
		start[bucket(it)+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	for _, it := range p.itemBuf {
		i := start[bucket(it)]
		start[bucket(it)]++
		items[4*i], items[4*i+1], items[4*i+2], items[4*i+3] = it.seq, it.k0, it.k1, it.slot
	}
	p.numItems, p.numSplit, p.chunk = len(p.itemBuf), slot, chunk

	p.tileBuf = p.tileBuf[:0]
	for si, s := range bt.Seqs {
		if s.QueryLen < 2 {
			continue
		}
		for q0 := 0; q0 < s.QueryLen; q0 += prefillTileRows {
			keys := s.ContextLen - s.QueryLen + min(q0+prefillTileRows, s.QueryLen)
			p.tileBuf = append(p.tileBuf, prefillTile{int32(si), int32(q0), int32(keys)})
		}
	}
	if len(p.tileBuf) > tileCap {
		return fmt.Errorf("attention plan: %d prefill tiles (cap %d)", len(p.tileBuf), tileCap)
	}
	slices.SortStableFunc(p.tileBuf, func(a, b prefillTile) int { return cmp.Compare(b.keys, a.keys) })
	for i, t := range p.tileBuf {
		tiles[2*i], tiles[2*i+1] = t.seq, t.q0
	}
	p.numTiles = len(p.tileBuf)
	hdr[0], hdr[1], hdr[2], hdr[3] = int32(p.numItems), int32(p.numTiles), 0, 0
	return nil
}
