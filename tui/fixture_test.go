package tui

import (
	"errors"
	"math"
	"sync"
	"time"

	"benchtop/engine"
	"benchtop/gpumon"
	"benchtop/kernels"
	"benchtop/metrics"
	"benchtop/session"
	"benchtop/snapshot"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// fixedFrame is a frame with two minutes of history, two changes, a GPU.
func fixedFrame() *session.Frame {
	var pts []metrics.Point
	for i := 0; i < 480; i++ {
		x := float64(i)
		pts = append(pts, metrics.Point{T: time.Duration(i) * 250 * time.Millisecond,
			OutputTPS: 60000 + 20000*math.Sin(x/40), RPS: 1200, TTFTP50: time.Duration(2+math.Cos(x/30)) * time.Millisecond,
			Occupancy: 0.39 + 0.2*math.Sin(x/50), KVUsage: 0.01 * (1 + math.Sin(x/25)), Running: 100, Preempts: i / 200})
	}
	ms := time.Millisecond
	snap := &metrics.Snapshot{Time: t0.Add(2 * time.Minute), Start: t0, Elapsed: 2 * time.Minute, Window: 10 * time.Second,
		Arrived: 12000, Finished: 11900, Running: 100, Preemptions: 2, OutputTokens: 595000, PromptTokens: 107100,
		OutputTPS: 66606.5, TotalTPS: 78595.7, RPS: 1332.1,
		TTFT:     metrics.Dist{Count: 1190, P50: 2 * ms, P90: 3 * ms, P99: 18 * ms, Max: 20 * ms},
		TPOT:     metrics.Dist{Count: 1190, P50: 1100 * time.Microsecond, P90: 1200 * time.Microsecond, P99: 2 * ms},
		ITL:      metrics.Dist{Count: 58000, P50: 1050 * time.Microsecond, P90: 1400 * time.Microsecond, P99: 2300 * time.Microsecond},
		E2E:      metrics.Dist{Count: 1190, P50: 57 * ms, P90: 60 * ms, P99: 75 * ms},
		Queue:    metrics.Dist{Count: 1190, P50: 100 * time.Microsecond, P90: 200 * time.Microsecond, P99: 900 * time.Microsecond},
		StepTime: metrics.Dist{Count: 12000, Mean: 810 * time.Microsecond, P50: 800 * time.Microsecond},
		StepPhases: metrics.StepPhases{Schedule: metrics.Dist{Count: 12000, P50: 40 * time.Microsecond},
			Forward: metrics.Dist{Count: 12000, P50: 650 * time.Microsecond}, Sample: metrics.Dist{Count: 12000, P50: 90 * time.Microsecond},
			Device: metrics.Dist{Count: 12000, P50: 770 * time.Microsecond}, Total: metrics.Dist{Count: 12000, P50: 800 * time.Microsecond}},
		Occupancy: 0.39, KVUsed: 400, KVTotal: 122000, Steps: 60000,
		LastStep: metrics.Step{DeviceTime: 779 * time.Microsecond, Total: 815 * time.Microsecond, NumSeqs: 100, MaxNumSeqs: 256,
			DecodeTokens: 100, ContextTokens: 3400, ScheduleTime: 41 * time.Microsecond, ExecuteTime: 660 * time.Microsecond,
			SampleTime: 95 * time.Microsecond}, Series: pts, WindowEnd: t0.Add(2 * time.Minute),
		Markers: []metrics.Marker{{Time: t0.Add(40 * time.Second), What: "max_num_seqs=50"}, {Time: t0.Add(80 * time.Second), What: "workload=latency"}}}
	cfg := engine.DefaultConfig()
	st := &engine.Status{Config: cfg, Device: kernels.DeviceInfo{Backend: "cuda", Name: "NVIDIA H200 NVL 141GB HBM3e (MIG 7g.141gb)", CUDAGraphs: true},
		Model: "llama-3.2-1b", Synthetic: true, ModelNote: "synthetic weights, GPT-2 tokenizer", Params: 1235814400, State: engine.StateRunning,
		Plan: engine.MemoryPlan{TotalBytes: 85e9, WeightBytes: 284e6, ActivationBytes: 190e6, KVBytes: 72e9, NumBlocks: 122000, BlockSize: 16,
			BytesPerBlock: 589824},
		Ceilings: kernels.Ceilings{BandwidthBytesPerSec: 2.98e12, MatmulFlopsPerSec: 735e12}, MatmulFLOPsPerToken: 2 * 163e6, AttentionFLOPsPerContextToken: 4 * 768 * 12}
	var hist []gpumon.Sample
	for i := 0; i < 480; i++ {
		var gpus []gpumon.GPU
		for g := 0; g < 2; g++ {
			gpus = append(gpus, gpumon.GPU{Index: g, Name: "NVIDIA H200 NVL 141GB HBM3e (MIG 7g.141gb)", UtilPct: float64(50*g + i%50), MemUsedBytes: int64(76e9 - 40e9*float64(g)),
				MemTotalBytes: 85e9, PowerW: 310, TempC: 41, SMClockMHz: 1980, EnergyJ: 1e6 + 310*float64(i)/4})
		}
		hist = append(hist, gpumon.Sample{Time: t0.Add(time.Duration(i) * 250 * time.Millisecond), GPUs: gpus})
	}
	segs := []snapshot.Segment{{Index: 0, What: "start", Requests: 5000, OutputTPS: 66000, TTFTP50: 2 * ms, TPOTP50: ms},
		{Index: 1, What: "max_num_seqs=50", Requests: 4000, OutputTPS: 50000, TTFTP50: 1500 * time.Microsecond, TPOTP50: 900 * time.Microsecond},
		{Index: 2, What: "workload=latency", Requests: 90, OutputTPS: 1100, TTFTP50: 1800 * time.Microsecond, TPOTP50: 700 * time.Microsecond}}
	return &session.Frame{Time: t0.Add(2 * time.Minute), Caps: session.Caps{MaxNumSeqs: true, Reconfigure: true, Pause: true}, Metrics: snap, Status: st, GPU: &gpumon.State{Available: true, Driver: "580.159.04", Interval: 250 * time.Millisecond, History: hist},
		Segments: segs, Workload: "bench", Workloads: []string{"throughput", "latency", "ttft", "bench", "utilization",
			"chat", "bursty", "ramp", "clients", "long-context", "shared-prefix"}}
}

// cpuFrame is fixedFrame on the CPU backend without NVML: the process's
// CPU and memory stand in for the GPU panels, and the auto settings say
// why they are what they are.
func cpuFrame() *session.Frame {
	f := fixedFrame()
	st := *f.Status
	st.Device = kernels.DeviceInfo{Backend: "cpu", Name: "CPU (2 threads, amd64)"}
	st.Ceilings = kernels.Ceilings{}
	st.Config.MaxNumSeqs, st.Config.MaxNumBatchedTokens = 40, 512
	st.Plan.Reason = "max_num_batched_tokens 512, max_num_seqs 40: steps near 200 ms on this CPU (at an estimated 21 GFLOP/s on matmuls, " +
		"2.1 GFLOP/s on attention; reading the weights adds to every step); KV pool capped at max_num_seqs × max_model_len = 81920 tokens (more could never be used)"
	f.Status = &st
	var hist []gpumon.Sample
	for i := 0; i < 480; i++ {
		p := &gpumon.Process{CPUPct: 150 + 40*math.Sin(float64(i)/20), Cores: 2, RSSBytes: int64(400<<20 + i<<16)}
		if i == 0 {
			p.CPUPct = -1
		}
		hist = append(hist, gpumon.Sample{Time: t0.Add(time.Duration(i) * 250 * time.Millisecond), Process: p})
	}
	f.GPU = &gpumon.State{Reason: "no NVML: Driver Not Loaded", Interval: 250 * time.Millisecond, History: hist}
	return f
}

// recorder is a Controller that records calls.
type recorder struct {
	mu    sync.Mutex
	frame *session.Frame
	calls []string
	cfg   engine.Config
}

func (r *recorder) Frame() *session.Frame { return r.frame }
func (r *recorder) rec(s string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, s)
	if s == "fail" {
		return errors.New("refused")
	}
	return nil
}
func (r *recorder) SwitchWorkload(n string) error { return r.rec("workload " + n) }
func (r *recorder) SetMaxNumSeqs(n int) error     { return r.rec("max_num_seqs " + itoa(n)) }
func (r *recorder) ReconfigureWith(change func(*engine.Config), what string) error {
	c := r.frame.Status.Config
	change(&c)
	r.cfg = c
	return r.rec("reconfigure " + what)
}
func (r *recorder) SetPaused(p bool) error {
	if p {
		return r.rec("pause")
	}
	return r.rec("resume")
}
func (r *recorder) ResetStats() error { return r.rec("reset") }
func (r *recorder) Snapshot(dir string) ([]string, error) {
	return []string{dir + "/x.json"}, r.rec("snapshot " + dir)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}
