package session

import (
	"strings"
	"testing"
	"time"

	"benchtop/engine"
	"benchtop/kernels"
	"benchtop/metrics"
)

var bt0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// busyFrame is a GPU run with nothing limiting it by the earlier rules: KV
// half full, nothing waiting, a full batch of 256, an open loop on time,
// the engine busy 90% of its window, steps at 2× a 1 ms roofline floor.
func busyFrame() *Frame {
	ms := time.Millisecond
	cfg := engine.DefaultConfig()
	st := &engine.Status{Config: cfg, State: engine.StateRunning,
		Device: kernels.DeviceInfo{Backend: "cuda", Name: "NVIDIA H200", CUDAGraphs: true},
		Plan:   engine.MemoryPlan{WeightBytes: 1e9, BlockSize: 16},
		// 1e9 weight bytes at 1e12 B/s: a 1 ms floor whatever the batch.
		Ceilings: kernels.Ceilings{BandwidthBytesPerSec: 1e12, MatmulFlopsPerSec: 1e15}}
	m := &metrics.Snapshot{Time: bt0, Start: bt0.Add(-time.Minute), Window: 10 * time.Second,
		Running: 256, KVUsed: 500, KVTotal: 1000, Steps: 45000,
		StepTime: metrics.Dist{Count: 4500, Mean: 2 * ms, P50: 2 * ms},
		StepPhases: metrics.StepPhases{Schedule: metrics.Dist{Count: 4500, P50: ms / 10}, Forward: metrics.Dist{Count: 4500, P50: 1700 * time.Microsecond},
			Sample: metrics.Dist{Count: 4500, P50: ms / 5}, Total: metrics.Dist{Count: 4500, P50: 2 * ms}},
		LastStep: metrics.Step{NumSeqs: 256, MaxNumSeqs: 256, DecodeTokens: 256, Total: 2 * ms}}
	return &Frame{Time: bt0, Metrics: m, Status: st, Workload: "bench", Caps: Caps{MaxNumSeqs: true, Reconfigure: true, Pause: true},
		Load: LoadInfo{OpenLoop: true, Lag: ms}}
}

func TestDiagnose(t *testing.T) {
	cases := []struct {
		name string
		prep func(f *Frame)
		kind string
		says []string // in Why or Try
	}{
		{"nothing to say without metrics", func(f *Frame) { f.Metrics = nil }, "", nil},
		{"paused", func(f *Frame) { f.Status.State = engine.StatePaused }, "", nil},
		{"switching", func(f *Frame) { f.Status.State = engine.StateSwitching }, "", nil},
		{"failed", func(f *Frame) { f.Status.State = engine.StateFailed }, "", nil},
		{"the first step under way", func(f *Frame) { f.Metrics.Steps, f.Metrics.StepTime = 0, metrics.Dist{} }, "", nil},
		{"long step in progress", func(f *Frame) {
			f.Progress = Progress{InStep: true, Since: bt0.Add(-12 * time.Second)}
		}, "long step", []string{"12s", "max_num_batched_tokens"}},
		{"a short step in progress says nothing", func(f *Frame) {
			f.Progress = Progress{InStep: true, Since: bt0.Add(-time.Second)}
		}, "engine-bound", nil},
		{"idle without a workload", func(f *Frame) {
			f.Workload, f.Metrics.StepTime, f.Metrics.Running = "", metrics.Dist{}, 0
		}, "idle", []string{"no workload"}},
		{"a workload that sends nothing", func(f *Frame) {
			f.Metrics.StepTime, f.Metrics.Running = metrics.Dist{}, 0
		}, "client-bound", []string{"sent nothing"}},
		{"KV full, requests waiting, batch not full", func(f *Frame) {
			f.Metrics.KVUsed, f.Metrics.Waiting, f.Metrics.LastStep.NumSeqs = 960, 12, 40
		}, "KV-bound", []string{"96% full", "12 waiting", "40/256", "gpu_memory_utilization (m)"}},
		{"KV full with preemptions, nothing waiting", func(f *Frame) {
			f.Metrics.KVUsed, f.Metrics.LastStep.NumSeqs = 990, 40
			f.Metrics.Series = []metrics.Point{{T: 0, Preempts: 0}, {T: 20 * time.Second, Preempts: 3},
				{T: 25 * time.Second, Preempts: 7}, {T: 30 * time.Second, Preempts: 10}}
			f.Status.Device.Backend = "cpu"
		}, "KV-bound", []string{"7 preemptions", "--cpu-memory"}},
		{"KV full but the batch is full: not KV-bound", func(f *Frame) {
			f.Metrics.KVUsed, f.Metrics.Waiting = 960, 12
		}, "batch-bound", []string{"256/256", "12 waiting", "max_num_seqs (+)"}},
		{"a remote target names no key", func(f *Frame) {
			f.Metrics.Waiting, f.Caps = 5, Caps{}
		}, "batch-bound", []string{"raise max_num_seqs"}},
		{"steps use the whole token budget", func(f *Frame) {
			f.Metrics.Waiting, f.Metrics.LastStep.NumSeqs = 30, 10
			f.Metrics.LastStep.PrefillTokens, f.Metrics.LastStep.DecodeTokens = 8182, 10
		}, "token-budget-bound", []string{"8192", "30 waiting"}},
		{"sampling dominates the step", func(f *Frame) {
			f.Metrics.StepPhases.Sample.P50 = 900 * time.Microsecond
		}, "sampler-bound", []string{"45%"}},
		{"open-loop generator lag", func(f *Frame) {
			f.Load.Lag = 350 * time.Millisecond
		}, "client-bound", []string{"350ms behind"}},
		{"a closed loop smaller than the batch", func(f *Frame) {
			f.Load = LoadInfo{Clients: 8}
			f.Metrics.LastStep.NumSeqs = 8
		}, "client-bound", []string{"8 clients", "batch of 256"}},
		{"an engine idle with nothing waiting", func(f *Frame) {
			f.Metrics.StepTime.Count = 1000 // 2 s busy of 10
		}, "client-bound", []string{"busy 20%"}},
		{"small batch far above its floor, eager on a GPU", func(f *Frame) {
			f.Status.Config.EnforceEager = true
			f.Metrics.LastStep.NumSeqs, f.Metrics.LastStep.Total = 4, 5*time.Millisecond
		}, "launch-bound", []string{"5.0× its roofline floor", "4 sequences", "CUDA graphs (g)"}},
		{"small batch with graphs on already", func(f *Frame) {
			f.Metrics.LastStep.NumSeqs, f.Metrics.LastStep.Total = 4, 5*time.Millisecond
		}, "launch-bound", []string{"a bigger batch"}},
		{"at the roofline", func(f *Frame) {
			f.Metrics.LastStep.Total = 1200 * time.Microsecond
		}, "at the roofline", []string{"1.2×", "faster device"}},
		{"the CPU without a roofline", func(f *Frame) {
			f.Status.Ceilings, f.Status.Device.Backend = kernels.Ceilings{}, "cpu"
		}, "compute-bound", []string{"85% of the step", "a GPU"}},
		{"a GPU between the rules", func(f *Frame) {
			f.Metrics.LastStep.Total = 2500 * time.Microsecond
		}, "engine-bound", []string{"256/256", "2.5×", "raise max_num_seqs"}},
		{"a GPU between the rules, batch not full", func(f *Frame) {
			f.Metrics.LastStep.NumSeqs, f.Metrics.LastStep.Total = 100, 2500*time.Microsecond
		}, "engine-bound", []string{"100/256", "more clients"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := busyFrame()
			c.prep(f)
			b := wantDiagnosis(t, f, c.kind, c.says)
			if c.kind != "" && (b.Why == "" || b.Try == "") {
				t.Errorf("%+v: a kind without its numbers or advice", b)
			}
		})
	}
	if b := Diagnose(nil); b != (Bottleneck{}) {
		t.Fatalf("nil frame: %+v", b)
	}
}

// wantDiagnosis is Diagnose(f), checked to be of kind and to say each of
// says in its reason or its advice.
func wantDiagnosis(t *testing.T, f *Frame, kind string, says []string) Bottleneck {
	t.Helper()
	b := Diagnose(f)
	if b.Kind != kind {
		t.Fatalf("kind %q (%s; %s), want %q", b.Kind, b.Why, b.Try, kind)
	}
	for _, s := range says {
		if !strings.Contains(b.Why+" | "+b.Try, s) {
			t.Errorf("%q lacks %q", b.Why+" | "+b.Try, s)
		}
	}
	return b
}
