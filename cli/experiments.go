package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"benchtop/experiments"
	"benchtop/report"
	"benchtop/session"
)

// experiment is the shape every measuring command shares: check the flags
// (wf and reportPath when the command has them), open a session, run, close
// it, print the report and write its files. A run stopped by a signal
// (SIGINT, SIGTERM, SIGHUP) or an error still prints and writes what
// finished, marked partial, and the stop becomes the exit code.
func experiment(e *env, f *EngineFlags, wf *WorkloadFlags, reportPath string,
	run func(ctx context.Context, s *session.Session) (*report.Report, error)) error {
	if err := f.check(); err != nil {
		return err
	}
	opts := f.options(e)
	if wf != nil {
		if err := wf.check(); err != nil {
			return err
		}
		opts.SLO = wf.objectives
	}
	if reportPath != "" {
		if !strings.HasSuffix(reportPath, ".html") {
			return fmt.Errorf("--report %s: give a .html file name", reportPath)
		}
		if err := report.CheckWritable(reportPath); err != nil {
			return err
		}
	}
	ctx, stop := e.context() // before the model loads: a signal then still stops cleanly
	defer stop()
	s, err := session.Open(opts)
	if err != nil {
		return e.interrupted(err)
	}
	var rep *report.Report
	if err = ctx.Err(); err == nil { // not stopped while the model loaded
		rep, err = run(ctx, s)
	}
	stop()
	if cerr := s.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if rep == nil {
		return e.interrupted(err)
	}
	if err != nil {
		rep.MarkPartial(e.stoppedBy(err))
	}
	return errors.Join(e.interrupted(err), writeReport(e, rep, f.JSON, reportPath))
}

// tutorialTest runs one of the tutorial's fixed tests (throughput, latency,
// TTFT) with the engine flags' parameters.
func tutorialTest(e *env, f *EngineFlags, test func(context.Context, *session.Session, experiments.Params) (*report.Report, error)) error {
	return experiment(e, f, nil, "", func(ctx context.Context, s *session.Session) (*report.Report, error) {
		return test(ctx, s, f.params())
	})
}

// writeReport prints rep and writes its JSON and HTML files where asked.
func writeReport(e *env, rep *report.Report, jsonPath, htmlPath string) error {
	rep.Print(e.stdout)
	if jsonPath != "" {
		if err := rep.WriteJSON(jsonPath); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "benchtop: wrote %s\n", jsonPath)
	}
	if htmlPath != "" {
		files, err := rep.WriteHTML(htmlPath)
		for _, p := range files {
			fmt.Fprintf(e.stderr, "benchtop: wrote %s\n", p)
		}
		return err
	}
	return nil
}

// BenchCmd is the tutorial's comprehensive benchmark.
type BenchCmd struct {
	EngineFlags `embed:""`
	Warmup      int `default:"10" help:"the tutorial's warm-up requests before measuring"`
}

func (c *BenchCmd) Run(e *env) error {
	if c.Warmup < 0 {
		return fmt.Errorf("--warmup %d: must not be negative", c.Warmup)
	}
	return experiment(e, &c.EngineFlags, nil, "", func(ctx context.Context, s *session.Session) (*report.Report, error) {
		p := c.params()
		p.Warmup = c.Warmup
		return experiments.Bench(ctx, s, p)
	})
}

// ThroughputCmd is the tutorial's throughput test.
type ThroughputCmd struct {
	EngineFlags `embed:""`
}

func (c *ThroughputCmd) Run(e *env) error {
	return tutorialTest(e, &c.EngineFlags, experiments.Throughput)
}

// LatencyCmd is the tutorial's latency test.
type LatencyCmd struct {
	EngineFlags `embed:""`
}

func (c *LatencyCmd) Run(e *env) error {
	return tutorialTest(e, &c.EngineFlags, experiments.Latency)
}

// TTFTCmd measures time to first token.
type TTFTCmd struct {
	EngineFlags `embed:""`
}

func (c *TTFTCmd) Run(e *env) error {
	return tutorialTest(e, &c.EngineFlags, experiments.TTFT)
}

// RunCmd runs any workload.
type RunCmd struct {
	EngineFlags   `embed:""`
	WorkloadFlags `embed:"" set:"workload_default=chat"`
	Report        string `placeholder:"FILE.html" help:"also write an HTML report (and .json, .csv beside it)"`
}

func (c *RunCmd) Run(e *env) error {
	return experiment(e, &c.EngineFlags, &c.WorkloadFlags, c.Report, func(ctx context.Context, s *session.Session) (*report.Report, error) {
		w, err := c.build(s.Vocab(), e.stderr)
		if err != nil {
			return nil, err
		}
		// Counted here, so the report's description says the count run.
		return experiments.RunReport(ctx, s, w.WithCount(c.Requests), c.params())
	})
}

// SweepCmd sweeps batch size, rate or concurrency.
type SweepCmd struct {
	EngineFlags   `embed:""`
	WorkloadFlags `embed:"" set:"workload_default=chat"`
	Over          string `default:"batch" help:"what to sweep: batch, rate or concurrency"`
	Values        string `placeholder:"LIST" help:"comma-separated values (batch default: 1,5,10,20,50,100)"`
	BatchSizes    string `placeholder:"LIST" help:"the same as --values, for --over batch"`
	Repeats       int    `default:"1" help:"measured runs per value (warmed); with 2 or more, the spread is reported and differences within it marked"`
	Report        string `placeholder:"FILE.html" help:"also write an HTML report with SVG charts (and .json, .csv beside it)"`
}

func (c *SweepCmd) Run(e *env) error {
	values := c.Values
	if values == "" {
		values = c.BatchSizes
	}
	if c.Over != "batch" && c.Over != "rate" && c.Over != "concurrency" {
		return fmt.Errorf("--over %q: want batch, rate or concurrency", c.Over)
	}
	var vals []float64
	if values != "" {
		var err error
		if vals, err = parseSweepValues(c.Over, values); err != nil {
			return fmt.Errorf("--values: %w", err)
		}
	} else if c.Over != "batch" {
		return fmt.Errorf("--values: required for --over %s", c.Over)
	}
	if c.Repeats < 1 {
		return fmt.Errorf("--repeats %d: must be at least 1", c.Repeats)
	}
	return experiment(e, &c.EngineFlags, &c.WorkloadFlags, c.Report, func(ctx context.Context, s *session.Session) (*report.Report, error) {
		w, err := c.build(s.Vocab(), e.stderr)
		if err != nil {
			return nil, err
		}
		p := c.params()
		p.Repeats = c.Repeats
		return experiments.Sweep(ctx, s, c.Over, vals, w, p)
	})
}

// MemoryCmd reports memory efficiency.
type MemoryCmd struct {
	EngineFlags `embed:""`
	Workload    string `default:"bench" help:"workload whose lengths size the concurrency estimate"`
}

func (c *MemoryCmd) Run(e *env) error {
	return experiment(e, &c.EngineFlags, nil, "", func(ctx context.Context, s *session.Session) (*report.Report, error) {
		return experiments.Memory(ctx, s, c.Workload, c.params())
	})
}

// CompareCmd runs configurations side by side.
type CompareCmd struct {
	EngineFlags   `embed:""`
	WorkloadFlags `embed:"" set:"workload_default=throughput"`
	Config        []string `sep:"none" placeholder:"NAME:flag=value,..." help:"a named configuration (engine flags: max-num-seqs, max-num-batched-tokens, gpu-memory-utilization, block-size, max-model-len, enforce-eager, chunked-prefill); repeat it; none: the tutorial's four"`
	Repeats       int      `default:"1" help:"measured runs per configuration (warmed); with 2 or more, the spread is reported and differences within it marked"`
	Report        string   `placeholder:"FILE.html" help:"also write an HTML report (and .json, .csv beside it)"`
}

func (c *CompareCmd) Run(e *env) error {
	if c.Repeats < 1 {
		return fmt.Errorf("--repeats %d: must be at least 1", c.Repeats)
	}
	if len(c.Target) > 0 && len(c.Config) > 0 {
		return fmt.Errorf("--config changes the in-process engine; with --target each server is a configuration")
	}
	base := c.config()
	var vs []experiments.Variant
	for _, spec := range c.Config {
		v, err := parseVariant(spec, base)
		if err != nil {
			return fmt.Errorf("--config %q: %w", spec, err)
		}
		vs = append(vs, v)
	}
	return experiment(e, &c.EngineFlags, &c.WorkloadFlags, c.Report, func(ctx context.Context, s *session.Session) (*report.Report, error) {
		w, err := c.build(s.Vocab(), e.stderr)
		if err != nil {
			return nil, err
		}
		p := c.params()
		p.Repeats = c.Repeats
		if s.Remote() {
			return experiments.CompareTargets(ctx, s, w, p)
		}
		if len(vs) == 0 {
			vs = experiments.TutorialVariants(base, s.Device().CUDAGraphs)
		}
		return experiments.Compare(ctx, s, vs, w, p)
	})
}
