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
	Model                string  `default:"opt-125m" help:"preset (${presets}) or Hugging Face model folder (config.json + *.safetensors)"`
	Device               string  `default:"auto" help:"auto (GPU if usable, else CPU), cpu or cuda"`
	CPUMemory            float64 `name:"cpu-memory" default:"4" help:"GiB the CPU backend sizes its KV pool against"`
	MaxNumSeqs           int     `default:"256" help:"maximum sequences per step (the batch size)"`
	MaxNumBatchedTokens  int     `default:"8192" help:"maximum tokens per step (prefill chunks + decodes)"`
	GPUMemoryUtilization float64 `name:"gpu-memory-utilization" default:"0.9" help:"fraction of device memory for weights, activations and KV cache"`
	BlockSize            int     `default:"16" help:"tokens per KV-cache block"`
	MaxModelLen          int     `default:"0" help:"maximum tokens per sequence (0: the model's)"`
	EnforceEager         bool    `help:"disable CUDA graphs"`
	ChunkedPrefill       bool    `default:"true" negatable:"" help:"split long prompts over several steps"`
	Seed                 uint64  `default:"0" help:"seed for synthetic weights, sampling and workloads"`
	JSON                 string  `name:"json" placeholder:"FILE" help:"also write the results as JSON to FILE (atomically)"`
	Requests             int     `default:"0" help:"requests per run (0: the tutorial's count)"`
	Quiet                bool    `help:"no progress line on stderr each second of a run"`
}

// config is the engine configuration the flags give.
func (f *EngineFlags) config() engine.Config {
	return engine.Config{MaxNumSeqs: f.MaxNumSeqs, MaxNumBatchedTokens: f.MaxNumBatchedTokens, BlockSize: f.BlockSize,
		GPUMemoryUtilization: f.GPUMemoryUtilization, MaxModelLen: f.MaxModelLen, EnforceEager: f.EnforceEager,
		EnableChunkedPrefill: f.ChunkedPrefill, Seed: f.Seed}
}

// check validates what needs no model, so bad flags fail at once.
func (f *EngineFlags) check() error {
	if !(f.CPUMemory > 0) {
		return fmt.Errorf("--cpu-memory %g: must be positive", f.CPUMemory)
	}
	if f.Requests < 0 || f.Requests > session.MaxRequests {
		return fmt.Errorf("--requests %d: must be from 0 to %d", f.Requests, session.MaxRequests)
	}
	// The engine reads 0 as "auto"; these flags default to explicit values,
	// so a 0 given here is a mistake.
	switch {
	case f.MaxNumSeqs == 0:
		return fmt.Errorf("--max-num-seqs 0: must be at least 1")
	case f.MaxNumBatchedTokens == 0:
		return fmt.Errorf("--max-num-batched-tokens 0: must be at least 1")
	case f.GPUMemoryUtilization == 0:
		return fmt.Errorf("--gpu-memory-utilization 0: must be in (0, 1]")
	}
	c := f.config()
	if err := c.Validate(); err != nil {
		return fmt.Errorf("--%w", err)
	}
	return report.CheckWritable(f.JSON)
}

// options are the session's options.
func (f *EngineFlags) options(e *env) session.Options {
	return session.Options{Model: f.Model, Device: f.Device, CPUMemoryBytes: int64(f.CPUMemory * (1 << 30)),
		Engine: f.config(), Log: e.stderr, Progress: !f.Quiet}
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
