package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"benchtop/engine/model"
	"benchtop/workloads"
)

// runTokenize prints a workload's requests as token ids (JSON), so a peer
// (scripts/hf_generate_bench.py) runs exactly the same prompts.
func runTokenize(args []string, stdout, stderr io.Writer) error {
	var workload string
	var requests int
	fs := newFlagSet("tokenize", stderr)
	fs.StringVar(&workload, "workload", "bench", "workload to tokenize")
	fs.IntVar(&requests, "requests", 0, "requests (0: the workload's count)")
	if err := parse(fs, args); err != nil {
		return err
	}
	w, err := workloads.Lookup(workload)
	if err != nil {
		return err
	}
	tok, err := model.NewGPT2Tokenizer()
	if err != nil {
		return err
	}
	bos := int32(model.Presets[model.DefaultPreset].BOS)
	type req struct {
		Prompt      []int32 `json:"prompt_ids"`
		MaxTokens   int     `json:"max_tokens"`
		Temperature float32 `json:"temperature"`
	}
	var out []req
	for _, sp := range w.WithCount(requests).Specs(0) {
		ids, err := tok.Encode(sp.Prompt)
		if err != nil {
			return fmt.Errorf("tokenize %q: %w", sp.Prompt, err)
		}
		out = append(out, req{Prompt: append([]int32{bos}, ids...), MaxTokens: sp.MaxTokens, Temperature: sp.Temperature})
	}
	return json.NewEncoder(stdout).Encode(map[string]any{"workload": w.Name, "requests": out})
}
