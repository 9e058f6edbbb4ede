package experiments

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"benchtop/metrics"
	"benchtop/report"
	"benchtop/session"
	"benchtop/workloads"
)

func runNamed(ctx context.Context, s *session.Session, name string, p Params) (*session.RunResult, error) {
	w, err := workloads.Lookup(name)
	if err != nil {
		return nil, err
	}
	return measure(ctx, s, w.WithCount(p.Requests), p.Seed)
}

// Throughput is the tutorial's throughput test: N prompts at once, wall time
// around the whole run.
func Throughput(ctx context.Context, s *session.Session, p Params) (*report.Report, error) {
	run, err := runNamed(ctx, s, "throughput", p)
	if run == nil {
		return nil, err
	}
	m := measures(run)
	t := runTable("Throughput ("+s.Describe()+")", run, "Metric", "Value")
	t.Add("Requests", m.NumRequests)
	t.AddFailures(m.Failures)
	t.Add("Output tokens", m.OutputTokens)
	t.Add("Wall time (s)", fmt.Sprintf("%.3f", run.Wall.Seconds()))
	t.Add("Throughput (requests/s)", m.ThroughputRPS)
	t.Add("Output tokens/s", m.ThroughputTPS)
	t.Add("Total tokens/s (prompt + output)", m.TotalTPS)
	return &report.Report{Tables: []*report.Table{t}, Doc: runDoc(s, "throughput", run)}, err
}

// Latency is the tutorial's latency test: one request, end to end.
func Latency(ctx context.Context, s *session.Session, p Params) (*report.Report, error) {
	run, err := runNamed(ctx, s, "latency", p)
	if run == nil {
		return nil, err
	}
	sm, m := run.Summary, measures(run)
	t := runTable("Latency ("+s.Describe()+")", run, "Metric", "Value")
	t.Add("Requests", m.NumRequests)
	t.AddFailures(m.Failures)
	t.Add("Output tokens", sm.OutputTokens)
	t.Add("End-to-end latency (ms)", ms(sm.E2E.Mean))
	t.Add("Time to first token (ms)", ms(sm.TTFT.Mean))
	t.Add("Time per output token (ms)", ms(sm.TPOT.Mean))
	t.Add("Tokens/s (one request)", sm.OutputTPS)
	return &report.Report{Tables: []*report.Table{t}, Doc: runDoc(s, "latency", run)}, err
}

// TTFT measures time to first token, one short request at a time on an idle
// engine, and reports its distribution.
func TTFT(ctx context.Context, s *session.Session, p Params) (*report.Report, error) {
	run, err := runNamed(ctx, s, "ttft", p)
	if run == nil {
		return nil, err
	}
	d := run.Summary.TTFT
	t := runTable("Time to first token ("+s.Describe()+")", run, "Statistic", "TTFT (ms)")
	t.Add("mean", ms(d.Mean))
	t.Add("p50", ms(d.P50))
	t.Add("p90", ms(d.P90))
	t.Add("p99", ms(d.P99))
	t.Add("max", ms(d.Max))
	t.AddFailures(run.Failures)
	t.Notes = append(t.Notes, fmt.Sprintf("%d requests; TTFT is arrival → first output token, queueing included.", d.Count))
	return &report.Report{Tables: []*report.Table{t}, Doc: runDoc(s, "ttft", run)}, err
}

// Bench is the tutorial's comprehensive benchmark: the tutorial's warm-up
// requests, then N prompts at once (warmed for their shapes), with every
// metric and the decode step against its roofline.
func Bench(ctx context.Context, s *session.Session, p Params) (*report.Report, error) {
	var run *session.RunResult
	var err error
	if p.Warmup > 0 {
		w, _ := workloads.Lookup("bench")
		if _, err = s.Run(ctx, w.WithCount(p.Warmup), p.Seed+1); err != nil {
			run, err = stoppedEarly("bench", fmt.Errorf("warm-up: %w", err))
		}
	}
	if run == nil && err == nil {
		run, err = runNamed(ctx, s, "bench", p)
	}
	if run == nil {
		return nil, err
	}
	doc := runDoc(s, "bench", run)
	rep := &report.Report{Tables: runTables(s, "Comprehensive benchmark", run)}
	if !run.Partial {
		rf, ok, err := roofline(ctx, s, run.Start)
		if err != nil {
			return nil, err
		}
		if ok {
			rep.Tables = append(rep.Tables, rooflineTable(rf))
			doc.Roofline = &rf
		}
	}
	rep.Doc = doc
	return rep, err
}

// runTables are a run's comprehensive tables: totals and rates, SLO goodput
// when set, the generator's lag for open-loop arrivals, and percentiles.
func runTables(s *session.Session, title string, run *session.RunResult) []*report.Table {
	sm, m := run.Summary, measures(run)
	t := runTable(title+" ("+s.Describe()+")", run, "Metric", "Value")
	t.Add("Requests", m.NumRequests)
	t.AddFailures(m.Failures)
	t.Add("Prompt tokens", sm.PromptTokens)
	t.Add("Output tokens", sm.OutputTokens)
	t.Add("Wall time (s)", fmt.Sprintf("%.3f", run.Wall.Seconds()))
	t.Add("Throughput (requests/s)", m.ThroughputRPS)
	t.Add("Output tokens/s", sm.OutputTPS)
	t.Add("Total tokens/s", sm.TotalTPS)
	t.Add("Average latency (ms)", ms(sm.E2E.Mean))
	t.Add("Preemptions", sm.Preemptions)
	if !sm.SLO.Empty() {
		t.Add("SLO ("+sm.SLO.String()+") met", fmt.Sprintf("%.1f%%", 100*sm.Attainment))
		t.Add("Goodput (requests/s meeting the SLO)", sm.Goodput)
	}
	if run.Lag.Count > 0 {
		t.Add("Generator lag p50 / p99 / max (ms)", fmt.Sprintf("%s / %s / %s", ms(run.Lag.P50), ms(run.Lag.P99), ms(run.Lag.Max)))
	}
	if !s.Remote() {
		t.Add("Device memory allocated (GB)", fmt.Sprintf("%.3f", float64(deviceMemory(s))/1e9))
	}
	if u, why, ok := gpuUtilization(s, run); ok {
		t.Add("GPU utilization (%, NVML mean)", fmt.Sprintf("%.1f", u))
	} else {
		t.Add("GPU utilization (%)", why)
	}
	pt := &report.Table{Title: "Latency percentiles (ms)", Headers: []string{"Metric", "n", "mean", "p50", "p90", "p99", "max"}}
	for _, row := range []struct {
		name string
		d    metrics.Dist
	}{{"TTFT", sm.TTFT}, {"TPOT", sm.TPOT}, {"ITL", sm.ITL}, {"E2E", sm.E2E}} {
		pt.Add(row.name, row.d.Count, ms(row.d.Mean), ms(row.d.P50), ms(row.d.P90), ms(row.d.P99), ms(row.d.Max))
	}
	tables := []*report.Table{t, pt}
	if st := sourcesTable(s, run); st != nil {
		tables = append(tables, st)
	}
	return tables
}

// sourcesTable is a run's row per replica or target (nil for one
// in-process engine).
func sourcesTable(s *session.Session, run *session.RunResult) *report.Table {
	rows, err := s.SourcesOver(context.Background(), run.Start, run.Wall)
	if err != nil || rows == nil {
		return nil
	}
	title := "Per replica"
	if s.Remote() {
		title = "Per target"
	}
	t := &report.Table{Title: fmt.Sprintf("%s (%s)", title, s.Pool().Policy()),
		Headers: []string{"Source", "State", "Requests", "Failed", "Output tokens", "Output tok/s"}}
	var downs []string
	for _, r := range rows {
		state := "up"
		if !r.Up {
			// The table keeps its width: the cause in a few words; the
			// whole chain is the note's (and the JSON's "why").
			state = "down: " + shortCause(r.Why)
			downs = append(downs, fmt.Sprintf("%s is down: %s.", r.Name, r.Why))
		}
		t.Add(r.Name, state, r.Finished, r.Failed, r.OutputTok, r.OutputTPS)
	}
	t.Notes = append(t.Notes, downs...)
	t.Notes = append(t.Notes, fmt.Sprintf("Imbalance (busiest source's output tok/s over the mean, less one): %.3f.", report.Imbalance(rows)))
	return t
}

// maxCause is the most a table cell gives a failure's cause.
const maxCause = 48

// shortCause is a failure's cause in a few words for a table cell: the
// innermost error of the chain ("connection refused", "unexpected EOF"),
// or, where that is long or not words (a server's JSON body), the failure's
// kind ("http_5xx (HTTP 503)"), cut to maxCause.
func shortCause(why string) string {
	why = strings.TrimSpace(why)
	kind, _, _ := strings.Cut(why, ": ")
	cause := why
	if i := strings.LastIndex(why, ": "); i >= 0 {
		cause = strings.TrimSpace(why[i+2:])
	}
	if cause == "" || utf8.RuneCountInString(cause) > maxCause || strings.ContainsAny(cause, "{}[]\"\n") {
		cause = kind
	}
	if r := []rune(cause); len(r) > maxCause {
		cause = string(r[:maxCause-1]) + "…"
	}
	if cause == "" {
		return "unknown"
	}
	return cause
}

// RunReport runs any workload (warmed) and reports every metric.
func RunReport(ctx context.Context, s *session.Session, w workloads.Workload, p Params) (*report.Report, error) {
	run, err := measure(ctx, s, w.WithCount(p.Requests), p.Seed)
	if run == nil {
		return nil, err
	}
	doc := runDoc(s, "run", run)
	doc.Description = w.Description
	rep := &report.Report{Tables: runTables(s, "Workload "+w.Name, run), Doc: doc}
	rep.Tables[0].Notes = append(rep.Tables[0].Notes, w.Description)
	return rep, err
}
