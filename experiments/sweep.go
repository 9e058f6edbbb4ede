package experiments

import (
	"context"
	"fmt"
	"strconv"

	"benchtop/metrics"
	"benchtop/workloads"
)

// Sweep runs a workload at each value of one knob — "batch" (the
// tutorial's: that many prompts at once), "rate" (Poisson arrivals at that
// many requests/s) or "concurrency" (a closed loop of that many clients) —
// and tabulates throughput and latency, marks the knee (the point past which
// latency rises faster than throughput) and the best throughput, and charts
// throughput against the knob and latency against throughput.
func Sweep(ctx context.Context, s *Session, over string, values []float64, w workloads.Workload, p Params) (*Report, error) {
	if over == "batch" && len(values) == 0 {
		for _, n := range workloads.SweepBatchSizes {
			values = append(values, float64(n))
		}
	}
	if len(values) == 0 {
		return nil, fmt.Errorf("sweep over %s: no values", over)
	}
	knob := map[string]string{"batch": "Batch size", "rate": "Rate (req/s)", "concurrency": "Clients"}[over]
	if knob == "" {
		return nil, fmt.Errorf("sweep over %q: want batch, rate or concurrency", over)
	}
	t := &Table{Title: fmt.Sprintf("Sweep over %s (%s)", knob, s.describe()),
		Headers: []string{knob, "Throughput (req/s)", "Output tok/s", "Avg latency (ms)", "TTFT p50 (ms)", "TTFT p99 (ms)", "E2E p99 (ms)", ""}}
	if !s.Opts.SLO.Empty() {
		t.Headers = append(t.Headers[:len(t.Headers)-1], "Goodput (req/s)", "SLO met", "")
	}
	var rows []map[string]any
	var xs, tput, toks, lat []float64
	for _, v := range values {
		if v <= 0 {
			return nil, fmt.Errorf("sweep value %g: must be positive", v)
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
		run, err := s.Run(ctx, wl, p.Seed)
		if err != nil {
			return nil, fmt.Errorf("%s %g: %w", over, v, err)
		}
		sm := run.Summary
		xs, tput, toks, lat = append(xs, v), append(tput, sm.RPS), append(toks, sm.OutputTPS), append(lat, metrics.Ms(sm.E2E.Mean))
		row := map[string]any{over: v, "throughput_rps": sm.RPS, "throughput_tps": sm.OutputTPS, "avg_latency_ms": metrics.Ms(sm.E2E.Mean),
			"ttft_ms": dist(sm.TTFT), "tpot_ms": dist(sm.TPOT), "e2e_ms": dist(sm.E2E), "generator_lag_ms": dist(run.Lag)}
		if !s.Opts.SLO.Empty() {
			row["goodput_rps"], row["slo_attainment"] = sm.Goodput, sm.Attainment
		}
		rows = append(rows, row)
	}
	knee := Knee(tput, lat)
	best := 0
	for i := range tput {
		if tput[i] > tput[best] {
			best = i
		}
	}
	for i, row := range rows {
		note := ""
		if i == knee {
			note = "← knee"
		}
		if i == best {
			note += " ← best throughput"
		}
		cells := []any{strconv.FormatFloat(xs[i], 'g', -1, 64), tput[i], toks[i], fmt.Sprintf("%.2f", lat[i]),
			fmt.Sprintf("%.2f", row["ttft_ms"].(map[string]any)["p50"]), fmt.Sprintf("%.2f", row["ttft_ms"].(map[string]any)["p99"]),
			fmt.Sprintf("%.2f", row["e2e_ms"].(map[string]any)["p99"])}
		if !s.Opts.SLO.Empty() {
			cells = append(cells, row["goodput_rps"].(float64), fmt.Sprintf("%.0f%%", 100*row["slo_attainment"].(float64)))
		}
		t.Add(append(cells, note)...)
	}
	t.Notes = append(t.Notes, fmt.Sprintf("Best throughput: %s %g (%.2f requests/s).", knob, xs[best], tput[best]))
	if knee >= 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("Knee: %s %g — from here latency rises faster than throughput.", knob, xs[knee]))
	} else {
		t.Notes = append(t.Notes, "No knee: latency never rose faster than throughput.")
	}
	j := s.baseJSON("sweep", nil)
	j["over"], j["results"], j["knee_index"], j["best_index"] = over, rows, knee, best
	if over == "batch" {
		j["best_batch_size"] = int(xs[best])
	}
	if !s.Opts.SLO.Empty() {
		j["slo"] = s.Opts.SLO.String()
	}
	return &Report{Tables: []*Table{t}, JSON: j, Charts: []Chart{
		{Title: "Throughput vs " + knob, XLabel: knob, YLabel: "output tokens/s", Series: []Series{{Name: "output tok/s", X: xs, Y: toks}}, Mark: knee},
		{Title: "Latency vs throughput", XLabel: "requests/s", YLabel: "mean E2E latency (ms)", Series: []Series{{Name: "E2E", X: tput, Y: lat}}, Mark: knee},
	}}, nil
}
