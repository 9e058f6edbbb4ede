package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"benchtop/engine"
	"benchtop/engine/model"
	"benchtop/experiments"
	"benchtop/report"
	"benchtop/session"
)

// common are the flags every engine subcommand takes.
type common struct {
	model     string
	device    string
	cpuMemGiB float64
	cfg       engine.Config
	jsonPath  string
	requests  int
	quiet     bool
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func (c *common) register(fs *flag.FlagSet) {
	c.cfg = engine.DefaultConfig()
	fs.StringVar(&c.model, "model", model.DefaultPreset, "preset ("+strings.Join(model.PresetNames(), ", ")+") or Hugging Face model folder (config.json + *.safetensors)")
	fs.StringVar(&c.device, "device", "auto", "auto, cpu or cuda")
	fs.Float64Var(&c.cpuMemGiB, "cpu-memory", 4, "memory budget of the CPU backend in GiB (the KV pool is sized against it)")
	fs.IntVar(&c.cfg.MaxNumSeqs, "max-num-seqs", c.cfg.MaxNumSeqs, "maximum sequences per step (the batch size)")
	fs.IntVar(&c.cfg.MaxNumBatchedTokens, "max-num-batched-tokens", c.cfg.MaxNumBatchedTokens, "maximum tokens per step")
	fs.Float64Var(&c.cfg.GPUMemoryUtilization, "gpu-memory-utilization", c.cfg.GPUMemoryUtilization, "fraction of device memory for weights, activations and KV cache")
	fs.IntVar(&c.cfg.BlockSize, "block-size", c.cfg.BlockSize, "tokens per KV-cache block")
	fs.IntVar(&c.cfg.MaxModelLen, "max-model-len", 0, "maximum tokens per sequence (0: the model's)")
	fs.BoolVar(&c.cfg.EnforceEager, "enforce-eager", false, "disable CUDA graphs")
	fs.BoolVar(&c.cfg.EnableChunkedPrefill, "chunked-prefill", true, "split long prompts over several steps")
	fs.Uint64Var(&c.cfg.Seed, "seed", 0, "seed for synthetic weights and sampling")
	fs.StringVar(&c.jsonPath, "json", "", "also write the metrics as JSON to `FILE`")
	fs.IntVar(&c.requests, "requests", 0, "requests per run (0: the tutorial's count)")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress lines on stderr")
}

func (c *common) check() error {
	if c.cpuMemGiB <= 0 {
		return fmt.Errorf("--cpu-memory %g: must be positive", c.cpuMemGiB)
	}
	if c.requests < 0 {
		return fmt.Errorf("--requests %d: must not be negative", c.requests)
	}
	if err := c.cfg.Validate(); err != nil {
		return fmt.Errorf("--%w", err)
	}
	return report.CheckWritable(c.jsonPath)
}

func (c *common) options(stderr io.Writer) session.Options {
	return session.Options{Model: c.model, Device: c.device, CPUMemoryBytes: int64(c.cpuMemGiB * (1 << 30)),
		Engine: c.cfg, Log: stderr, Progress: !c.quiet}
}

func (c *common) params() experiments.Params {
	return experiments.Params{Requests: c.requests, Seed: int64(c.cfg.Seed)}
}

func splitComma(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// setup parses a command's flags — the common engine flags, the command's
// own (extra registers them) and, when wf is set, its workload flags — and
// checks everything that needs no model, returning the session's options.
func setup(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet), wf *workloadFlags) (*common, session.Options, error) {
	c := &common{}
	fs := newFlagSet(name, stderr)
	c.register(fs)
	if extra != nil {
		extra(fs)
	}
	if err := parse(fs, args); err != nil {
		return nil, session.Options{}, err
	}
	if err := c.check(); err != nil {
		return nil, session.Options{}, err
	}
	opts := c.options(stderr)
	if wf != nil {
		if err := wf.check(); err != nil {
			return nil, session.Options{}, err
		}
		opts.SLO = wf.objectives
	}
	return c, opts, nil
}
