package model

import (
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
	Tokenizer           Tokenizer // nil when a folder brings none
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
func Open(spec string, be kernels.Backend, o Options) (*Loaded, error) {
	if cfg, ok := Presets[spec]; ok {
		dt, err := ResolveDType(o.DType, &cfg, be.Info())
		if err != nil {
			return nil, fmt.Errorf("preset %s: %w", spec, err)
		}
		m, err := Load(be, cfg, NewSyntheticSource(cfg, o.Seed), dt)
		if err != nil {
			return nil, fmt.Errorf("preset %s: %w", spec, err)
		}
		l := &Loaded{Model: m, Cfg: cfg, DType: dt, ComputeDType: computeDType(dt, be), Tokenizer: o.Tokenizer, Synthetic: true, Source: spec}
		if l.Tokenizer == nil {
			tok, err := NewGPT2Tokenizer()
			if err != nil {
				m.Free(be)
				return nil, err
			}
			l.Tokenizer, l.StandInTokenizer = foldInto(tok, 50256, cfg.VocabSize), true
		}
		return l, nil
	}
	st, err := os.Stat(spec)
	if err != nil {
		return nil, fmt.Errorf("model %q is neither a preset (%s) nor a folder: %w", spec, strings.Join(PresetNames(), ", "), err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("model %q is a file; give the model folder (config.json + *.safetensors)", spec)
	}
	cfg, err := ReadConfig(spec)
	if err != nil {
		return nil, err
	}
	dt, err := ResolveDType(o.DType, &cfg, be.Info())
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", spec, err)
	}
	src, err := OpenSafetensors(spec)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	m, err := Load(be, cfg, src, dt)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", spec, err)
	}
	l := &Loaded{Model: m, Cfg: cfg, DType: dt, ComputeDType: computeDType(dt, be), Tokenizer: o.Tokenizer, Source: spec}
	if l.Tokenizer == nil {
		if tok, err := LoadTokenizer(spec); err == nil {
			l.Tokenizer = tok
		}
	}
	return l, nil
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

// Encode tokenizes a prompt, with BOS first where the model's tokenizer
// adds one (OPT, Llama, Mistral; not Qwen or SmolLM2).
func (l *Loaded) Encode(text string) ([]int32, error) {
	if l.Tokenizer == nil {
		return nil, fmt.Errorf("model %s has no tokenizer (tokenizer.json, or vocab.json and merges.txt): text prompts cannot be encoded", l.Source)
	}
	ids, err := l.Tokenizer.Encode(text)
	if err != nil {
		return nil, err
	}
	return append(l.PromptPrefix(), ids...), nil
}

// PromptPrefix is what a prompt starts with: BOS where the model's
// tokenizer adds one (OPT, Llama, Mistral), else nothing (Qwen, SmolLM2).
func (l *Loaded) PromptPrefix() []int32 {
	if l.Cfg.AddBOS && l.Cfg.BOS >= 0 {
		return []int32{int32(l.Cfg.BOS)}
	}
	return nil
}
