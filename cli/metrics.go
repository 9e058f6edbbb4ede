package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"benchtop/servermetrics"
)

// MetricsCmd fetches a server's Prometheus metrics once and prints
// benchtop's gauges mapped from them.
type MetricsCmd struct {
	URL       string        `arg:"" placeholder:"URL" help:"the server (http://HOST:PORT: its /metrics is read) or the exposition's own URL"`
	Path      string        `placeholder:"PATH" help:"path of the exposition (default /metrics)"`
	Server    string        `default:"auto" enum:"auto,vllm,sglang,tgi,llamacpp" help:"whose metric names to read: auto (detected from the prefixes), vllm, sglang, tgi, llamacpp"`
	JSON      bool          `name:"json" help:"print the mapped sample as JSON (every gauge with its source metric)"`
	APIKeyEnv string        `name:"api-key-env" default:"OPENAI_API_KEY" placeholder:"NAME" help:"environment variable holding the API key (llama.cpp guards /metrics with it)"`
	Timeout   time.Duration `default:"10s" help:"how long the fetch may take"`
}

func (c *MetricsCmd) Run(e *env) error {
	server, ok := servermetrics.ParseServer(c.Server)
	if !ok {
		return fmt.Errorf("--server %q: want auto, vllm, sglang, tgi or llamacpp", c.Server)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("--timeout %s: must be positive", c.Timeout)
	}
	ctx, stop := e.context()
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	smp, err := servermetrics.Fetch(ctx, servermetrics.Options{URL: c.URL, Path: c.Path, Server: server, APIKeyEnv: c.APIKeyEnv, Timeout: c.Timeout})
	if err != nil {
		return e.interrupted(err)
	}
	if c.JSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(smp)
	}
	return smp.WriteText(e.stdout)
}
