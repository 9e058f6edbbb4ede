package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"benchtop/kernels"
)

// TestAttentionMatchesNaive checks the reference against attention written
// out plainly in float64 over each sequence's own keys (scattered into the
// paged cache through shuffled blocks): grouped and multi-head, a scale not
// folded into Q, head sizes that are not powers of two, prefill chunks with
// a cached prefix, and decode tokens in one step.
func TestAttentionMatchesNaive(t *testing.T) {
	b := New(1 << 30)
	rng := rand.New(rand.NewPCG(8, 1))
	for _, sh := range []kernels.AttnShape{
		{NumHeads: 4, NumKVHeads: 4, HeadDim: 8, Scale: 1},
		{NumHeads: 6, NumKVHeads: 2, HeadDim: 12, Scale: 0.3},
		{NumHeads: 7, NumKVHeads: 1, HeadDim: 5, Scale: 0.7},
	} {
		const bs = 5
		specs := [][2]int{{1, 1}, {1, 13}, {4, 4}, {3, 17}, {9, 9}, {1, 30}} // {queries, context}
		blocks := 0
		for _, s := range specs {
			blocks += (s[1] + bs - 1) / bs
		}
		perm := rng.Perm(blocks)
		kvw, group := sh.KVWidth(), sh.NumHeads/sh.NumKVHeads
		kc := randTensor(t, b, rng, blocks*bs, kvw)
		vc := randTensor(t, b, rng, blocks*bs, kvw)
		batch := &kernels.Batch{BlockSize: bs}
		var keys, vals [][]float32 // per sequence: [ctx × kvw], as scattered
		next := 0
		for _, s := range specs {
			table := make([]int32, (s[1]+bs-1)/bs)
			for i := range table {
				table[i] = int32(perm[next])
				next++
			}
			k, v := make([]float32, s[1]*kvw), make([]float32, s[1]*kvw)
			for p := range s[1] {
				slot := int(table[p/bs])*bs + p%bs
				copy(k[p*kvw:], kc.Data[slot*kvw:(slot+1)*kvw])
				copy(v[p*kvw:], vc.Data[slot*kvw:(slot+1)*kvw])
			}
			keys, vals = append(keys, k), append(vals, v)
			start := len(batch.Tokens)
			for p := s[1] - s[0]; p < s[1]; p++ {
				batch.Tokens = append(batch.Tokens, 0)
				batch.Positions = append(batch.Positions, int32(p))
				batch.Slots = append(batch.Slots, table[p/bs]*bs+int32(p%bs))
			}
			batch.Seqs = append(batch.Seqs, kernels.SeqSlice{QueryStart: start, QueryLen: s[0], ContextLen: s[1], BlockTable: table})
		}
		n := len(batch.Tokens)
		qkv := randTensor(t, b, rng, n, sh.QKVWidth())
		out := randTensor(t, b, rng, n, sh.QWidth()) // every element must be written
		b.SetBatch(batch)
		if err := b.Attention(out, qkv, kc, vc, sh); err != nil {
			t.Fatal(err)
		}
		hd := sh.HeadDim
		for si, s := range specs {
			for j := range s[0] {
				row := batch.Seqs[si].QueryStart + j
				pos := s[1] - s[0] + j
				for h := range sh.NumHeads {
					kv := h / group
					q := qkv.Data[row*sh.QKVWidth()+h*hd:][:hd]
					sc := make([]float64, pos+1)
					m := math.Inf(-1)
					for p := range sc {
						for i := range hd {
							sc[p] += float64(q[i]) * float64(keys[si][p*kvw+kv*hd+i])
						}
						sc[p] *= float64(sh.Scale)
						m = math.Max(m, sc[p])
					}
					var sum float64
					for p := range sc {
						sc[p] = math.Exp(sc[p] - m)
						sum += sc[p]
					}
					for i := range hd {
						var want float64
						for p := range sc {
							want += sc[p] / sum * float64(vals[si][p*kvw+kv*hd+i])
						}
						got := float64(out.Data[row*sh.QWidth()+h*hd+i])
						if math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
							t.Fatalf("%+v: sequence %d query %d head %d dim %d: %g, want %g", sh, si, j, h, i, got, want)
						}
					}
				}
			}
		}
	}
}
