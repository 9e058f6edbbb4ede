package engine

import (
	"errors"
	"testing"
)

func TestBlockManagerGrowRelease(t *testing.T) {
	m := NewBlockManager(10, 4)
	a := &Sequence{Req: &Request{ID: "a"}}
	b := &Sequence{Req: &Request{ID: "b"}}
	steps := []struct {
		seq      *Sequence
		tokens   int
		wantErr  error
		wantUsed int
	}{
		{a, 1, nil, 1},
		{a, 4, nil, 1},
		{a, 5, nil, 2},
		{b, 24, nil, 8},
		{b, 33, ErrNoFreeBlocks, 8}, // needs 3 more, 2 free: all or nothing
		{a, 12, nil, 9},
		{b, 28, nil, 10},
		{a, 13, ErrNoFreeBlocks, 10},
	}
	for i, s := range steps {
		err := m.Grow(s.seq, s.tokens)
		if !errors.Is(err, s.wantErr) {
			t.Fatalf("step %d: err %v, want %v", i, err, s.wantErr)
		}
		if m.NumUsed() != s.wantUsed || m.NumUsed()+m.NumFree() != m.NumBlocks() {
			t.Fatalf("step %d: used %d free %d of %d, want used %d", i, m.NumUsed(), m.NumFree(), m.NumBlocks(), s.wantUsed)
		}
	}
	seen := map[int32]bool{}
	for _, blk := range append(append([]int32(nil), a.Blocks...), b.Blocks...) {
		if seen[blk] {
			t.Fatalf("block %d handed out twice", blk)
		}
		seen[blk] = true
	}
	if err := m.Release(a); err != nil {
		t.Fatal(err)
	}
	if m.NumUsed() != 7 {
		t.Fatalf("after release: used %d, want 7", m.NumUsed())
	}
	a.Blocks = []int32{b.Blocks[0]}
	if err := m.Release(a); err != nil {
		t.Fatal(err) // b still holds it once: this drops the count to 0
	}
	a.Blocks = []int32{b.Blocks[0]}
	if err := m.Release(a); err == nil {
		t.Fatal("double free was not reported")
	}
}
