package session

import (
	"fmt"
	"io"

	"benchtop/engine"
	"benchtop/engine/model"
	"benchtop/metrics"
)

// Options are what a session opens with: the engine flags every command
// shares.
type Options struct {
	Model          string // preset name or model folder
	Device         string // auto, cpu, cuda
	CPUMemoryBytes int64
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
}

func (o *Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}
