package engine

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"benchtop/engine/model"
	"benchtop/kernels/cpu"
)

// BenchmarkCPUStepAuto times engine steps on the CPU backend with the auto
// step budget for each preset: a prompt of the whole model length in
// chunks, and a full batch of short sequences (the tutorial's shape). It
// prints the median and the longest step of each, against TargetStepTime.
func BenchmarkCPUStepAuto(b *testing.B) {
	for _, name := range []string{"tiny", "opt-125m"} {
		b.Run(name, func(b *testing.B) {
			be, err := cpu.Open(0)
			if err != nil {
				b.Fatal(err)
			}
			m, err := model.Open(name, be, model.Options{Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			e, err := New(be, m, AutoConfig())
			if err != nil {
				b.Fatal(err)
			}
			c := e.cfg
			b.Logf("%s: max_num_seqs %d, max_num_batched_tokens %d, %d KV blocks (%s); %s", name, c.MaxNumSeqs, c.MaxNumBatchedTokens, e.plan.NumBlocks, FormatBytes(e.plan.KVBytes), e.plan.Reason)
			for b.Loop() {
				maxLen := e.maxModelLen
				long := &Request{ID: "long", Prompt: make([]int32, maxLen-2), Params: SamplingParams{MaxTokens: 1, IgnoreEOS: true}}
				prefill := timeSteps(b, e, []*Request{long})
				var decodes []*Request
				for i := range c.MaxNumSeqs {
					decodes = append(decodes, &Request{ID: fmt.Sprint("d", i), Prompt: make([]int32, 8), Params: SamplingParams{MaxTokens: 32, IgnoreEOS: true}})
				}
				dec := timeSteps(b, e, decodes)
				b.Logf("prefill of %d tokens: %d steps, median %v, longest %v (the last chunks); %d short sequences: %d steps, median %v, longest %v",
					maxLen-2, len(prefill), prefill[len(prefill)/2], prefill[len(prefill)-1], c.MaxNumSeqs, len(dec), dec[len(dec)/2], dec[len(dec)-1])
			}
		})
	}
}

func timeSteps(b *testing.B, e *Engine, reqs []*Request) []time.Duration {
	e.add(reqs, nil)
	var out []time.Duration
	for e.HasWork() {
		ev, err := e.Step()
		if err != nil {
			b.Fatal(err)
		}
		if ev != nil {
			out = append(out, ev.Total)
		}
	}
	slices.Sort(out)
	return out
}
