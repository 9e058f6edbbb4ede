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
		{"sweep", "the tutorial's batch-size sweep (1, 5, 10, 20, 50, 100) and the best batch size", runSweep},
		{"memory", "memory efficiency: weights, KV cache, blocks, capacity, max concurrent sequences", runMemory},
		{"compare", "the tutorial's configurations side by side (memory utilization, eager vs CUDA graphs)", runCompare},
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
func experiment(name string, args []string, stdout, stderr io.Writer, extra func(*flag.FlagSet),
	run func(ctx context.Context, s *experiments.Session, c *common) (*experiments.Report, error)) error {
	var c common
	fs := newFlagSet(name, stderr)
	c.register(fs)
	if extra != nil {
		extra(fs)
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	s, err := experiments.Open(c.options(stderr))
	if err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	rep, err := run(ctx, s, &c)
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
	}, func(ctx context.Context, s *experiments.Session, c *common) (*experiments.Report, error) {
		if warmup < 0 {
			return nil, fmt.Errorf("--warmup %d: must not be negative", warmup)
		}
		p := c.params()
		p.Warmup = warmup
		return experiments.Bench(ctx, s, p)
	})
}

func runThroughput(args []string, stdout, stderr io.Writer) error {
	return experiment("throughput", args, stdout, stderr, nil, func(ctx context.Context, s *experiments.Session, c *common) (*experiments.Report, error) {
		return experiments.Throughput(ctx, s, c.params())
	})
}

func runLatency(args []string, stdout, stderr io.Writer) error {
	return experiment("latency", args, stdout, stderr, nil, func(ctx context.Context, s *experiments.Session, c *common) (*experiments.Report, error) {
		return experiments.Latency(ctx, s, c.params())
	})
}

func runTTFT(args []string, stdout, stderr io.Writer) error {
	return experiment("ttft", args, stdout, stderr, nil, func(ctx context.Context, s *experiments.Session, c *common) (*experiments.Report, error) {
		return experiments.TTFT(ctx, s, c.params())
	})
}

func runSweep(args []string, stdout, stderr io.Writer) error {
	var sizes string
	return experiment("sweep", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&sizes, "batch-sizes", "1,5,10,20,50,100", "comma-separated batch sizes")
	}, func(ctx context.Context, s *experiments.Session, c *common) (*experiments.Report, error) {
		ns, err := parseInts(sizes)
		if err != nil {
			return nil, fmt.Errorf("--batch-sizes: %w", err)
		}
		return experiments.Sweep(ctx, s, ns, c.params())
	})
}

func runMemory(args []string, stdout, stderr io.Writer) error {
	var workload string
	return experiment("memory", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&workload, "workload", "bench", "workload whose lengths size the concurrency estimate")
	}, func(ctx context.Context, s *experiments.Session, c *common) (*experiments.Report, error) {
		return experiments.Memory(ctx, s, workload, c.params())
	})
}

func runCompare(args []string, stdout, stderr io.Writer) error {
	var workload string
	return experiment("compare", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&workload, "workload", "throughput", "workload every configuration runs")
	}, func(ctx context.Context, s *experiments.Session, c *common) (*experiments.Report, error) {
		if _, err := workloads.Lookup(workload); err != nil {
			return nil, err
		}
		vs := experiments.TutorialVariants(c.cfg, s.Backend.Info().CUDAGraphs)
		return experiments.Compare(ctx, s, vs, workload, c.params())
	})
}

func runWorkloads(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("workloads", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	for _, w := range workloads.Builtin() {
		fmt.Fprintf(stdout, "%-12s %s\n", w.Name, w.Description)
	}
	return nil
}
