package experiments

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"benchtop/engine"
	"benchtop/report"
	"benchtop/session"
	"benchtop/workloads"
)

// Variant is one named configuration of a comparison.
type Variant struct {
	Name   string
	Config engine.Config
	// NotApplicable, when set, is why the variant cannot run here.
	NotApplicable string
}

// TutorialVariants are the tutorial's four configurations on top of base.
func TutorialVariants(base engine.Config, cudaGraphs bool) []Variant {
	hi, lo, eager, graphs := base, base, base, base
	hi.GPUMemoryUtilization, lo.GPUMemoryUtilization = 0.95, 0.7
	eager.EnforceEager, graphs.EnforceEager = true, false
	vs := []Variant{{Name: "default", Config: base},
		{Name: "gpu_memory_utilization=0.95", Config: hi},
		{Name: "gpu_memory_utilization=0.7", Config: lo}}
	ev := Variant{Name: "enforce_eager=True", Config: eager}
	gv := Variant{Name: "cuda_graphs", Config: graphs}
	if !cudaGraphs {
		ev.NotApplicable = "the CPU backend is always eager"
		gv.NotApplicable = "CUDA graphs need the CUDA backend"
	}
	return append(vs, ev, gv)
}

// Compare runs the same workload under each variant — reconfiguring the
// engine, warming it for the workload's shapes, then measuring p.Repeats
// runs — and prints one table side by side. A throughput whose spread
// overlaps the first configuration's is marked as no measured difference.
func Compare(ctx context.Context, s *session.Session, variants []Variant, w workloads.Workload, p Params) (*report.Report, error) {
	w = w.WithCount(p.Requests)
	t := &report.Table{Title: "Configuration comparison (" + s.Describe() + ", workload " + w.Name + ")",
		Headers: []string{"Configuration", "KV blocks", "Throughput (req/s)", "Output tok/s", "Avg latency (ms)", "TTFT p50 (ms)"}}
	spread := addSpreadColumns(t, p.repeats())
	doc := report.Compare{Header: header(s, "compare", nil), Workload: w.Name, Repeats: p.repeats(), Results: []report.Variant{}}
	base := s.Status().Requested // restored as asked: auto settings stay auto
	measured := 0
	var capped []string // variants whose pool the batch, not the budget, sized
	// stop ends the comparison early: after a stop (session.ErrStopped),
	// with the configurations measured so far, marked partial.
	stop := func(err error) (*report.Report, error) {
		if !errors.Is(err, session.ErrStopped) {
			return nil, err
		}
		t.Title += " — partial"
		t.Notes = append(t.Notes, fmt.Sprintf("Partial: %v; %d configurations measured.", err, measured))
		doc.Partial = true
		return &report.Report{Tables: []*report.Table{t}, Doc: doc}, err
	}
	for _, v := range variants {
		if v.NotApplicable != "" {
			row := []any{v.Name, "-", "n/a", "n/a", "n/a", "n/a"}
			if spread.on {
				row = append(row, "", "")
			}
			t.Add(row...)
			t.Notes = append(t.Notes, fmt.Sprintf("%s: not applicable: %s.", v.Name, v.NotApplicable))
			doc.Results = append(doc.Results, report.Variant{Name: v.Name, NotApplicable: v.NotApplicable})
			continue
		}
		if err := s.Reconfigure(ctx, v.Config, v.Name); err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("%w: %w", session.ErrStopped, err)
			}
			return stop(fmt.Errorf("configuration %s: %w", v.Name, err))
		}
		pt, err := repeat(ctx, s, w, p.Seed, p.repeats())
		if err != nil && pt.first == nil {
			return stop(fmt.Errorf("configuration %s: %w", v.Name, err))
		}
		sm := pt.first.Summary
		st := s.Status()
		plan := st.Plan
		name := v.Name
		if pt.partial {
			name += " (partial)"
		}
		if plan.Capped() {
			capped = append(capped, v.Name)
		}
		row := []any{name, plan.NumBlocks, pt.rps.Mean, pt.tps.Mean, fmt.Sprintf("%.2f", pt.lat.Mean), ms(sm.TTFT.P50)}
		row, within := spread.fill(row, pt)
		t.Add(row...)
		cfg, mem := report.ConfigOf(st.Config), report.MemoryOf(plan) // in force: auto fields resolved
		m := measures(pt.first)
		doc.Results = append(doc.Results, report.Variant{Name: v.Name, Partial: pt.partial, Config: &cfg, Memory: &mem, Measures: &m,
			ThroughputTPS: pt.tps, AvgLatency: pt.lat, WithinSpread: within})
		for _, f := range m.Failures {
			t.Notes = append(t.Notes, fmt.Sprintf("%s: %d %s, e.g. %s", v.Name, f.Count, f.Finish, f.Example))
		}
		if err != nil {
			return stop(fmt.Errorf("configuration %s: %w", v.Name, err))
		}
		measured++
	}
	if err := s.Reconfigure(ctx, base, "restore"); err != nil {
		return nil, err
	}
	if len(capped) > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("KV blocks of %s: capped at what max_num_seqs sequences of max_model_len tokens can use (the %s backend's rule); a gpu_memory_utilization whose budget holds more changes nothing.",
			strings.Join(capped, ", "), s.Device().Backend))
	}
	if p.repeats() > 1 {
		t.Notes = append(t.Notes, fmt.Sprintf("Means of %d warmed repeats; spreads are min–max; \"within spread\": no difference from the first configuration beyond the spread.", p.repeats()))
	}
	return &report.Report{Tables: []*report.Table{t}, Doc: doc}, nil
}

// spreadColumns are the last two columns of a comparison measured with
// repeats: each row's output tokens/s min–max, and how it compares with the
// first row's.
type spreadColumns struct {
	on    bool // more than one repeat: the table has the columns
	first *point
}

// addSpreadColumns heads the columns on t when there are repeats.
func addSpreadColumns(t *report.Table, repeats int) *spreadColumns {
	if repeats > 1 {
		t.Headers = append(t.Headers, "Output tok/s spread", "vs first")
	}
	return &spreadColumns{on: repeats > 1}
}

// fill appends pt's cells to row: its spread, then "—" on the first row,
// "within spread" when the two spreads overlap (within true), else the
// difference of the means in percent. The first row filled is the one the
// others are compared with.
func (c *spreadColumns) fill(row []any, pt point) (out []any, within bool) {
	if c.on {
		vs := "—"
		if c.first != nil {
			if within = pt.tps.Overlaps(c.first.tps); within {
				vs = "within spread"
			} else {
				vs = fmt.Sprintf("%+.1f%%", 100*(pt.tps.Mean/c.first.tps.Mean-1))
			}
		}
		row = append(row, fmt.Sprintf("%.2f–%.2f", pt.tps.Min, pt.tps.Max), vs)
	}
	if c.first == nil {
		c.first = &pt
	}
	return row, within
}
