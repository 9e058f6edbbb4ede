package cuda

import (
	"math/rand/v2"
	"testing"

	"benchtop/kernels"
)

// buildPlan runs the plan builder on a host buffer, as fill does.
func buildPlan(t *testing.T, b *kernels.Batch) (*attnPlan, []int32, layout, error) {
	t.Helper()
	l := layoutOf(b)
	buf := make([]int32, planWords(l))
	off := 0
	take := func(n int) ([]int32, uintptr) {
		off += n
		return buf[off-n : off], uintptr(4 * (off - n)) // an offset: no device here
	}
	p := &attnPlan{}
	err := p.build(take, b, l)
	if err == nil && off != len(buf) {
		t.Fatalf("plan took %d words of %d", off, len(buf))
	}
	return p, buf, l, err
}

// TestAttentionPlan: every decode context is covered once by its items,
// longest first (to 1/64 of a chunk), with slots that fit; every prefill
// query row by one tile;
// the counts agree with the arrays. No GPU needed.
func TestAttentionPlan(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	for trial := range 200 {
		var specs []seqSpec
		seqs := 1 + rng.IntN(300)
		for range seqs {
			ctx := 1 + rng.IntN([]int{100, 3000, 20000}[trial%3])
			q := 1
			if rng.IntN(4) == 0 {
				q = 1 + rng.IntN(ctx)
			}
			specs = append(specs, seqSpec{q, ctx})
		}
		b, _ := attnBatch(rng, specs, []int{1, 7, 16}[trial%3], 0)
		p, buf, l, err := buildPlan(t, b)
		if err != nil {
			t.Fatal(err)
		}
		itemCap, tileCap := planCaps(l)
		hdr := buf[:planHeaderWords]
		items := buf[planHeaderWords : planHeaderWords+4*itemCap]
		var info []int32
		rest := buf[planHeaderWords+4*itemCap:]
		if l.decode {
			info, rest = rest[:2*l.s], rest[2*l.s:]
		}
		tiles := rest[:2*tileCap]
		if int(hdr[0]) != p.numItems || int(hdr[1]) != p.numTiles {
			t.Fatalf("header %v, plan %d items %d tiles", hdr, p.numItems, p.numTiles)
		}
		covered := make([]int, len(specs))
		prevLen := int32(1 << 30)
		slack := int32(p.chunk/64 + 1) // items are ordered to 1/64 of a chunk
		slots := map[int32]bool{}
		for i := range p.numItems {
			seq, k0, k1, slot := items[4*i], items[4*i+1], items[4*i+2], items[4*i+3]
			if specs[seq].qlen != 1 || k0 >= k1 || k1 > int32(specs[seq].ctx) || k1-k0 > prevLen+slack {
				t.Fatalf("item %d: %v for %+v (previous length %d)", i, items[4*i:4*i+4], specs[seq], prevLen)
			}
			prevLen = k1 - k0
			covered[seq] += int(k1 - k0)
			parts, base := info[2*seq], info[2*seq+1]
			switch {
			case parts == 1 && slot != -1, parts > 1 && (slot < base || slot >= base+parts):
				t.Fatalf("item %d slot %d, sequence has %d parts from %d", i, slot, parts, base)
			case slot >= int32(decodeSlotsCap()) || slots[slot] && slot >= 0:
				t.Fatalf("slot %d reused or past the cap", slot)
			}
			slots[slot] = true
		}
		rows := make([]int, len(specs))
		prevKeys := 1 << 30
		for i := range p.numTiles {
			seq, q0 := tiles[2*i], tiles[2*i+1]
			s := specs[seq]
			keys := s.ctx - s.qlen + min(int(q0)+prefillTileRows, s.qlen)
			if s.qlen < 2 || q0%prefillTileRows != 0 || int(q0) >= s.qlen || keys > prevKeys {
				t.Fatalf("tile %d: seq %d row %d of %+v", i, seq, q0, s)
			}
			prevKeys = keys
			rows[seq] += min(prefillTileRows, s.qlen-int(q0))
		}
		for i, s := range specs {
			if s.qlen == 1 && covered[i] != s.ctx || s.qlen > 1 && rows[i] != s.qlen {
				t.Fatalf("sequence %d %+v: %d keys covered, %d rows tiled", i, s, covered[i], rows[i])
			}
		}
	}
}

func TestAttentionPlanRejects(t *testing.T) {
	for _, b := range []*kernels.Batch{
		{BlockSize: 16, Tokens: []int32{0}, Positions: []int32{0}, Slots: []int32{0},
			Seqs: []kernels.SeqSlice{{QueryLen: 1, ContextLen: 17, BlockTable: []int32{0}}}},
		{BlockSize: 16, Tokens: []int32{0, 0}, Positions: []int32{0, 1}, Slots: []int32{0, 1},
			Seqs: []kernels.SeqSlice{{QueryLen: 2, ContextLen: 1, BlockTable: []int32{0}}}},
		{BlockSize: 0, Tokens: []int32{0}, Positions: []int32{0}, Slots: []int32{0},
			Seqs: []kernels.SeqSlice{{QueryLen: 1, ContextLen: 1, BlockTable: []int32{0}}}},
	} {
		if _, _, _, err := buildPlan(t, b); err == nil {
			t.Errorf("%+v: accepted", b.Seqs[0])
		} else {
			t.Log(err)
		}
	}
}
