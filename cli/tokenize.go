package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"benchtop/engine/model"
	"benchtop/session"
)

// TokenizeCmd encodes text (--text, --dataset) into token ids, decodes ids
// (--decode), or — given neither — prints a workload's requests exactly as
// the engine runs them (the session's one request builder: prompt ids,
// synthetic ones included, output length and every sampling parameter), so
// a peer (scripts/hf_generate_bench.py) runs the same requests.
type TokenizeCmd struct {
	WorkloadFlags    `embed:""`
	Model            string   `placeholder:"MODEL" help:"preset (${presets}) or model folder whose tokenizer and vocabulary to use (default opt-125m, unless --tokenizer alone is given)"`
	Tokenizer        string   `placeholder:"FILE" help:"a tokenizer.json (or a folder with one); with --model it replaces the model's own (a preset's GPT-2 stand-in) and must fit its vocabulary"`
	Text             []string `sep:"none" placeholder:"S" help:"text to encode (repeatable): one JSON array of ids per --text, on its own line"`
	AddSpecialTokens bool     `help:"add the special tokens (Hugging Face's add_special_tokens=True): the model's prompt prefix (BOS) as the engine adds it, or the tokenizer file's post-processor"`
	Decode           []string `sep:"none" placeholder:"IDS" help:"ids to decode (repeatable; \"1,2,3\" or a JSON array): one JSON string per --decode, on its own line"`
	EngineRequests   bool     `help:"with --dataset: print the dataset's requests as the engine runs them (the workload document) instead of one id array per prompt"`
	Requests         int      `default:"0" help:"requests (0: the workload's count)"`
	Seed             uint64   `default:"0" help:"the workload seed (as --seed of the engine commands)"`
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
	texts := len(c.Text) > 0 || (c.Dataset != "" && !c.EngineRequests)
	switch {
	case len(c.Decode) > 0 && (len(c.Text) > 0 || c.Dataset != ""):
		return fmt.Errorf("--decode turns ids into text; --text and --dataset turn text into ids: give one or the other")
	case len(c.Text) > 0 && c.Dataset != "":
		return fmt.Errorf("--text and --dataset: give one or the other")
	case c.EngineRequests && c.Dataset == "":
		return fmt.Errorf("--engine-requests: only with --dataset")
	case c.AddSpecialTokens && !texts:
		return fmt.Errorf("--add-special-tokens: only with --text or --dataset (a workload's requests always carry the model's prefix)")
	}
	if err := c.check(); err != nil {
		return err
	}
	var tok model.Tokenizer
	if c.Tokenizer != "" {
		var err error
		if tok, err = loadTokenizerFlag(c.Tokenizer, c.Model); err != nil {
			return err
		}
	}
	if len(c.Decode) > 0 {
		return c.decode(e, tok)
	}
	if texts {
		return c.encode(e, tok)
	}
	return c.requests(e, tok)
}

// modelSpec is --model, or the default model.
func (c *TokenizeCmd) modelSpec() string {
	if c.Model == "" {
		return model.DefaultPreset
	}
	return c.Model
}

// requests prints the workload's requests as the engine runs them.
func (c *TokenizeCmd) requests(e *env, tok model.Tokenizer) error {
	v, err := session.OpenVocabWith(c.modelSpec(), model.Options{Tokenizer: tok})
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
	doc := tokenizedDoc{Workload: w.Name, Description: w.Description, Model: c.modelSpec(), Seed: c.Seed,
		Arrival: w.Arrival.String(), Concurrency: w.Concurrency, Requests: make([]tokenized, len(reqs))}
	for i, r := range reqs {
		p := r.Params
		doc.Requests[i] = tokenized{ID: r.ID, Prompt: r.Prompt, MaxTokens: p.MaxTokens, Temperature: p.Temperature, TopP: p.TopP,
			TopK: p.TopK, Seed: p.Seed, IgnoreEOS: p.IgnoreEOS, StopTokens: append([]int32{}, p.StopTokens...), Arrival: arrivals[i]}
	}
	return json.NewEncoder(e.stdout).Encode(doc)
}
