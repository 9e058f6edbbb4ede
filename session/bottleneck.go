package session

import (
	"fmt"
	"time"

	"benchtop/engine"
	"benchtop/metrics"
)

// Bottleneck is what limits a run, said from a frame's live numbers: a
// short kind, the numbers behind it and what to try. The zero value says
// nothing (no data, paused, failed or rebuilding: the header says those).
type Bottleneck struct {
	Kind string `json:"kind"` // e.g. "KV-bound"
	Why  string `json:"why"`
	Try  string `json:"try"`
}

// The rules' thresholds.
const (
	// KVFull is the KV usage from which the pool counts as full.
	KVFull = 0.9
	// SamplerShare is the share of the step (p50s) from which sampling
	// dominates it.
	SamplerShare = 0.35
	// LagHigh is the open-loop generator lag from which the client, not the
	// engine, sets the pace.
	LagHigh = 100 * time.Millisecond
	// IdleShare is the engine's busy share below which, with nothing
	// waiting, the workload does not keep it busy.
	IdleShare = 0.5
	// LaunchFactor is how far above its roofline floor a small batch's step
	// must be to count as launch-bound; RooflineFactor how close to it a
	// step is "at the roofline".
	LaunchFactor   = 3.0
	RooflineFactor = 1.5
	// LongStep is how long one step must have run for the line to say so.
	LongStep = 5 * time.Second
)

// Diagnose says what limits the run in f. Rules, first match wins:
// a long step in progress; KV-bound (pool full with requests waiting or
// preemptions, batch not full); batch-bound (batch full, requests
// waiting); token-budget-bound (steps use the whole token budget,
// requests waiting); sampler-bound (sampling dominates the step);
// client-bound (open-loop generator lag, a closed loop smaller than the
// batch, or an engine idle with nothing waiting); launch-bound (small
// batch far above its roofline floor); at the roofline; compute-bound on
// the CPU; else engine-bound. Against servers (f.Targets) the rules are
// diagnoseRemote's, from the servers' gauges and the client's numbers.
func Diagnose(f *Frame) Bottleneck {
	if f == nil || f.Metrics == nil {
		return Bottleneck{}
	}
	if len(f.Targets) > 0 {
		return diagnoseRemote(f)
	}
	if f.Status == nil {
		return Bottleneck{}
	}
	st, m := f.Status, f.Metrics
	switch st.State {
	case engine.StatePaused, engine.StateSwitching, engine.StateFailed, engine.StateStopped:
		return Bottleneck{}
	}
	c := st.Config
	last := m.LastStep
	seqs, maxSeqs := last.NumSeqs, last.MaxNumSeqs
	if maxSeqs == 0 {
		maxSeqs = c.MaxNumSeqs
	}
	if d := f.Progress.For(f.Time); f.Progress.InStep && d >= LongStep {
		return Bottleneck{Kind: "long step",
			Why: fmt.Sprintf("one step has run for %s (token budget %d)", d.Round(time.Second), c.MaxNumBatchedTokens),
			Try: "lower max_num_batched_tokens (smaller prefill chunks)"}
	}
	if m.Steps == 0 && (m.Running > 0 || m.Waiting > 0) {
		return Bottleneck{} // the first step is under way
	}
	if m.StepTime.Count == 0 && m.Running == 0 && m.Waiting == 0 {
		if f.Workload == "" {
			return Bottleneck{Kind: "idle", Why: "no workload is running", Try: "start one (1-9, w)"}
		}
		return Bottleneck{Kind: "client-bound", Why: "no step in the window: the workload sent nothing to run",
			Try: "a higher arrival rate or more clients"}
	}
	kvUse := 0.0
	if m.KVTotal > 0 {
		kvUse = float64(m.KVUsed) / float64(m.KVTotal)
	}
	preempts := recentPreemptions(m)
	if kvUse >= KVFull && (m.Waiting > 0 || preempts > 0) && seqs < maxSeqs {
		why := fmt.Sprintf("KV pool %.0f%% full, %d waiting, batch %d/%d", 100*kvUse, m.Waiting, seqs, maxSeqs)
		if preempts > 0 {
			why += fmt.Sprintf(", %d preemptions in the last %s", preempts, preemptSpan)
		}
		return Bottleneck{Kind: "KV-bound", Why: why, Try: memoryHint(f)}
	}
	if m.Waiting > 0 && seqs >= maxSeqs && maxSeqs > 0 {
		try := "raise max_num_seqs"
		if f.Caps.MaxNumSeqs {
			try += " (+)"
		}
		return Bottleneck{Kind: "batch-bound", Why: fmt.Sprintf("batch full (%d/%d) with %d waiting", seqs, maxSeqs, m.Waiting), Try: try}
	}
	if tok := last.PrefillTokens + last.DecodeTokens; m.Waiting > 0 && c.MaxNumBatchedTokens > 0 && tok >= c.MaxNumBatchedTokens {
		return Bottleneck{Kind: "token-budget-bound",
			Why: fmt.Sprintf("steps use the whole token budget (%d tokens) with %d waiting", c.MaxNumBatchedTokens, m.Waiting),
			Try: "raise max_num_batched_tokens"}
	}
	ph := m.StepPhases
	if ph.Sample.Valid() && ph.Total.Valid() && ph.Total.P50 > 0 {
		if share := float64(ph.Sample.P50) / float64(ph.Total.P50); share >= SamplerShare {
			return Bottleneck{Kind: "sampler-bound", Why: fmt.Sprintf("sampling is %.0f%% of the step (p50)", 100*share),
				Try: "greedy or top-k sampling; sample on the GPU"}
		}
	}
	if f.Load.OpenLoop && f.Load.Lag >= LagHigh {
		return Bottleneck{Kind: "client-bound", Why: fmt.Sprintf("the generator sends %s behind its arrival times", f.Load.Lag.Round(time.Millisecond)),
			Try: "a lower arrival rate, or the client on another machine"}
	}
	if !f.Load.OpenLoop && f.Load.Clients > 0 && f.Load.Clients < maxSeqs && m.Waiting == 0 {
		return Bottleneck{Kind: "client-bound",
			Why: fmt.Sprintf("a closed loop of %d clients keeps at most %d requests in a batch of %d", f.Load.Clients, f.Load.Clients, maxSeqs),
			Try: "more clients (a closed:N workload) to fill the batch"}
	}
	if busy, ok := busyShare(m); ok && busy < IdleShare && m.Waiting == 0 {
		return Bottleneck{Kind: "client-bound", Why: fmt.Sprintf("the engine is busy %.0f%% of the time and nothing waits", 100*busy),
			Try: "a higher arrival rate or more clients"}
	}
	floor := time.Duration(0)
	if seqs > 0 {
		floor = st.Floor(st.Cost(last.PrefillTokens+last.DecodeTokens, last.ContextTokens))
	}
	if floor > 0 && last.Total > 0 {
		ratio := float64(last.Total) / float64(floor)
		if ratio >= LaunchFactor && seqs <= max(8, maxSeqs/4) {
			try := "a bigger batch"
			if st.Device.CUDAGraphs && c.EnforceEager {
				try = "CUDA graphs"
				if f.Caps.Reconfigure {
					try += " (g)"
				}
				try += " or a bigger batch"
			}
			return Bottleneck{Kind: "launch-bound", Why: fmt.Sprintf("step %.1f× its roofline floor with %d sequences", ratio, seqs), Try: try}
		}
		if ratio <= RooflineFactor {
			try := "nothing left in the step; a bigger batch gives more tokens per step"
			if seqs >= maxSeqs {
				try = "nothing left in the step; a faster device or a smaller model"
			}
			return Bottleneck{Kind: "at the roofline", Why: fmt.Sprintf("step %.1f× its roofline floor", ratio), Try: try}
		}
	}
	if st.Device.Backend == "cpu" {
		why := "the forward pass runs on the CPU"
		if ph.Forward.Valid() && ph.Total.Valid() && ph.Total.P50 > 0 {
			why = fmt.Sprintf("the forward pass is %.0f%% of the step, on the CPU", 100*float64(ph.Forward.P50)/float64(ph.Total.P50))
		}
		return Bottleneck{Kind: "compute-bound", Why: why, Try: "a GPU, or a smaller model (--model tiny)"}
	}
	why := fmt.Sprintf("batch %d/%d", seqs, maxSeqs)
	if floor > 0 && last.Total > 0 {
		why += fmt.Sprintf(", step %.1f× its roofline floor", float64(last.Total)/float64(floor))
	}
	try := "a bigger batch (more clients) if latency allows"
	if seqs >= maxSeqs {
		try = "raise max_num_seqs if latency allows"
	}
	return Bottleneck{Kind: "engine-bound", Why: why, Try: try}
}

// preemptSpan is how far back recentPreemptions looks.
const preemptSpan = 10 * time.Second

// recentPreemptions counts the preemptions of the series' last preemptSpan.
func recentPreemptions(m *metrics.Snapshot) int {
	pts := m.Series
	if len(pts) == 0 {
		return 0
	}
	last := pts[len(pts)-1]
	i := len(pts) - 1
	for i > 0 && last.T-pts[i-1].T <= preemptSpan {
		i--
	}
	return last.Preempts - pts[i].Preempts
}

// busyShare is the share of the window the engine spent in steps.
func busyShare(m *metrics.Snapshot) (float64, bool) {
	if m.Window <= 0 || !m.StepTime.Valid() {
		return 0, false
	}
	return min(1, float64(m.StepTime.Count)*float64(m.StepTime.Mean)/float64(m.Window)), true
}

// memoryHint is what gives the KV pool more room on this device.
func memoryHint(f *Frame) string {
	try := "raise gpu_memory_utilization"
	if f.Caps.Reconfigure {
		try += " (m)"
	}
	if f.Status.Device.Backend == "cpu" {
		try += " or --cpu-memory"
	}
	return try
}
