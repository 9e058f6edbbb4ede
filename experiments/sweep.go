package experiments

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"benchtop/metrics"
	"benchtop/report"
	"benchtop/session"
	"benchtop/workloads"
)

// point is one sweep value measured Repeats times.
type point struct {
	x        float64
	first    *session.RunResult
	tps, lat report.Spread // output tok/s, mean E2E (ms)
	rps      report.Spread
	// partial: the point stopped before its repeats were done; its numbers
	// are those of the requests that finished (first may be partial).
	partial bool
}

// repeat warms for w and runs it n times. When a run stops
// (session.ErrStopped), the point holds what finished — first is nil when
// nothing did — marked partial, beside the error.
func repeat(ctx context.Context, s *session.Session, w workloads.Workload, seed int64, n int) (point, error) {
	var p point
	var tps, lat, rps []float64
	var err error
	for i := 0; i < n && err == nil; i++ {
		var run *session.RunResult
		run, err = measure(ctx, s, w, seed)
		if err != nil {
			p.partial = true
			if run == nil || run.Summary.Requests == 0 {
				break
			}
		}
		if p.first == nil {
			p.first = run
		}
		tps, lat, rps = append(tps, run.Summary.OutputTPS), append(lat, metrics.Ms(run.Summary.E2E.Mean)), append(rps, measures(run).ThroughputRPS)
	}
	p.tps, p.lat, p.rps = report.SpreadOf(tps), report.SpreadOf(lat), report.SpreadOf(rps)
	return p, err
}

// Sweep runs a workload at each value of one knob — "batch" (the
// tutorial's: that many prompts at once), "rate" (Poisson arrivals at that
// many requests/s) or "concurrency" (a closed loop of that many clients) —
// p.Repeats times each, and tabulates mean throughput and latency (with
// their spread over repeats), marks the knee (the point past which latency
// rises faster than throughput) and the best throughput (and the points
// whose spread it overlaps), and charts throughput against the knob and
// latency against throughput.
func Sweep(ctx context.Context, s *session.Session, over string, values []float64, w workloads.Workload, p Params) (*report.Report, error) {
	if over == "batch" && len(values) == 0 {
		for _, n := range workloads.SweepBatchSizes {
			values = append(values, float64(n))
		}
	}
	knob := map[string]string{"batch": "Batch size", "rate": "Rate (req/s)", "concurrency": "Clients"}[over]
	if knob == "" {
		return nil, fmt.Errorf("sweep over %q: want batch, rate or concurrency", over)
	}
	if len(values) == 0 {
		return nil, fmt.Errorf("sweep over %s: no values", over)
	}
	slo := s.Options().SLO
	var pts []point
	var stopped error // the stop, when the sweep ended early
	note := ""
	for _, v := range values {
		if !(v > 0) || math.IsInf(v, 0) || over == "rate" && v > workloads.MaxRate {
			return nil, fmt.Errorf("sweep value %g: must be positive and finite (rates at most %g)", v, workloads.MaxRate)
		}
		if over != "rate" && v != float64(int(v)) {
			return nil, fmt.Errorf("sweep value %g: %s takes whole numbers", v, over)
		}
		var wl workloads.Workload
		switch over {
		case "batch":
			wl = workloads.Batch(int(v))
		case "rate":
			wl = w.WithArrival(workloads.Arrival{Kind: "poisson", Rate: v}).WithCount(p.Requests)
		case "concurrency":
			wl = w.WithArrival(workloads.Arrival{Kind: "closed", N: int(v)}).WithCount(p.Requests)
		}
		pt, err := repeat(ctx, s, wl, p.Seed, p.repeats())
		if err != nil {
			err = fmt.Errorf("%s %g: %w", over, v, err)
			if !errors.Is(err, session.ErrStopped) {
				return nil, err
			}
			stopped = err
			note = fmt.Sprintf("Partial: stopped during %s %g; %d of %d values measured.", knob, v, len(pts), len(values))
			if pt.first != nil {
				note += fmt.Sprintf(" The row of %s %g holds the requests that finished before the stop.", knob, v)
				pt.x = v
				pts = append(pts, pt)
			}
			break
		}
		pt.x = v
		pts = append(pts, pt)
	}
	// The knee and the best are found among the points measured whole.
	whole := len(pts)
	if whole > 0 && pts[whole-1].partial {
		whole--
	}
	var xs, rps, toks, lat []float64
	for _, pt := range pts[:whole] {
		xs, rps, toks, lat = append(xs, pt.x), append(rps, pt.rps.Mean), append(toks, pt.tps.Mean), append(lat, pt.lat.Mean)
	}
	knee := Knee(rps, lat)
	best := 0
	if whole == 0 {
		best = -1
	}
	for i := range toks {
		if toks[i] > toks[best] {
			best = i
		}
	}
	var near []float64
	for i, pt := range pts[:whole] {
		if i != best && pt.tps.Overlaps(pts[best].tps) {
			near = append(near, pt.x)
		}
	}
	t := &report.Table{Title: fmt.Sprintf("Sweep over %s (%s)", knob, s.Describe()),
		Headers: []string{knob, "Throughput (req/s)", "Output tok/s", "Avg latency (ms)", "TTFT p50 (ms)", "TTFT p99 (ms)", "E2E p99 (ms)"}}
	if p.repeats() > 1 {
		t.Headers = append(t.Headers, "Output tok/s spread", "Latency spread (ms)")
	}
	if !slo.Empty() {
		t.Headers = append(t.Headers, "Goodput (req/s)", "SLO met")
	}
	t.Headers = append(t.Headers, "")
	h := header(s, "sweep", nil)
	h.Partial = stopped != nil
	doc := report.Sweep{Header: h, Over: over, Workload: w.Name, Repeats: p.repeats(), Results: []report.SweepPoint{},
		KneeIndex: knee, BestIndex: best, BestWithinSpread: append([]float64{}, near...)}
	if over == "batch" {
		doc.Workload = "batch"
		if best >= 0 {
			doc.BestBatchSize = int(xs[best])
		}
	}
	if !slo.Empty() {
		doc.SLO = slo.String()
	}
	for i, pt := range pts {
		sm := pt.first.Summary
		cells := []any{strconv.FormatFloat(pt.x, 'g', -1, 64), pt.rps.Mean, pt.tps.Mean, fmt.Sprintf("%.2f", pt.lat.Mean),
			ms(sm.TTFT.P50), ms(sm.TTFT.P99), ms(sm.E2E.P99)}
		if p.repeats() > 1 {
			cells = append(cells, fmt.Sprintf("%.2f–%.2f", pt.tps.Min, pt.tps.Max), fmt.Sprintf("%.2f–%.2f", pt.lat.Min, pt.lat.Max))
		}
		if !slo.Empty() {
			cells = append(cells, sm.Goodput, fmt.Sprintf("%.0f%%", 100*sm.Attainment))
		}
		note := ""
		if pt.partial {
			note = "partial"
		}
		if i == knee {
			note = "← knee"
		}
		if i == best {
			note += " ← best throughput"
			if len(near) > 0 {
				note += " (within the spread of " + join(near) + ")"
			}
		}
		t.Add(append(cells, strings.TrimSpace(note))...)
		m := measures(pt.first)
		doc.Results = append(doc.Results, report.SweepPoint{Value: pt.x, Partial: pt.partial, Measures: m, ThroughputTPSSpread: pt.tps, AvgLatencySpread: pt.lat})
		for _, f := range m.Failures {
			t.Notes = append(t.Notes, fmt.Sprintf("%s %g: %d %s, e.g. %s", knob, pt.x, f.Count, f.Finish, f.Example))
		}
	}
	if stopped != nil {
		t.Title += " — partial"
		t.Notes = append(t.Notes, note)
	}
	if best < 0 {
		return &report.Report{Tables: []*report.Table{t}, Doc: doc}, stopped
	}
	t.Notes = append(t.Notes, fmt.Sprintf("Best throughput: %s %g (%.2f requests/s).", knob, xs[best], rps[best]))
	if len(near) > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("Within the spread of %d repeats: %s %s measure the same throughput.", p.repeats(), knob, join(near)))
	}
	if knee >= 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("Knee: %s %g — from here latency rises faster than throughput.", knob, xs[knee]))
	} else {
		t.Notes = append(t.Notes, "No knee: latency never rose faster than throughput.")
	}
	if p.repeats() > 1 {
		t.Notes = append(t.Notes, fmt.Sprintf("Means of %d warmed repeats; spreads are min–max; percentiles are the first repeat's.", p.repeats()))
	}
	return &report.Report{Tables: []*report.Table{t}, Doc: doc, Charts: []report.Chart{
		{Title: "Throughput vs " + knob, XLabel: knob, YLabel: "output tokens/s", Series: []report.Series{{Name: "output tok/s", X: xs, Y: toks}}, Mark: knee},
		{Title: "Latency vs throughput", XLabel: "requests/s", YLabel: "mean E2E latency (ms)", Series: []report.Series{{Name: "E2E", X: rps, Y: lat}}, Mark: knee},
	}}, stopped
}

func join(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(s, ", ")
}
