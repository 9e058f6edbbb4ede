package cli

import (
	"errors"
	"fmt"

	"benchtop/engine/model"
)

// ModelFlags say how the model loads: its dtype and, optionally, a
// tokenizer file in place of its own. Embedded in EngineFlags.
type ModelFlags struct {
	DType     string `name:"dtype" default:"auto" placeholder:"DTYPE" help:"weights' dtype, as vLLM's --dtype: auto (the checkpoint's on a GPU, float32 on the CPU), float16, bfloat16 or float32 (the CPU backend computes in float32 whatever the weights are rounded to)"`
	Tokenizer string `placeholder:"FILE" help:"a tokenizer.json (or a folder with one) to encode text with instead of the model's own; a preset then uses it instead of the GPT-2 stand-in; its ids must fit the model's vocabulary"`

	tok model.Tokenizer // read by check
}

// check parses --dtype and reads --tokenizer, checking that it fits spec's
// vocabulary, so a bad value fails before the model loads.
func (f *ModelFlags) check(spec string) error {
	if _, _, err := model.ParseDType(f.DType); err != nil {
		return fmt.Errorf("--%w", err)
	}
	if f.Tokenizer == "" {
		f.tok = nil
		return nil
	}
	tok, err := loadTokenizerFlag(f.Tokenizer, spec)
	f.tok = tok
	return err
}

// loadTokenizerFlag reads --tokenizer path and, when spec names a model,
// checks that its ids fit the model's vocabulary.
func loadTokenizerFlag(path, spec string) (model.Tokenizer, error) {
	tok, err := model.LoadTokenizerFile(path)
	if err != nil {
		return nil, fmt.Errorf("--%w", err)
	}
	if spec == "" {
		return tok, nil
	}
	if _, _, err := model.OpenPrompter(spec, model.Options{Tokenizer: tok}); err != nil {
		if errors.Is(err, model.ErrVocabMismatch) {
			return nil, fmt.Errorf("--tokenizer %s: %w; give the model's own tokenizer, or none (a preset then uses the GPT-2 stand-in)", path, err)
		}
		return nil, err
	}
	return tok, nil
}
