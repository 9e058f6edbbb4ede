package model

import (
	"fmt"
	"testing"

	"benchtop/kernels"
	"benchtop/kernels/cpu"
)

// fusingCPU is the CPU backend with its fused twins switched on, so the
// model's fused path runs against the per-kernel one on the same numbers.
type fusingCPU struct{ *cpu.Backend }

func (fusingCPU) FusesDecode(rows, width int) bool { return rows <= 4 }

// TestFusedForwardMatchesReference runs both families' fused path (steps of
// at most four tokens) against the naive reference, and greedy steps
// through the fused argmax against the logits' argmax.
func TestFusedForwardMatchesReference(t *testing.T) {
	ids := []int32{5, 17, 3, 96, 40, 40, 2, 11, 60, 7, 1, 0, 33, 8, 8, 90}
	type tc struct {
		name string
		c    Config
		src  Source
		ref  func(Config, func(string) []float64, []int32) [][]float64
	}
	var cases []tc
	for _, v := range []string{"pre-ln", "no-bias-no-affine", "post-ln-proj"} {
		c := smallConfig(v)
		cases = append(cases, tc{"opt-" + v, c, NewSyntheticSource(c, 3), naiveForward})
	}
	for _, v := range llamaVariants {
		c := llamaVariant(v)
		cases = append(cases, tc{v, c, scaled{NewSyntheticSource(c, 3)}, naiveLlama})
	}
	for _, k := range cases {
		t.Run(k.name, func(t *testing.T) {
			be := fusingCPU{cpu.New(1 << 30)}
			m, err := Load(be, k.c, k.src, kernels.F32)
			if err != nil {
				t.Fatal(err)
			}
			if want := k.name != "opt-post-ln-proj"; m.Fuses(be, 1) != want || m.Fuses(be, 5) {
				t.Fatalf("Fuses(1) = %v, Fuses(5) = %v", m.Fuses(be, 1), m.Fuses(be, 5))
			}
			want := k.ref(k.c, sourceFunc(t, k.src), ids)
			split := 3 // a fused prefill, then fused decodes
			got := runPaged(t, be, m, &k.c, ids, split, 4)
			for i, g := range got {
				compareLogits(t, fmt.Sprintf("position %d", split-1+i), want[split-1+i], g, 1e-4)
			}
			// A greedy decode step of two sequences returns the tokens.
			kv, err := NewKVCache(be, &k.c, 8, 4, kernels.F32)
			if err != nil {
				t.Fatal(err)
			}
			ws, err := NewWorkspace(be, &k.c, 16, 4, kernels.F32)
			if err != nil {
				t.Fatal(err)
			}
			b := &kernels.Batch{BlockSize: 4, Tokens: []int32{9, 31}, Positions: []int32{0, 0}, Slots: []int32{0, 4},
				Seqs: []kernels.SeqSlice{{QueryStart: 0, QueryLen: 1, ContextLen: 1, BlockTable: []int32{0}, NeedLogits: true},
					{QueryStart: 1, QueryLen: 1, ContextLen: 1, BlockTable: []int32{1}, NeedLogits: true}}}
			logits, err := m.Forward(be, b, kv, ws)
			if err != nil {
				t.Fatal(err)
			}
			host, _ := be.Download(logits)
			b.Greedy = true
			out, err := m.Forward(be, b, kv, ws)
			if err != nil {
				t.Fatal(err)
			}
			toks, err := be.Sample(out, make([]kernels.SampleParams, 2))
			if err != nil {
				t.Fatal(err)
			}
			v := k.c.VocabSize
			for r, tok := range toks {
				if want := kernels.Argmax(host[r*v : (r+1)*v]); tok != want {
					t.Fatalf("greedy row %d: %d, the logits' argmax is %d", r, tok, want)
				}
			}
			if _, err := be.Sample(out, []kernels.SampleParams{{Temperature: 1}}); m.Fuses(be, 2) && err == nil {
				t.Fatalf("sampling greedy tokens at temperature 1: no error")
			}
		})
	}
}
