package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"benchtop/session"
)

// TokenizeCmd prints a workload's requests exactly as the engine runs them
// (the session's one request builder: prompt ids, synthetic ones included,
// output length and every sampling parameter), so a peer
// (scripts/hf_generate_bench.py) runs the same requests.
type TokenizeCmd struct {
	WorkloadFlags `embed:""`
	Model         string `default:"opt-125m" help:"preset (${presets}) or model folder whose tokenizer and vocabulary to use"`
	Requests      int    `default:"0" help:"requests (0: the workload's count)"`
	Seed          uint64 `default:"0" help:"the workload seed (as --seed of the engine commands)"`
}

// tokenized is one request as the engine runs it.
type tokenized struct {
	ID          string        `json:"id"`
	Prompt      []int32       `json:"prompt_ids"`
	MaxTokens   int           `json:"max_tokens"`
	Temperature float32       `json:"temperature"`
	TopP        float32       `json:"top_p"`
	TopK        int           `json:"top_k"`
	Seed        uint64        `json:"seed"` // 0: derived from the engine seed and the id
	IgnoreEOS   bool          `json:"ignore_eos"`
	StopTokens  []int32       `json:"stop_token_ids"`
	Arrival     time.Duration `json:"arrival_ns"` // send offset (open-loop arrivals)
}

type tokenizedDoc struct {
	Workload    string      `json:"workload"`
	Description string      `json:"description"`
	Model       string      `json:"model"`
	Seed        uint64      `json:"seed"`
	Arrival     string      `json:"arrival"`
	Concurrency int         `json:"concurrency"`
	Requests    []tokenized `json:"requests"`
}

func (c *TokenizeCmd) Run(e *env) error {
	if c.Requests < 0 {
		return fmt.Errorf("--requests %d: must not be negative", c.Requests)
	}
	if err := c.check(); err != nil {
		return err
	}
	v, err := session.OpenVocab(c.Model)
	if err != nil {
		return err
	}
	w, err := c.build(v, e.stderr)
	if err != nil {
		return err
	}
	w = w.WithCount(c.Requests)
	reqs, arrivals, err := v.Requests(w, int64(c.Seed), "")
	if err != nil {
		return err
	}
	doc := tokenizedDoc{Workload: w.Name, Description: w.Description, Model: c.Model, Seed: c.Seed,
		Arrival: w.Arrival.String(), Concurrency: w.Concurrency, Requests: make([]tokenized, len(reqs))}
	for i, r := range reqs {
		p := r.Params
		doc.Requests[i] = tokenized{ID: r.ID, Prompt: r.Prompt, MaxTokens: p.MaxTokens, Temperature: p.Temperature, TopP: p.TopP,
			TopK: p.TopK, Seed: p.Seed, IgnoreEOS: p.IgnoreEOS, StopTokens: append([]int32{}, p.StopTokens...), Arrival: arrivals[i]}
	}
	return json.NewEncoder(e.stdout).Encode(doc)
}
