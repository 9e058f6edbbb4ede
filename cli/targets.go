package cli

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"benchtop/openai"
	"benchtop/session"
)

// TargetFlags point a command at OpenAI-compatible servers instead of the
// in-process engine (embedded in EngineFlags).
type TargetFlags struct {
	Target          []string      `sep:"none" placeholder:"URL" help:"drive an OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp, benchtop serve) at URL instead of the in-process engine; repeat for a fleet (--dp-policy spreads the requests); --model then names the tokenizer prompts are built with"`
	API             string        `name:"api" default:"completions" enum:"completions,chat" help:"with --target: /v1/completions (prompts as token ids) or /v1/chat/completions (prompts as text)"`
	ModelName       string        `placeholder:"NAME" help:"with --target: the served model requests name (default: the first /v1/models lists)"`
	APIKeyEnv       string        `name:"api-key-env" default:"OPENAI_API_KEY" placeholder:"NAME" help:"with --target: the environment variable holding the API key (never printed, logged or written)"`
	MetricsPath     string        `default:"/metrics" placeholder:"PATH" help:"with --target: the servers' Prometheus metrics (off: no scraping)"`
	MetricsInterval time.Duration `default:"1s" help:"with --target: time between scrapes of the servers' metrics"`
	PromptText      bool          `help:"with --target --api completions: send prompts as text (the --model tokenizer's decoding) instead of token ids"`
}

// ParallelFlags run N engine replicas, one per GPU (embedded in
// EngineFlags).
type ParallelFlags struct {
	DataParallelSize int    `name:"data-parallel-size" default:"1" help:"engine replicas, one per GPU, each with its own copy of the weights (on the CPU backend they share the cores)"`
	Devices          string `placeholder:"LIST" help:"the GPUs of the replicas, e.g. 0,1 (default: the first --data-parallel-size)"`
	DPPolicy         string `name:"dp-policy" default:"least-outstanding" enum:"least-outstanding,round-robin" help:"how requests are spread over the replicas or the --target servers"`
}

// checkTargets validates the target and parallel flags without opening
// anything.
func (f *EngineFlags) checkTargets() error {
	if _, err := session.ParsePolicy(f.DPPolicy); err != nil {
		return fmt.Errorf("--dp-policy: %w", err)
	}
	if f.DataParallelSize < 1 || f.DataParallelSize > session.MaxDataParallel {
		return fmt.Errorf("--data-parallel-size %d: must be between 1 and %d", f.DataParallelSize, session.MaxDataParallel)
	}
	if _, err := f.devices(); err != nil {
		return err
	}
	if len(f.Target) == 0 {
		return nil
	}
	if f.DataParallelSize > 1 || f.Devices != "" {
		return fmt.Errorf("--target drives servers: --data-parallel-size and --devices are for the in-process engine")
	}
	for _, t := range f.Target {
		u, err := url.Parse(t)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--target %q: want http://HOST:PORT", t)
		}
	}
	if _, err := openai.ParseAPI(f.API); err != nil {
		return fmt.Errorf("--%w", err)
	}
	if f.MetricsInterval <= 0 {
		return fmt.Errorf("--metrics-interval %s: must be positive", f.MetricsInterval)
	}
	return nil
}

// devices parses --devices: distinct GPU ordinals.
func (f *EngineFlags) devices() ([]int, error) {
	var out []int
	for _, s := range splitComma(f.Devices) {
		d, err := strconv.Atoi(s)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("--devices %q: %q is not a GPU number", f.Devices, s)
		}
		out = append(out, d)
	}
	if f.Devices != "" && len(out) == 0 {
		return nil, fmt.Errorf("--devices %q: no GPU listed", f.Devices)
	}
	if len(out) > 0 && f.DataParallelSize > 1 && len(out) != f.DataParallelSize {
		return nil, fmt.Errorf("--devices %s lists %d GPUs for --data-parallel-size %d (one per replica)", f.Devices, len(out), f.DataParallelSize)
	}
	return out, nil
}

// targetOptions puts the target and parallel flags into the session's
// options (after checkTargets).
func (f *EngineFlags) targetOptions(o *session.Options) {
	o.Policy, _ = session.ParsePolicy(f.DPPolicy)
	o.Devices, _ = f.devices()
	o.DataParallel = f.DataParallelSize
	if len(o.Devices) > 0 {
		o.DataParallel = len(o.Devices)
	}
	if len(f.Target) == 0 {
		return
	}
	api, _ := openai.ParseAPI(f.API)
	o.Remote = session.RemoteOptions{URLs: f.Target, API: api, ModelName: f.ModelName, APIKeyEnv: f.APIKeyEnv,
		MetricsPath: f.MetricsPath, MetricsInterval: f.MetricsInterval, PromptText: f.PromptText}
}
