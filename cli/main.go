package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"benchtop/experiments"
	"benchtop/report"
	"benchtop/session"
	"benchtop/workloads"
)

type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"dash", "the live dashboard (the default): a workload kept running, charts, keys, snapshots", runDash},
		{"view", "reopen a snapshot in the dashboard, read-only", runView},
		{"bench", "the tutorial's comprehensive benchmark (warm-up, then 100 prompts, every metric)", runBench},
		{"throughput", "the tutorial's throughput test (100 prompts at once: requests/s, tokens/s)", runThroughput},
		{"latency", "the tutorial's latency test (one request, 100 tokens, end to end)", runLatency},
		{"ttft", "time to first token of short requests on an idle engine", runTTFT},
		{"run", "any workload (built-in or dataset, any arrival process and lengths) with every metric, SLOs and generator lag", runRun},
		{"sweep", "sweep batch size (the tutorial's), request rate or concurrency; the knee, charts, --report HTML", runSweep},
		{"memory", "memory efficiency: weights, KV cache, blocks, capacity, max concurrent sequences", runMemory},
		{"compare", "configurations side by side on one workload (the tutorial's four, or --config NAME:flag=v,...)", runCompare},
		{"diff", "compare two JSON files (snapshots or reports) metric by metric", runDiff},
		{"workloads", "list the built-in workloads", runWorkloads},
		{"logits", "print last-position logits and greedy tokens for token ids (model checks)", runLogits},
		{"tokenize", "print a workload's prompts as token ids (for peers run on the same requests)", runTokenize},
	}
}

// errUsage marks an error whose message already went out with the usage.
var errUsage = errors.New("usage")

// Main runs benchtop with args (without the program name) and returns the
// exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (len(args[0]) > 0 && args[0][0] == '-') {
		args = append([]string{"dash"}, args...) // flags alone go to the dashboard
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == name {
			err := c.run(args[1:], stdout, stderr)
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				return 2
			}
			fmt.Fprintf(stderr, "benchtop %s: %v\n", name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "benchtop: unknown command %q\n\n", name)
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "benchtop: watch LLM inference performance on benchtop's own engine.")
	fmt.Fprintln(w, "\nUsage: benchtop [command] [flags]   (no command: dash, the live dashboard)")
	fmt.Fprintln(w, "\nCommands:")
	cs := commands()
	for _, c := range cs {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'benchtop COMMAND -h' for a command's flags.")
}

// parse parses flags; a parse error has already been printed with usage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return errUsage
	}
	return nil
}

// signalContext ends on Ctrl-C so a long run stops cleanly.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

// experiment is the shape shared by the subcommands that run one report.
// wf, when not nil, are the command's workload flags (checked before the
// model loads, their SLOs applied); report is its --report path.
func experiment(name string, args []string, stdout, stderr io.Writer, extra func(*flag.FlagSet),
	run func(ctx context.Context, s *session.Session, c *common) (*report.Report, error),
	wf *workloadFlags, reportPath *string) error {
	c, opts, err := setup(name, args, stderr, extra, wf)
	if err != nil {
		return err
	}
	if reportPath != nil && *reportPath != "" {
		if !strings.HasSuffix(*reportPath, ".html") {
			return fmt.Errorf("--report %s: give a .html file name", *reportPath)
		}
		if err := report.CheckWritable(*reportPath); err != nil {
			return err
		}
	}
	s, err := session.Open(opts)
	if err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	rep, err := run(ctx, s, c)
	if cerr := s.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	rep.Print(stdout)
	if c.jsonPath != "" {
		if err := rep.WriteJSON(c.jsonPath); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "benchtop: wrote %s\n", c.jsonPath)
	}
	return nil
}

func runBench(args []string, stdout, stderr io.Writer) error {
	var warmup int
	return experiment("bench", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&warmup, "warmup", 10, "warm-up requests before measuring")
	}, func(ctx context.Context, s *session.Session, c *common) (*report.Report, error) {
		if warmup < 0 {
			return nil, fmt.Errorf("--warmup %d: must not be negative", warmup)
		}
		p := c.params()
		p.Warmup = warmup
		return experiments.Bench(ctx, s, p)
	}, nil, nil)
}

func runThroughput(args []string, stdout, stderr io.Writer) error {
	return experiment("throughput", args, stdout, stderr, nil, func(ctx context.Context, s *session.Session, c *common) (*report.Report, error) {
		return experiments.Throughput(ctx, s, c.params())
	}, nil, nil)
}

func runLatency(args []string, stdout, stderr io.Writer) error {
	return experiment("latency", args, stdout, stderr, nil, func(ctx context.Context, s *session.Session, c *common) (*report.Report, error) {
		return experiments.Latency(ctx, s, c.params())
	}, nil, nil)
}

func runTTFT(args []string, stdout, stderr io.Writer) error {
	return experiment("ttft", args, stdout, stderr, nil, func(ctx context.Context, s *session.Session, c *common) (*report.Report, error) {
		return experiments.TTFT(ctx, s, c.params())
	}, nil, nil)
}

func runSweep(args []string, stdout, stderr io.Writer) error {
	var over, values, reportPath string
	var wf workloadFlags
	return experiment("sweep", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&over, "over", "batch", "what to sweep: batch, rate or concurrency")
		fs.StringVar(&values, "values", "", "comma-separated values (batch default: 1,5,10,20,50,100)")
		fs.StringVar(&values, "batch-sizes", "", "the same as --values, for --over batch")
		fs.StringVar(&reportPath, "report", "", "also write an HTML report with SVG charts (and .json, .csv beside it) to `FILE.html`")
		wf.register(fs, "chat")
	}, func(ctx context.Context, s *session.Session, c *common) (*report.Report, error) {
		var vals []float64
		if values != "" {
			var err error
			if vals, err = parseFloats(values); err != nil {
				return nil, fmt.Errorf("--values: %w", err)
			}
		} else if over != "batch" {
			return nil, fmt.Errorf("--values: required for --over %s", over)
		}
		w, err := wf.build(s)
		if err != nil {
			return nil, err
		}
		rep, err := experiments.Sweep(ctx, s, over, vals, w, c.params())
		if err != nil {
			return nil, err
		}
		return rep, writeReport(rep, reportPath, stderr)
	}, &wf, &reportPath)
}

func runRun(args []string, stdout, stderr io.Writer) error {
	var wf workloadFlags
	var reportPath string
	return experiment("run", args, stdout, stderr, func(fs *flag.FlagSet) {
		wf.register(fs, "chat")
		fs.StringVar(&reportPath, "report", "", "also write an HTML report (and .json, .csv beside it) to `FILE.html`")
	}, func(ctx context.Context, s *session.Session, c *common) (*report.Report, error) {
		w, err := wf.build(s)
		if err != nil {
			return nil, err
		}
		rep, err := experiments.RunReport(ctx, s, w, c.params())
		if err != nil {
			return nil, err
		}
		return rep, writeReport(rep, reportPath, stderr)
	}, &wf, &reportPath)
}

func writeReport(rep *report.Report, path string, stderr io.Writer) error {
	if path == "" {
		return nil
	}
	files, err := rep.WriteHTML(path)
	for _, f := range files {
		fmt.Fprintf(stderr, "benchtop: wrote %s\n", f)
	}
	return err
}

func runMemory(args []string, stdout, stderr io.Writer) error {
	var workload string
	return experiment("memory", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&workload, "workload", "bench", "workload whose lengths size the concurrency estimate")
	}, func(ctx context.Context, s *session.Session, c *common) (*report.Report, error) {
		return experiments.Memory(ctx, s, workload, c.params())
	}, nil, nil)
}

func runCompare(args []string, stdout, stderr io.Writer) error {
	var configs multiFlag
	var wf workloadFlags
	var reportPath string
	return experiment("compare", args, stdout, stderr, func(fs *flag.FlagSet) {
		wf.register(fs, "throughput")
		fs.Var(&configs, "config", "a named configuration, `NAME:flag=value,...` (engine flags: max-num-seqs, max-num-batched-tokens, gpu-memory-utilization, block-size, max-model-len, enforce-eager, chunked-prefill); repeat it; none: the tutorial's four")
		fs.StringVar(&reportPath, "report", "", "also write an HTML report (and .json, .csv beside it) to `FILE.html`")
	}, func(ctx context.Context, s *session.Session, c *common) (*report.Report, error) {
		w, err := wf.build(s)
		if err != nil {
			return nil, err
		}
		vs := experiments.TutorialVariants(c.cfg, s.Device().CUDAGraphs)
		if len(configs) > 0 {
			vs = nil
			for _, spec := range configs {
				v, err := parseVariant(spec, c.cfg)
				if err != nil {
					return nil, fmt.Errorf("--config %q: %w", spec, err)
				}
				vs = append(vs, v)
			}
		}
		rep, err := experiments.Compare(ctx, s, vs, w, c.params())
		if err != nil {
			return nil, err
		}
		return rep, writeReport(rep, reportPath, stderr)
	}, &wf, &reportPath)
}

func runWorkloads(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("workloads", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	for i, w := range workloads.Builtin() {
		fmt.Fprintf(stdout, "%2d %-14s %s\n", i+1, w.Name, w.Description)
	}
	fmt.Fprintln(stdout, "\nShape any of them (run, sweep, compare, dash): --arrival all | closed:N | constant:RATE | poisson:RATE |")
	fmt.Fprintln(stdout, "gamma:RATE:CV | ramp:FROM:TO:SECONDS | trace; --prompt-len / --output-len fixed:N | uniform:A:B |")
	fmt.Fprintln(stdout, "normal:MEAN:STD | lognormal:MEAN:SIGMA | sharegpt; --dataset FILE.json (ShareGPT) or FILE.jsonl.")
	return nil
}
