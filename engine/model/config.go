package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"benchtop/kernels"
)

// Config is an OPT configuration with transformers' field names and defaults.
type Config struct {
	Name                 string   `json:"-"`
	ModelType            string   `json:"model_type"`
	Architectures        []string `json:"architectures"`
	VocabSize            int      `json:"vocab_size"`
	HiddenSize           int      `json:"hidden_size"`
	NumLayers            int      `json:"num_hidden_layers"`
	NumHeads             int      `json:"num_attention_heads"`
	FFNDim               int      `json:"ffn_dim"`
	MaxPositions         int      `json:"max_position_embeddings"`
	WordEmbedProjDim     int      `json:"word_embed_proj_dim"`
	DoLayerNormBefore    bool     `json:"do_layer_norm_before"`
	RemoveFinalLayerNorm bool     `json:"_remove_final_layer_norm"`
	EnableBias           bool     `json:"enable_bias"`
	LayerNormAffine      bool     `json:"layer_norm_elementwise_affine"`
	Activation           string   `json:"activation_function"`
	BOS                  int      `json:"bos_token_id"`
	EOS                  int      `json:"eos_token_id"`
	PAD                  int      `json:"pad_token_id"`
	TorchDType           string   `json:"torch_dtype"`
	DTypeV5              string   `json:"dtype"` // transformers ≥ 5 writes "dtype"
	TieWordEmbeddings    *bool    `json:"tie_word_embeddings"`
}

// PositionOffset is OPT's learned-position offset: position p reads row p+2.
const PositionOffset = 2

// LayerNormEps is the epsilon of every OPT layer norm (torch's default).
const LayerNormEps = 1e-5

func defaultConfig() Config {
	return Config{
		ModelType: "opt", VocabSize: 50272, HiddenSize: 768, NumLayers: 12, NumHeads: 12,
		FFNDim: 3072, MaxPositions: 2048, DoLayerNormBefore: true, EnableBias: true,
		LayerNormAffine: true, Activation: "relu", BOS: 2, EOS: 2, PAD: 1,
	}
}

// HeadDim is the width of one attention head.
func (c *Config) HeadDim() int { return c.HiddenSize / c.NumHeads }

// ProjDim is the width of the embeddings (word_embed_proj_dim).
func (c *Config) ProjDim() int {
	if c.WordEmbedProjDim == 0 {
		return c.HiddenSize
	}
	return c.WordEmbedProjDim
}

// CheckpointDType is the dtype the checkpoint was saved in, per its config.
func (c *Config) CheckpointDType() kernels.DType {
	d := c.TorchDType
	if d == "" {
		d = c.DTypeV5
	}
	switch d {
	case "float16":
		return kernels.F16
	case "bfloat16":
		return kernels.BF16
	}
	return kernels.F32
}

// ErrUnsupported marks a model folder the engine cannot run.
var ErrUnsupported = errors.New("unsupported model")

// Validate checks the configuration describes an OPT the engine can run.
func (c *Config) Validate() error {
	if c.ModelType != "opt" && !slices.Contains(c.Architectures, "OPTForCausalLM") {
		return fmt.Errorf("model_type %q, architectures %v: only OPT (OPTForCausalLM) is supported: %w", c.ModelType, c.Architectures, ErrUnsupported)
	}
	if c.Activation != "relu" {
		return fmt.Errorf("activation_function %q: only relu is supported: %w", c.Activation, ErrUnsupported)
	}
	switch {
	case c.VocabSize <= 0, c.HiddenSize <= 0, c.NumLayers <= 0, c.NumHeads <= 0, c.FFNDim <= 0, c.MaxPositions <= 0:
		return fmt.Errorf("config has a non-positive size (vocab %d, hidden %d, layers %d, heads %d, ffn %d, positions %d)",
			c.VocabSize, c.HiddenSize, c.NumLayers, c.NumHeads, c.FFNDim, c.MaxPositions)
	case c.HiddenSize%c.NumHeads != 0:
		return fmt.Errorf("hidden_size %d is not divisible by num_attention_heads %d", c.HiddenSize, c.NumHeads)
	case c.TieWordEmbeddings != nil && !*c.TieWordEmbeddings:
		return fmt.Errorf("tie_word_embeddings false: an untied OPT head is not supported: %w", ErrUnsupported)
	}
	return nil
}

// HasFinalNorm says whether the decoder ends with final_layer_norm.
func (c *Config) HasFinalNorm() bool { return c.DoLayerNormBefore && !c.RemoveFinalLayerNorm }

// ReadConfig reads dir/config.json.
func ReadConfig(dir string) (Config, error) {
	path := filepath.Join(dir, "config.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("model folder %s: %w", dir, err)
	}
	c := defaultConfig()
	if err := json.Unmarshal(raw, &c); err != nil {
		return Config{}, fmt.Errorf("parse %s: %w", path, err)
	}
	c.Name = filepath.Base(filepath.Clean(dir))
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParamCount is the number of distinct weights (the tied head counted once).
func (c *Config) ParamCount() int64 {
	h, f, p := int64(c.HiddenSize), int64(c.FFNDim), int64(c.ProjDim())
	n := int64(c.VocabSize)*p + int64(c.MaxPositions+PositionOffset)*h
	if p != h {
		n += 2 * p * h
	}
	perLayer := 4*(h*h+h) + 2*h + (h*f + f) + (f*h + h) + 2*h
	n += int64(c.NumLayers) * perLayer
	if c.HasFinalNorm() {
		n += 2 * h
	}
	return n
}

// MatmulFLOPsPerToken is two per weight a token is multiplied by: the
// decoder's projections and feed-forward, and the LM head.
func (c *Config) MatmulFLOPsPerToken() float64 {
	h, f, p := float64(c.HiddenSize), float64(c.FFNDim), float64(c.ProjDim())
	return 2 * (float64(c.NumLayers)*(4*h*h+2*h*f) + float64(c.VocabSize)*p)
}

// AttentionFLOPsPerContextToken is what one query spends on one cached
// token in every layer: its score and its share of the values.
func (c *Config) AttentionFLOPsPerContextToken() float64 {
	return 4 * float64(c.HiddenSize) * float64(c.NumLayers)
}
