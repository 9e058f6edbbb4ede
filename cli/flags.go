package cli

import (
	"fmt"
	"strings"

	"benchtop/engine"
	"benchtop/engine/model"
	"benchtop/experiments"
	"benchtop/report"
	"benchtop/session"
)

// EngineFlags are the flags every engine command takes, embedded in each.
type EngineFlags struct {
	given map[string]bool // the flags set on the command line (see AfterApply)

	Model                string  `default:"opt-125m" help:"preset (${presets}) or Hugging Face model folder (config.json + *.safetensors)"`
	Device               string  `default:"auto" help:"auto (GPU if usable, else CPU), cpu or cuda"`
	CPUMemory            float64 `name:"cpu-memory" default:"4" help:"GiB the CPU backend sizes its KV pool against"`
	MaxNumSeqs           int     `placeholder:"N" help:"maximum sequences per step (the batch size); unset: auto (256 on a GPU, sized for steps near 200 ms on the CPU)"`
	MaxNumBatchedTokens  int     `placeholder:"N" help:"maximum tokens per step (prefill chunks + decodes); unset: auto (8192 on a GPU, sized for steps near 200 ms on the CPU)"`
	GPUMemoryUtilization float64 `name:"gpu-memory-utilization" placeholder:"F" help:"fraction of device memory for weights, activations and KV cache; unset: auto (0.9); on the CPU the KV pool is capped at what the batch can use in any case"`
	BlockSize            int     `default:"16" help:"tokens per KV-cache block"`
	MaxModelLen          int     `default:"0" help:"maximum tokens per sequence (0: the model's)"`
	EnforceEager         bool    `help:"disable CUDA graphs"`
	ChunkedPrefill       bool    `default:"true" negatable:"" help:"split long prompts over several steps"`
	Seed                 uint64  `default:"0" help:"seed for synthetic weights, sampling and workloads"`
	JSON                 string  `name:"json" placeholder:"FILE" help:"also write the results as JSON to FILE (atomically; not dash or serve)"`
	Requests             int     `default:"0" help:"requests per run (0: the tutorial's count; not dash, serve or logits)"`
	Quiet                bool    `help:"no progress line on stderr each second of a run"`
	ModelFlags           `embed:""`
	TargetFlags          `embed:""`
	ParallelFlags        `embed:""`
}

// config is the engine configuration the flags give.
func (f *EngineFlags) config() engine.Config {
	return engine.Config{MaxNumSeqs: f.MaxNumSeqs, MaxNumBatchedTokens: f.MaxNumBatchedTokens, BlockSize: f.BlockSize,
		GPUMemoryUtilization: f.GPUMemoryUtilization, MaxModelLen: f.MaxModelLen, EnforceEager: f.EnforceEager,
		EnableChunkedPrefill: f.ChunkedPrefill, Seed: f.Seed}
}

// check validates what needs no model, so bad flags fail at once.
func (f *EngineFlags) check() error {
	if !(f.CPUMemory > 0) || f.CPUMemory > MaxCPUMemoryGiB { // NaN fails both
		return fmt.Errorf("--cpu-memory %g: must be a number of GiB above 0 and at most %d", f.CPUMemory, MaxCPUMemoryGiB)
	}
	if f.Requests < 0 || f.Requests > session.MaxRequests {
		return fmt.Errorf("--requests %d: must be from 0 to %d", f.Requests, session.MaxRequests)
	}
	// The engine reads 0 as "auto", which is what an unset flag passes; a
	// 0 given on the command line is a mistake.
	switch {
	case f.given["max-num-seqs"] && f.MaxNumSeqs == 0:
		return fmt.Errorf("--max-num-seqs 0: must be at least 1 (leave it out for auto)")
	case f.given["max-num-batched-tokens"] && f.MaxNumBatchedTokens == 0:
		return fmt.Errorf("--max-num-batched-tokens 0: must be at least 1 (leave it out for auto)")
	case f.given["gpu-memory-utilization"] && f.GPUMemoryUtilization == 0:
		return fmt.Errorf("--gpu-memory-utilization 0: must be in (0, 1] (leave it out for auto)")
	}
	c := f.config()
	if err := c.Validate(); err != nil {
		return fmt.Errorf("--%w", err)
	}
	if err := f.ModelFlags.check(f.Model); err != nil {
		return err
	}
	if err := f.checkTargets(); err != nil {
		return err
	}
	return report.CheckWritable(f.JSON)
}

// options are the session's options.
func (f *EngineFlags) options(e *env) session.Options {
	o := session.Options{Model: f.Model, Device: f.Device, CPUMemoryBytes: int64(f.CPUMemory * (1 << 30)),
		Engine: f.config(), Log: e.stderr, Progress: !f.Quiet, DType: f.DType, Tokenizer: f.tok}
	f.targetOptions(&o)
	return o
}

func (f *EngineFlags) params() experiments.Params {
	return experiments.Params{Requests: f.Requests, Seed: int64(f.Seed)}
}

func presetNames() string { return strings.Join(model.PresetNames(), ", ") }

func splitComma(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
