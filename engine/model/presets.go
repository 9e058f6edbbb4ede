package model

import (
	"fmt"
	"sort"
)

// Presets are the embedded models: real architectures with seeded synthetic
// weights, built at start-up. Their performance is the real model's; their
// text is not. They have no tokenizer file: text goes through the GPT-2
// tokenizer (r50k_base), its ids folded into the model's vocabulary when
// that is smaller; the OPT presets' BOS and EOS are GPT-2's end-of-text
// token 50256, the Llama family's the published model's.
var Presets = map[string]Config{
	"opt-125m": func() Config {
		c := defaultConfig()
		c.Name, c.TorchDType, c.BOS, c.EOS = "opt-125m", "float16", 50256, 50256
		return c
	}(),
	"tiny": func() Config {
		c := defaultConfig()
		c.Name, c.TorchDType, c.BOS, c.EOS = "tiny", "float32", 50256, 50256
		c.HiddenSize, c.NumLayers, c.NumHeads, c.FFNDim = 64, 2, 2, 256
		return c
	}(),
	// HuggingFaceTB/SmolLM2-135M's config.json.
	"smollm2-135m": llamaPreset("smollm2-135m", archLlama, func(c *Config) {
		c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumLayers, c.NumHeads, c.NumKVHeads, c.HeadDimension = 49152, 576, 1536, 30, 9, 3, 64
		c.MaxPositions, c.RMSNormEps, c.RopeTheta, c.BOS, c.EOS, c.AddBOS = 8192, 1e-5, 100000, 0, 0, false
	}),
	// Qwen/Qwen3-0.6B's config.json.
	"qwen3-0.6b": llamaPreset("qwen3-0.6b", archQwen3, func(c *Config) {
		c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumLayers, c.NumHeads, c.NumKVHeads, c.HeadDimension = 151936, 1024, 3072, 28, 16, 8, 128
		c.MaxPositions, c.RMSNormEps, c.RopeTheta, c.BOS, c.EOS = 40960, 1e-6, 1000000, 151643, 151645
	}),
	// meta-llama/Llama-3.2-1B's config.json.
	"llama-3.2-1b": llamaPreset("llama-3.2-1b", archLlama, func(c *Config) {
		c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumLayers, c.NumHeads, c.NumKVHeads, c.HeadDimension = 128256, 2048, 8192, 16, 32, 8, 64
		c.MaxPositions, c.RMSNormEps, c.RopeTheta, c.BOS, c.EOS = 131072, 1e-5, 500000, 128000, 128001
		c.RopeScaling = &RopeScaling{RopeType: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 8192}
	}),
	// Small Llama-family models for tests and CPU runs: every code path of
	// the full-size ones (grouped KV heads, llama3 rope scaling; Qwen3's
	// q/k norms, explicit head_dim and an untied head).
	"tiny-llama": llamaPreset("tiny-llama", archLlama, func(c *Config) {
		c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumLayers, c.NumHeads, c.NumKVHeads, c.HeadDimension = 32000, 64, 176, 2, 4, 2, 16
		c.MaxPositions, c.RMSNormEps, c.RopeTheta, c.BOS, c.EOS = 2048, 1e-5, 500000, 1, 2
		c.RopeScaling = &RopeScaling{RopeType: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 256}
	}),
	"tiny-qwen3": llamaPreset("tiny-qwen3", archQwen3, func(c *Config) {
		c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumLayers, c.NumHeads, c.NumKVHeads, c.HeadDimension = 51200, 64, 160, 2, 4, 2, 32
		c.MaxPositions, c.RMSNormEps, c.RopeTheta, c.BOS, c.EOS = 4096, 1e-6, 1000000, -1, 50256
		untied := false
		c.TieWordEmbeddings = &untied
	}),
}

// llamaPreset is arch's defaults with bf16 weights and tied embeddings (as
// the published small models have), then set's fields. (TestPresets
// validates every preset.)
func llamaPreset(name, arch string, set func(*Config)) Config {
	c := defaultsFor(arch)
	tied := true
	c.Name, c.TorchDType, c.TieWordEmbeddings = name, "bfloat16", &tied
	set(&c)
	return c
}

// DefaultPreset is the model benchtop runs when none is named.
const DefaultPreset = "opt-125m"

// PresetNames lists the embedded presets.
func PresetNames() []string {
	var out []string
	for n := range Presets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// folded is a tokenizer whose ids are folded into a smaller vocabulary
// (id mod vocab): a stand-in that gives a preset real text lengths.
type folded struct {
	Tokenizer
	vocab int32
}

// foldInto wraps tok so its ids fit a vocabulary of vocab (tok itself when
// they already do).
func foldInto(tok Tokenizer, vocab int) Tokenizer {
	if int(tok.MaxID()) < vocab {
		return tok
	}
	return &folded{tok, int32(vocab)}
}

func (f *folded) Name() string {
	return fmt.Sprintf("%s, ids folded into %d", f.Tokenizer.Name(), f.vocab)
}

func (f *folded) Encode(text string) ([]int32, error) {
	ids, err := f.Tokenizer.Encode(text)
	return f.fold(ids), err
}

func (f *folded) EncodeSpecial(text string) ([]int32, error) {
	ids, err := f.Tokenizer.EncodeSpecial(text)
	return f.fold(ids), err
}

func (f *folded) MaxID() int32 { return f.vocab - 1 }

func (f *folded) fold(ids []int32) []int32 {
	for i := range ids {
		ids[i] %= f.vocab
	}
	return ids
}
