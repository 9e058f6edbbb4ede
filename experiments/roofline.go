package experiments

import (
	"context"
	"fmt"
	"sort"
	"time"

	"benchtop/kernels"
)

// Roofline is a decode step measured against its floor: the larger of the
// bytes it must move (every weight once, plus the KV cache it attends over)
// over the card's measured bandwidth, and its FLOPs over the measured
// matrix rate.
type Roofline struct {
	Batch          int              `json:"batch"`
	Steps          int              `json:"steps"`
	ContextTokens  int              `json:"context_tokens"`
	WeightBytes    int64            `json:"weight_bytes"`
	KVBytes        int64            `json:"kv_bytes"`
	FLOPs          float64          `json:"flops"`
	Ceilings       kernels.Ceilings `json:"ceilings"`
	Floor          time.Duration    `json:"floor_ns"`
	MeasuredHost   time.Duration    `json:"measured_host_ns"`
	MeasuredDevice time.Duration    `json:"measured_device_ns"`
	Ratio          float64          `json:"ratio_host_to_floor"`
}

// roofline compares the run's most common decode batch with its floor.
// ok is false when the backend cannot measure its ceilings.
func (s *Session) roofline(ctx context.Context, start time.Time) (r Roofline, ok bool, err error) {
	if err := s.Collector.Sync(ctx); err != nil {
		return r, false, err
	}
	steps := s.Collector.DecodeStepsSince(start)
	var cerr error
	if len(steps) > 0 {
		if err := s.Engine.Exec(ctx, func() { cerr = s.Engine.MeasureCeilings() }); err != nil {
			return r, false, err
		}
	}
	if cerr != nil {
		return r, false, fmt.Errorf("measure the card's ceilings: %w", cerr)
	}
	st := s.Engine.Status()
	if st.Ceilings.BandwidthBytesPerSec <= 0 || len(steps) == 0 {
		return r, false, nil
	}
	counts := map[int]int{}
	for _, st := range steps {
		counts[st.NumSeqs]++
	}
	best := 0
	for b, n := range counts {
		if n > counts[best] || (n == counts[best] && b > best) {
			best = b
		}
	}
	var host, dev []time.Duration
	var ctxs []int
	for _, st := range steps {
		if st.NumSeqs == best {
			host = append(host, st.Total)
			dev = append(dev, st.DeviceTime)
			ctxs = append(ctxs, st.ContextTokens)
		}
	}
	sort.Slice(host, func(i, j int) bool { return host[i] < host[j] })
	sort.Slice(dev, func(i, j int) bool { return dev[i] < dev[j] })
	sort.Ints(ctxs)
	r = Roofline{Batch: best, Steps: len(host), ContextTokens: ctxs[len(ctxs)/2], Ceilings: st.Ceilings,
		MeasuredHost: host[len(host)/2], MeasuredDevice: dev[len(dev)/2]}
	cost := st.Cost(best, r.ContextTokens)
	r.WeightBytes, r.KVBytes, r.FLOPs, r.Floor = cost.WeightBytes, cost.KVBytes, cost.FLOPs, st.Floor(cost)
	if r.Floor > 0 {
		r.Ratio = float64(r.MeasuredHost) / float64(r.Floor)
	}
	return r, true, nil
}

func (r Roofline) table() *Table {
	t := &Table{Title: fmt.Sprintf("Decode step against the roofline (batch %d, median of %d steps)", r.Batch, r.Steps),
		Headers: []string{"Quantity", "Value"}}
	t.Add("Weights read (MB)", fmt.Sprintf("%.1f", float64(r.WeightBytes)/1e6))
	t.Add("KV cache read (MB)", fmt.Sprintf("%.1f (%d context tokens)", float64(r.KVBytes)/1e6, r.ContextTokens))
	t.Add("FLOPs (G)", fmt.Sprintf("%.2f", r.FLOPs/1e9))
	t.Add("Measured bandwidth (TB/s)", fmt.Sprintf("%.2f", r.Ceilings.BandwidthBytesPerSec/1e12))
	t.Add("Measured fp16 GEMM (TFLOP/s)", fmt.Sprintf("%.0f", r.Ceilings.MatmulFlopsPerSec/1e12))
	t.Add("Roofline floor (µs)", fmt.Sprintf("%.1f", float64(r.Floor)/1e3))
	t.Add("Measured step, device (µs)", fmt.Sprintf("%.1f", float64(r.MeasuredDevice)/1e3))
	t.Add("Measured step, host (µs)", fmt.Sprintf("%.1f", float64(r.MeasuredHost)/1e3))
	t.Add("Ratio (host step / floor)", fmt.Sprintf("%.2f×", r.Ratio))
	return t
}
