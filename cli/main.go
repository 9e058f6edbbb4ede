package cli

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/alecthomas/kong"

	"benchtop/engine/model"
)

// CLI is benchtop's command line: one field per command.
type CLI struct {
	Version kong.VersionFlag `help:"print the version and exit"`

	Dash       DashCmd       `cmd:"" default:"withargs" help:"the live dashboard (the default): a workload kept running, charts, keys, snapshots"`
	View       ViewCmd       `cmd:"" help:"reopen a snapshot in the dashboard, read-only"`
	Bench      BenchCmd      `cmd:"" help:"the tutorial's comprehensive benchmark (warm-up, then 100 prompts, every metric)"`
	Throughput ThroughputCmd `cmd:"" help:"the tutorial's throughput test (100 prompts at once: requests/s, tokens/s)"`
	Latency    LatencyCmd    `cmd:"" help:"the tutorial's latency test (one request, 100 tokens, end to end)"`
	TTFT       TTFTCmd       `cmd:"" name:"ttft" help:"time to first token of short requests on an idle engine"`
	Run        RunCmd        `cmd:"" help:"any workload (built-in or dataset, any arrival process and lengths) with every metric, SLOs and generator lag"`
	Sweep      SweepCmd      `cmd:"" help:"sweep batch size (the tutorial's), request rate or concurrency; the knee, charts, --report HTML"`
	Memory     MemoryCmd     `cmd:"" help:"memory efficiency: weights, KV cache, blocks, capacity, max concurrent sequences"`
	Compare    CompareCmd    `cmd:"" help:"configurations side by side on one workload (the tutorial's four, or --config NAME:flag=v,...)"`
	Diff       DiffCmd       `cmd:"" help:"compare two JSON files (snapshots or reports) metric by metric"`
	Workloads  WorkloadsCmd  `cmd:"" help:"list the built-in workloads"`
	Logits     LogitsCmd     `cmd:"" help:"print last-position logits and greedy tokens for token ids (model checks)"`
	Tokenize   TokenizeCmd   `cmd:"" help:"encode text to token ids (--text, --dataset) or ids to text (--decode); or a workload's requests as the engine runs them"`
	Serve      ServeCmd      `cmd:"" help:"the engine as an OpenAI-compatible server (/v1/completions, /v1/chat/completions, /v1/models, /health, vLLM's /metrics)"`
	Metrics    MetricsCmd    `cmd:"" help:"fetch a server's Prometheus /metrics once and print benchtop's gauges mapped from it"`
}

// exitTrap carries kong's exit code out of a parse (help, version).
type exitTrap int

// Version is benchtop's version: the module version or VCS revision the
// binary was built from.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "benchtop (unknown version)"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
		if s.Key == "vcs.modified" && s.Value == "true" {
			v += "+dirty"
		}
	}
	return "benchtop " + strings.TrimSpace(v) + " (" + bi.GoVersion + ")"
}

// Main runs benchtop with args (without the program name) and returns the
// exit code: 0, 1 for an error, 2 for bad usage, 130 after SIGINT, 143
// after SIGTERM.
//
// Everything a command prints goes through one checked writer: when a
// write to stdout fails, the command exits 1 saying so, whatever it printed.
func Main(args []string, stdout, stderr io.Writer) (code int) {
	var c CLI
	out := &checkedWriter{w: stdout}
	defer func() {
		if r := recover(); r != nil {
			t, ok := r.(exitTrap)
			if !ok {
				panic(r)
			}
			code = int(t)
			if err := out.failed(); err != nil && code == 0 { // --help or --version, lost
				fmt.Fprintf(stderr, "benchtop: %v\n", err)
				code = 1
			}
		}
	}()
	parser, err := kong.New(&c, kong.Name("benchtop"),
		kong.Description("benchtop: watch LLM inference performance on benchtop's own engine. No command: dash, the live dashboard."),
		kong.Writers(out, stderr), kong.Exit(func(code int) { panic(exitTrap(code)) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: true}),
		kong.Vars{"version": Version(), "presets": strings.Join(model.PresetNames(), ", "), "workload_default": "bench"})
	if err != nil {
		fmt.Fprintf(stderr, "benchtop: %v\n", err)
		return 1
	}
	kctx, err := parser.Parse(args)
	if lost := out.failed(); lost != nil { // the help kong printed, lost
		fmt.Fprintf(stderr, "benchtop: %v\n", lost)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "benchtop: %v\n", err)
		if pe := (*kong.ParseError)(nil); errors.As(err, &pe) && pe.Context != nil {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", strings.TrimSpace("benchtop "+commandName(pe.Context)))
		}
		return 2
	}
	e := newEnv(out, stderr)
	e.terminal = stdout
	stop := e.watch()
	defer stop()
	return e.exitCode(commandName(kctx), out.withOutput(kctx.Run(e)))
}

// commandName is the command k selected ("" before one was: a flag of
// benchtop's own that did not parse).
func commandName(k *kong.Context) string {
	if f := strings.Fields(k.Command()); len(f) > 0 {
		return f[0]
	}
	return ""
}
