package experiments

import (
	"context"
	"fmt"

	"benchtop/report"
	"benchtop/session"
	"benchtop/workloads"
)

// Memory reports how memory is split — weights, activations, KV cache — as
// measured on the backend, the KV capacity in blocks and tokens, and how many
// sequences of the workload's lengths fit at once.
func Memory(ctx context.Context, s *session.Session, workload string, p Params) (*report.Report, error) {
	if s.Remote() {
		return nil, fmt.Errorf("memory measures the in-process engine's memory plan; a server's is its own (its KV usage is in benchtop metrics URL)")
	}
	w, err := workloads.Lookup(workload)
	if err != nil {
		return nil, err
	}
	reqs, _, err := s.Vocab().Requests(w.WithCount(p.Requests), p.Seed, "mem-")
	if err != nil {
		return nil, err
	}
	var maxLen, sumLen int
	for _, r := range reqs {
		n := len(r.Prompt) + r.Params.MaxTokens
		maxLen = max(maxLen, n)
		sumLen += n
	}
	plan := s.Status().Plan
	blocksPerSeq := (maxLen + plan.BlockSize - 1) / plan.BlockSize
	maxConc := plan.NumBlocks / max(1, blocksPerSeq)
	gb := func(n int64) string { return fmt.Sprintf("%.3f", float64(n)/1e9) }
	t := &report.Table{Title: "Memory efficiency (" + s.Describe() + ")", Headers: []string{"Item", "Value"}}
	t.Add("Device memory (GB)", gb(plan.TotalBytes))
	t.Add("gpu_memory_utilization", fmt.Sprintf("%.2f", plan.Utilization))
	t.Add("Weights (GB)", gb(plan.WeightBytes))
	t.Add("Activations, step workspace (GB)", gb(plan.ActivationBytes))
	t.Add("KV cache (GB)", gb(plan.KVBytes))
	t.Add("Outside the budget (GB)", gb(plan.FreeBytes()))
	t.Add("KV block size (tokens)", plan.BlockSize)
	t.Add("KV blocks", plan.NumBlocks)
	t.Add("KV bytes per token", plan.BytesPerBlock/int64(max(1, plan.BlockSize)))
	t.Add("KV per token (layers × 2 × KV heads × head size)", fmt.Sprintf("%d × 2 × %d × %d %s", plan.NumLayers, plan.KVHeads, plan.HeadDim, plan.KVDType))
	t.Add("KV capacity (tokens)", plan.KVTokens())
	t.Add(fmt.Sprintf("Longest sequence of %q (tokens)", w.Name), maxLen)
	t.Add("Blocks per sequence", blocksPerSeq)
	t.Add("Est. max concurrent sequences", maxConc)
	dev := s.Device()
	t.Notes = append(t.Notes, fmt.Sprintf("Measured on the %s backend (%s); KV in %s.", dev.Backend, dev.Name, plan.KVDType))
	if plan.Reason != "" { // the sizes the engine chose itself, and why
		t.Notes = append(t.Notes, "Sizing: "+plan.Reason+".")
	}
	doc := report.MemoryReport{Header: header(s, "memory", nil), Workload: w.Name, MaxSequenceTokens: maxLen,
		AvgSequenceTokens: float64(sumLen) / float64(max(1, len(reqs))), BlocksPerSequence: blocksPerSeq, MaxConcurrentSequences: maxConc}
	return &report.Report{Tables: []*report.Table{t}, Doc: doc}, nil
}
