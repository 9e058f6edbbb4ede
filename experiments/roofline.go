package experiments

import (
	"context"
	"fmt"
	"slices"
	"time"

	"benchtop/engine"
	"benchtop/report"
	"benchtop/session"
)

// roofline compares the run's most common decode batch with its floor.
// ok is false when the backend cannot measure its ceilings.
func roofline(ctx context.Context, s *session.Session, start time.Time) (r report.Roofline, ok bool, err error) {
	steps, err := s.DecodeStepsSince(ctx, start)
	if err != nil || len(steps) == 0 {
		return r, false, err
	}
	var cerr error
	if err := s.Exec(ctx, func(e *engine.Engine) { cerr = e.MeasureCeilings() }); err != nil {
		return r, false, err
	}
	if cerr != nil {
		return r, false, fmt.Errorf("measure the card's ceilings: %w", cerr)
	}
	st := s.Status()
	if st.Ceilings.BandwidthBytesPerSec <= 0 {
		return r, false, nil
	}
	counts := map[int]int{}
	for _, ev := range steps {
		counts[ev.NumSeqs]++
	}
	best := 0
	for b, n := range counts {
		if n > counts[best] || (n == counts[best] && b > best) {
			best = b
		}
	}
	var host, dev []time.Duration
	var ctxs []int
	for _, ev := range steps {
		if ev.NumSeqs == best {
			host, dev, ctxs = append(host, ev.Total), append(dev, ev.DeviceTime), append(ctxs, ev.ContextTokens)
		}
	}
	slices.Sort(host)
	slices.Sort(dev)
	slices.Sort(ctxs)
	r = report.Roofline{Batch: best, Steps: len(host), ContextTokens: ctxs[len(ctxs)/2],
		BandwidthBytesPerSec: st.Ceilings.BandwidthBytesPerSec, MatmulFlopsPerSec: st.Ceilings.MatmulFlopsPerSec,
		MeasuredHost: host[len(host)/2], MeasuredDevice: dev[len(dev)/2]}
	cost := st.Cost(best, r.ContextTokens)
	r.WeightBytes, r.KVBytes, r.FLOPs, r.Floor = cost.WeightBytes, cost.KVBytes, cost.FLOPs, st.Floor(cost)
	if r.Floor > 0 {
		r.Ratio = float64(r.MeasuredHost) / float64(r.Floor)
	}
	return r, true, nil
}

func rooflineTable(r report.Roofline) *report.Table {
	t := &report.Table{Title: fmt.Sprintf("Decode step against the roofline (batch %d, median of %d steps)", r.Batch, r.Steps),
		Headers: []string{"Quantity", "Value"}}
	t.Add("Weights read (MB)", fmt.Sprintf("%.1f", float64(r.WeightBytes)/1e6))
	t.Add("KV cache read (MB)", fmt.Sprintf("%.1f (%d context tokens)", float64(r.KVBytes)/1e6, r.ContextTokens))
	t.Add("FLOPs (G)", fmt.Sprintf("%.2f", r.FLOPs/1e9))
	t.Add("Measured bandwidth (TB/s)", fmt.Sprintf("%.2f", r.BandwidthBytesPerSec/1e12))
	t.Add("Measured fp16 GEMM (TFLOP/s)", fmt.Sprintf("%.0f", r.MatmulFlopsPerSec/1e12))
	t.Add("Roofline floor (µs)", fmt.Sprintf("%.1f", float64(r.Floor)/1e3))
	t.Add("Measured step, device (µs)", fmt.Sprintf("%.1f", float64(r.MeasuredDevice)/1e3))
	t.Add("Measured step, host (µs)", fmt.Sprintf("%.1f", float64(r.MeasuredHost)/1e3))
	t.Add("Ratio (host step / floor)", fmt.Sprintf("%.2f×", r.Ratio))
	return t
}
