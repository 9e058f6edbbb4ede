package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"benchtop/engine"
	"benchtop/kernels"
	"benchtop/report"
	"benchtop/session"
)

// runLogits prints, as JSON, the logits after the last of the given token
// ids and the greedy continuation: what scripts/compare_transformers.py
// compares with transformers.
type LogitsCmd struct {
	EngineFlags `embed:""`
	IDs         string `name:"ids" placeholder:"LIST" help:"comma-separated prompt token ids (required)"`
	Steps       int    `default:"32" help:"greedy tokens to generate"`
}

func (c *LogitsCmd) Run(e *env) error {
	if err := c.refuseIgnored("logits", ignored{"requests", "it runs the one prompt --ids gives"}); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	ids, steps, opts := c.IDs, c.Steps, c.options(e)
	stdout := e.stdout
	prompt, err := parseIDs(ids)
	if err != nil {
		return fmt.Errorf("--ids: %w", err)
	}
	if steps < 1 {
		return fmt.Errorf("--steps %d: must be at least 1", steps)
	}
	s, err := session.Open(opts)
	if err != nil {
		return err
	}
	defer s.Close()
	ctx := context.Background()
	var logits []float32
	var lerr error
	if err := s.Exec(ctx, func(e *engine.Engine) { logits, lerr = e.PromptLogits(prompt) }); err != nil {
		return err
	}
	if lerr != nil {
		return lerr
	}
	res, err := s.Target().Generate(ctx, []*engine.Request{{ID: "greedy", Prompt: prompt,
		Params: engine.SamplingParams{MaxTokens: steps, IgnoreEOS: true}}})
	if err != nil {
		return err
	}
	if res[0].Err != "" {
		return fmt.Errorf("generate: %s", res[0].Err)
	}
	out := logitsDoc{Backend: s.Device().Backend, Device: s.Device().Name, Prompt: prompt, LastLogits: logits,
		Greedy: append([]int32{}, res[0].Output...), Argmax: kernels.Argmax(logits)}
	enc := json.NewEncoder(stdout)
	if c.JSON != "" {
		data, err := json.Marshal(out)
		if err != nil {
			return err
		}
		return report.WriteFile(c.JSON, data)
	}
	return enc.Encode(out)
}

// logitsDoc is what scripts/compare_transformers.py reads.
type logitsDoc struct {
	Backend    string    `json:"backend"`
	Device     string    `json:"device"`
	Prompt     []int32   `json:"prompt"`
	LastLogits []float32 `json:"last_logits"`
	Greedy     []int32   `json:"greedy"`
	Argmax     int32     `json:"argmax"`
}

func parseIDs(s string) ([]int32, error) {
	if s == "" {
		return nil, fmt.Errorf("no token ids given")
	}
	var out []int32
	for _, f := range splitComma(s) {
		var n int32
		if _, err := fmt.Sscan(f, &n); err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a token id", f)
		}
		out = append(out, n)
	}
	return out, nil
}
