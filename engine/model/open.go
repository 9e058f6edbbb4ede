package model

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"benchtop/kernels"
)

// Loaded is a model ready to run: a family's weights on a backend, its
// configuration, its compute dtype and a tokenizer.
type Loaded struct {
	Model        // *OPT or *Llama
	Cfg   Config // the model's configuration (read-only)
	// DType is the weights' dtype (see Options.DType); ComputeDType the
	// activations' and the KV cache's: DType on a GPU, fp32 on the CPU
	// backend (which computes in fp32 whatever its weights were rounded to).
	DType, ComputeDType kernels.DType
	Tokenizer           Tokenizer // nil when a folder brings none; Prompter says how prompts use it
	Synthetic           bool      // weights are seeded random, not trained
	// StandInTokenizer: the tokenizer is not the model's own (a preset's
	// GPT-2 tokenizer).
	StandInTokenizer bool
	Source           string // preset name or folder path
}

// Options say how Open loads a model.
type Options struct {
	// DType is the compute dtype, as vLLM's --dtype: "auto" (or "") is the
	// checkpoint's torch_dtype on a 16-bit device — an fp32 checkpoint
	// computes in fp16 there — and fp32 on the CPU backend; "float16"
	// ("half", "fp16"), "bfloat16" ("bf16") and "float32" ("float",
	// "fp32") force one (a GPU takes fp16 and bf16).
	DType string
	// Seed picks a preset's synthetic weights.
	Seed uint64
	// Tokenizer, when set, replaces the preset's or folder's own.
	Tokenizer Tokenizer
}

// ParseDType reads a --dtype value; auto is true for "auto" and "".
func ParseDType(s string) (dt kernels.DType, auto bool, err error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return kernels.F16, true, nil
	case "float16", "half", "fp16":
		return kernels.F16, false, nil
	case "bfloat16", "bf16":
		return kernels.BF16, false, nil
	case "float32", "float", "fp32":
		return kernels.F32, false, nil
	}
	return 0, false, fmt.Errorf("dtype %q: want auto, float16, bfloat16 or float32", s)
}

// ResolveDType picks the dtype a model of cfg runs in on dev, given the
// requested one (see Options.DType).
func ResolveDType(req string, cfg *Config, dev kernels.DeviceInfo) (kernels.DType, error) {
	dt, auto, err := ParseDType(req)
	if err != nil {
		return 0, err
	}
	if auto {
		if dev.ComputeDType == kernels.F32 {
			return kernels.F32, nil
		}
		if dt = cfg.CheckpointDType(); dt == kernels.F32 {
			dt = dev.ComputeDType
		}
		return dt, nil
	}
	if dt == kernels.F32 && dev.ComputeDType != kernels.F32 {
		return 0, fmt.Errorf("dtype float32: the %s backend computes in fp16 or bf16", dev.Backend)
	}
	return dt, nil
}

// computeDType is the activations' dtype of a model with weights of dt.
func computeDType(dt kernels.DType, be kernels.Backend) kernels.DType {
	if be.Info().ComputeDType == kernels.F32 {
		return kernels.F32
	}
	return dt
}

// Open loads spec — a preset name or a Hugging Face model folder — onto be.
// The tokenizer is read before the weights, so a broken tokenizer.json
// fails at once (a folder with none loads, and runs synthetic prompts
// only); o.Tokenizer must fit the model's vocabulary (ErrVocabMismatch).
func Open(spec string, be kernels.Backend, o Options) (*Loaded, error) {
	cfg, preset, err := locate(spec)
	if err != nil {
		return nil, err
	}
	tok, standIn, err := tokenizerFor(spec, &cfg, preset, o)
	if err != nil {
		return nil, err
	}
	what := "load " + spec
	if preset {
		what = "preset " + spec
	}
	dt, err := ResolveDType(o.DType, &cfg, be.Info())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var m Model
	if preset {
		m, err = Load(be, cfg, NewSyntheticSource(cfg, o.Seed), dt)
	} else {
		var src *SafetensorsSource
		if src, err = OpenSafetensors(spec); err != nil {
			return nil, err
		}
		m, err = Load(be, cfg, src, dt)
		src.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return &Loaded{Model: m, Cfg: cfg, DType: dt, ComputeDType: computeDType(dt, be), Tokenizer: tok,
		Synthetic: preset, StandInTokenizer: standIn, Source: spec}, nil
}

// OpenPrompter reads what Open would encode spec's prompts with, without
// loading its weights: the configuration (a preset's, or a folder's
// config.json) and the prompter (its tokenizer, or o.Tokenizer). Errors
// are Open's.
func OpenPrompter(spec string, o Options) (Config, *Prompter, error) {
	cfg, preset, err := locate(spec)
	if err != nil {
		return Config{}, nil, err
	}
	tok, _, err := tokenizerFor(spec, &cfg, preset, o)
	if err != nil {
		return Config{}, nil, err
	}
	return cfg, newPrompter(tok, &cfg, spec), nil
}

// locate finds spec's configuration: a preset's (preset true) or a model
// folder's config.json.
func locate(spec string) (cfg Config, preset bool, err error) {
	if cfg, ok := Presets[spec]; ok {
		return cfg, true, nil
	}
	st, err := os.Stat(spec)
	if err != nil {
		return Config{}, false, fmt.Errorf("model %q is neither a preset (%s) nor a folder: %w", spec, strings.Join(PresetNames(), ", "), err)
	}
	if !st.IsDir() {
		return Config{}, false, fmt.Errorf("model %q is a file; give the model folder (config.json + *.safetensors)", spec)
	}
	cfg, err = ReadConfig(spec)
	return cfg, false, err
}

// tokenizerFor picks a model's tokenizer: o.Tokenizer when given (it must
// fit the vocabulary), else a preset's GPT-2 stand-in (standIn; its ids
// folded into a smaller vocabulary), else the folder's own — nil when it
// has none, an error when its files are broken.
func tokenizerFor(spec string, cfg *Config, preset bool, o Options) (tok Tokenizer, standIn bool, err error) {
	switch {
	case o.Tokenizer != nil:
		if err := checkFits(o.Tokenizer, cfg, spec); err != nil {
			return nil, false, err
		}
		return o.Tokenizer, false, nil
	case preset:
		tok, err := NewGPT2Tokenizer()
		if err != nil {
			return nil, false, err
		}
		return foldInto(tok, cfg.VocabSize), true, nil
	}
	tok, err = LoadTokenizer(spec)
	if errors.Is(err, ErrNoTokenizer) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load %s: %w", spec, err)
	}
	return tok, false, nil
}

// WeightsNote says what is not the real model's, for wherever the model is
// described: "synthetic weights", with ", GPT-2 tokenizer" when the
// tokenizer is a stand-in; "" for a real folder.
func (l *Loaded) WeightsNote() string {
	var parts []string
	if l.Synthetic {
		parts = append(parts, "synthetic weights")
	}
	if l.StandInTokenizer && l.Cfg.IsLlama() {
		parts = append(parts, "GPT-2 tokenizer")
	}
	return strings.Join(parts, ", ")
}

// Prompter is how the model's prompts are built from text (its tokenizer
// and the special tokens they start with).
func (l *Loaded) Prompter() *Prompter { return newPrompter(l.Tokenizer, &l.Cfg, l.Source) }

// Encode tokenizes a prompt as the model's own tokenizer does with its
// special tokens (see Prompter): BOS first for OPT, Llama 2 and 3,
// Mistral; nothing for Qwen or SmolLM2.
func (l *Loaded) Encode(text string) ([]int32, error) { return l.Prompter().Encode(text) }

// PromptPrefix is what every prompt starts with (see Prompter.Prefix): a
// fresh slice.
func (l *Loaded) PromptPrefix() []int32 { return append([]int32(nil), l.Prompter().Prefix...) }
