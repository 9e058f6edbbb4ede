package session

import (
	"context"
	"slices"
	"testing"

	"benchtop/engine"
	"benchtop/workloads"
)

// The GPU check of issue 14 (skips without two GPUs): two replicas of
// opt-125m, each on its own GPU with its own CUDA context and weights, run
// the bench workload; every request finishes once, each GPU serves half,
// and the greedy tokens are the one-engine run's (fp16 kernels may part
// at a near-tie when the batch differs: at most a few requests).
func TestGPUDataParallel(t *testing.T) {
	gpus, err := engine.GPUs()
	if err != nil || len(gpus) < 2 {
		t.Skipf("needs two GPUs (found %d: %v)", len(gpus), err)
	}
	w, _ := workloads.Lookup("bench")
	w = w.WithCount(64)
	open := func(n int) *Session {
		s, err := Open(Options{Model: "opt-125m", Device: "cuda", Engine: engine.DefaultConfig(), DataParallel: n})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	one := open(1)
	want, err := one.Run(context.Background(), w, 0)
	if err != nil {
		t.Fatal(err)
	}
	one.Close()
	s := open(2)
	for i, e := range s.Engines() {
		t.Logf("replica %d: %s, KV %d blocks", i, e.Status().Device.Name, e.Status().Plan.NumBlocks)
	}
	got, err := s.Run(context.Background(), w, 0)
	if err != nil {
		t.Fatal(err)
	}
	parted := 0
	seen := map[string]bool{}
	for i, r := range got.Results {
		if seen[r.ID] || r.Finish != engine.FinishLength {
			t.Fatalf("request %d: %+v (seen %v)", i, r, seen[r.ID])
		}
		seen[r.ID] = true
		if !slices.Equal(r.Output, want.Results[i].Output) {
			parted++
		}
	}
	rows, err := s.SourcesOver(context.Background(), got.Start, got.Wall)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("N=1 %.0f output tok/s, N=2 %.0f (%.2f×); per replica %v/%v requests; %d of 64 parted from the one-engine tokens",
		want.Summary.OutputTPS, got.Summary.OutputTPS, got.Summary.OutputTPS/want.Summary.OutputTPS, rows[0].Finished, rows[1].Finished, parted)
	if rows[0].Finished != 32 || rows[1].Finished != 32 {
		t.Errorf("replicas served %d and %d of 64", rows[0].Finished, rows[1].Finished)
	}
	if parted > 4 {
		t.Errorf("%d of 64 requests' tokens differ from one engine's", parted)
	}
}
