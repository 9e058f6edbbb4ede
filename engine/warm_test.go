package engine

import "testing"

func TestWarmBatch(t *testing.T) {
	b := warmBatch(100, 7, 16, 4)
	if len(b.Tokens) != 100 || len(b.Seqs) != 7 || b.NumLogits() != 7 {
		t.Fatalf("%d tokens, %d sequences, %d logits", len(b.Tokens), len(b.Seqs), b.NumLogits())
	}
	last := b.Seqs[6]
	if last.QueryLen != 100-6*14 || last.ContextLen != last.QueryLen || len(last.BlockTable) != (last.QueryLen+15)/16 {
		t.Fatalf("last sequence %+v", last)
	}
	for _, s := range b.Slots {
		if s != -1 {
			t.Fatalf("slot %d stored", s)
		}
	}
}
