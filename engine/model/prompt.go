package model

import (
	"errors"
	"fmt"
)

// Prompter turns text into a model's prompt ids as the model's own
// tokenizer does with add_special_tokens=True (what vLLM does for a
// completion): a tokenizer, and the rule for the special tokens a prompt
// starts with.
type Prompter struct {
	// Tokenizer encodes the text; nil when the model brings none (then
	// only synthetic-length prompts can run).
	Tokenizer Tokenizer
	// Prefix is what every prompt starts with, synthetic ones included:
	// the ids a tokenizer.json's post-processor puts before the text
	// (Llama 3's <|begin_of_text|>, nothing for Qwen's), else the
	// configuration's BOS where the family's tokenizer adds one (OPT,
	// Llama 2, Mistral, and the presets' GPT-2 stand-in by the same rule).
	// Read-only.
	Prefix []int32
	Source string // the model's preset name or folder, for errors
	// processor: a prompt is the tokenizer's own EncodeSpecial (whose
	// post-processor may also append ids); else Prefix + Encode.
	processor bool
}

// newPrompter is the prompt rule of a model of cfg whose text goes
// through tok.
func newPrompter(tok Tokenizer, cfg *Config, source string) *Prompter {
	p := &Prompter{Tokenizer: tok, Source: source}
	if ft, ok := tok.(*fileTokenizer); ok && ft.processor {
		p.Prefix, p.processor = ft.before, true
		return p
	}
	if cfg.AddBOS && cfg.BOS >= 0 {
		p.Prefix = []int32{int32(cfg.BOS)}
	}
	return p
}

// ErrNoTextPrompts: the model has no tokenizer, so text cannot be encoded.
var ErrNoTextPrompts = errors.New("text prompts cannot be encoded")

// Encode tokenizes a prompt: the model's special tokens around the text
// (see Prefix). A model without a tokenizer is an error wrapping
// ErrNoTextPrompts.
func (p *Prompter) Encode(text string) ([]int32, error) {
	if p.Tokenizer == nil {
		return nil, fmt.Errorf("model %s has no tokenizer (tokenizer.json, or vocab.json and merges.txt): %w", p.Source, ErrNoTextPrompts)
	}
	if p.processor {
		return p.Tokenizer.EncodeSpecial(text)
	}
	ids, err := p.Tokenizer.Encode(text)
	if err != nil {
		return nil, err
	}
	out := make([]int32, 0, len(p.Prefix)+len(ids))
	return append(append(out, p.Prefix...), ids...), nil
}

// ErrVocabMismatch: a tokenizer given for a model produces ids its
// vocabulary does not have.
var ErrVocabMismatch = errors.New("the tokenizer's ids do not fit the model's vocabulary")

// checkFits says whether tok's ids all fit a model of cfg.
func checkFits(tok Tokenizer, cfg *Config, spec string) error {
	if m := tok.MaxID(); int64(m) >= int64(cfg.VocabSize) {
		return fmt.Errorf("tokenizer %s (ids up to %d) for %s (vocab_size %d): %w", tok.Name(), m, spec, cfg.VocabSize, ErrVocabMismatch)
	}
	return nil
}
