package session

import (
	"fmt"
	"io"
	"time"

	"benchtop/engine"
	"benchtop/engine/model"
	"benchtop/metrics"
	"benchtop/openai"
	"benchtop/servermetrics"
)

// Options are what a session opens with: the engine flags every command
// shares.
type Options struct {
	Model          string // preset name or model folder (against remote targets: the tokenizer prompts are built with)
	Device         string // auto, cpu, cuda
	CPUMemoryBytes int64  // per replica
	Engine         engine.Config
	Log            io.Writer // notes (stderr); nil: silent
	Progress       bool      // a status line every second during finite runs
	SLO            metrics.SLO
	Ceilings       bool // measure the device's ceilings at start (the dashboard's roofline)
	// WrapBackend, when set, wraps the opened backend before the model
	// loads (a test's backend that holds a step, to check that nothing
	// waits for it).
	WrapBackend BackendWrapper
	// Observers see the engine's events beside the collector (checks that
	// count the truth); DetachCollector leaves the collector out, to measure
	// what it costs a step.
	Observers       []engine.Observer
	DetachCollector bool
	// DType is the compute dtype as vLLM's --dtype (model.Options.DType):
	// "" or "auto", "float16", "bfloat16", "float32".
	DType string
	// Tokenizer, when set, replaces the model's own (a preset's GPT-2
	// stand-in); it must fit the model's vocabulary.
	Tokenizer model.Tokenizer

	// DataParallel is the number of engine replicas, each on its own
	// device goroutine with the weights loaded on its own GPU (0 or 1: one
	// engine); Devices, when set, are their GPU ordinals (one each; by
	// default 0..N-1). On the CPU backend the replicas share the cores.
	DataParallel int
	Devices      []int
	// Policy spreads requests over the replicas or the remote targets.
	Policy Policy
	// Remote, when it names targets, drives OpenAI-compatible servers
	// instead of an in-process engine.
	Remote RemoteOptions
}

// RemoteOptions are the remote targets: one server, or a fleet behind the
// session's dispatch policy.
type RemoteOptions struct {
	URLs []string // http://HOST:PORT of each server
	API  openai.API
	// ModelName is the served model requests name; "": each server's first
	// in /v1/models.
	ModelName string
	// APIKeyEnv names the environment variable holding the API key (never
	// printed, logged or written).
	APIKeyEnv string
	// MetricsPath is the Prometheus exposition's path ("/metrics"; "off":
	// no scraping) and MetricsInterval the time between scrapes (1 s).
	MetricsPath     string
	MetricsInterval time.Duration
	// MetricsServer forces the metric names read (Unknown: detected).
	MetricsServer servermetrics.Server
	// PromptText sends prompts to the completions API as text (the local
	// tokenizer's decoding) instead of token ids; the chat API always
	// sends text.
	PromptText bool
	// RetryEvery is how often a server that went down is checked again
	// (DefaultRetryEvery).
	RetryEvery time.Duration
	// Client timeouts (0: openai's defaults).
	HeaderTimeout, FirstChunkTimeout, IdleTimeout time.Duration
}

// remote says whether the options name remote targets.
func (o *Options) remote() bool { return len(o.Remote.URLs) > 0 }

func (o *Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}
