package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"benchtop/engine/model"
	"benchtop/kernels"
	"benchtop/kernels/cpu"
)

// testModelConfig is a small OPT: fast, but every code path of the real one.
func testModelConfig() model.Config {
	c := model.Presets["tiny"]
	c.Name, c.VocabSize, c.HiddenSize, c.NumHeads, c.FFNDim, c.NumLayers, c.MaxPositions = "test", 512, 32, 4, 64, 2, 256
	c.BOS, c.EOS = 0, 1
	return c
}

func newTestEngine(t testing.TB, cfg Config, memBytes int64) *Engine {
	t.Helper()
	be := cpu.New(memBytes)
	mc := testModelConfig()
	m, err := model.Load(be, mc, model.NewSyntheticSource(mc, 7), kernels.F32)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(be, &model.Loaded{Model: m, Cfg: mc, DType: kernels.F32, ComputeDType: kernels.F32, Synthetic: true, Source: "test"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// randomRequests makes n greedy requests with prompts of 1..maxPrompt tokens.
func randomRequests(seed uint64, n, maxPrompt, maxTokens int) []*Request {
	r := rand.New(rand.NewPCG(seed, 1))
	reqs := make([]*Request, n)
	for i := range reqs {
		p := make([]int32, 1+r.IntN(maxPrompt))
		for j := range p {
			p[j] = int32(2 + r.IntN(500))
		}
		reqs[i] = &Request{ID: fmt.Sprintf("q%d", i), Prompt: p,
			Params: SamplingParams{MaxTokens: 1 + r.IntN(maxTokens), IgnoreEOS: true}}
	}
	return reqs
}

// clone copies requests so two engines never share one.
func clone(reqs []*Request) []*Request {
	out := make([]*Request, len(reqs))
	for i, r := range reqs {
		c := *r
		out[i] = &c
	}
	return out
}

func outputs(t testing.TB, res []Result) map[string][]int32 {
	t.Helper()
	m := map[string][]int32{}
	for _, r := range res {
		if r.Finish == FinishRejected || r.Finish == FinishAborted {
			t.Fatalf("request %s: %s %s", r.ID, r.Finish, r.Err)
		}
		m[r.ID] = r.Output
	}
	return m
}

func sameOutputs(t testing.TB, what string, want, got map[string][]int32) {
	t.Helper()
	for id, w := range want {
		g := got[id]
		if fmt.Sprint(w) != fmt.Sprint(g) {
			t.Fatalf("%s: request %s\nwant %v\n got %v", what, id, w, g)
		}
	}
}
