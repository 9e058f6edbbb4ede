package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"benchtop/kernels"
)

// Config is a model's configuration with transformers' field names and
// defaults: OPT's fields and the Llama family's in one struct, each family
// reading its own. Arch, set by ParseConfig (or by a preset), says which.
type Config struct {
	Name              string   `json:"-"`
	Arch              string   `json:"-"` // the supported architecture it names, e.g. "Qwen3ForCausalLM"
	ModelType         string   `json:"model_type"`
	Architectures     []string `json:"architectures"`
	VocabSize         int      `json:"vocab_size"`
	HiddenSize        int      `json:"hidden_size"`
	NumLayers         int      `json:"num_hidden_layers"`
	NumHeads          int      `json:"num_attention_heads"`
	MaxPositions      int      `json:"max_position_embeddings"`
	BOS               TokenID  `json:"bos_token_id"`
	EOS               TokenID  `json:"eos_token_id"` // the first, when the config lists several
	PAD               TokenID  `json:"pad_token_id"`
	TorchDType        string   `json:"torch_dtype"`
	DTypeV5           string   `json:"dtype"` // transformers ≥ 5 writes "dtype"
	TieWordEmbeddings *bool    `json:"tie_word_embeddings"`
	// AddBOS says whether a prompt starts with BOS (OPT, Llama and Mistral
	// tokenizers add it; Qwen's and SmolLM2's do not).
	AddBOS bool `json:"-"`

	// OPT (OPTForCausalLM).
	FFNDim               int    `json:"ffn_dim"`
	WordEmbedProjDim     int    `json:"word_embed_proj_dim"`
	DoLayerNormBefore    bool   `json:"do_layer_norm_before"`
	RemoveFinalLayerNorm bool   `json:"_remove_final_layer_norm"`
	EnableBias           bool   `json:"enable_bias"`
	LayerNormAffine      bool   `json:"layer_norm_elementwise_affine"`
	Activation           string `json:"activation_function"`

	// The Llama family (LlamaForCausalLM, MistralForCausalLM,
	// Qwen2ForCausalLM, Qwen3ForCausalLM).
	IntermediateSize int     `json:"intermediate_size"`
	NumKVHeads       int     `json:"num_key_value_heads"` // 0: num_attention_heads
	HeadDimension    int     `json:"head_dim"`            // 0: hidden_size / num_attention_heads
	RMSNormEps       float64 `json:"rms_norm_eps"`
	HiddenAct        string  `json:"hidden_act"`
	AttentionBias    bool    `json:"attention_bias"` // q/k/v and o biases (Qwen2 always has q/k/v ones)
	MLPBias          bool    `json:"mlp_bias"`
	RopeTheta        float64 `json:"rope_theta"`
	// RopeScaling is rope_scaling, or transformers ≥ 5's rope_parameters;
	// after parsing it is nil for the default rotary embedding.
	RopeScaling         *RopeScaling `json:"rope_scaling"`
	RopeParameters      *RopeScaling `json:"rope_parameters"`
	PartialRotaryFactor *float64     `json:"partial_rotary_factor"`
	// SlidingWindow (Mistral; Qwen2/3 when use_sliding_window): attention
	// looks back this many tokens. Within the window that is full
	// attention, so parsing caps MaxPositions at it.
	SlidingWindow    *int `json:"sliding_window"`
	UseSlidingWindow bool `json:"use_sliding_window"`
}

// RopeScaling is a rope_scaling (or rope_parameters) object.
type RopeScaling struct {
	RopeType             string   `json:"rope_type"`
	Type                 string   `json:"type"` // the key before rope_type
	Factor               float64  `json:"factor"`
	LowFreqFactor        float64  `json:"low_freq_factor"`
	HighFreqFactor       float64  `json:"high_freq_factor"`
	OriginalMaxPositions int      `json:"original_max_position_embeddings"`
	RopeTheta            float64  `json:"rope_theta"` // rope_parameters carries it
	PartialRotaryFactor  *float64 `json:"partial_rotary_factor"`
}

// Kind is the scaling type: default, linear, llama3, ...
func (r *RopeScaling) Kind() string {
	switch {
	case r == nil:
		return "default"
	case r.RopeType != "":
		return r.RopeType
	case r.Type != "":
		return r.Type
	}
	return "default"
}

// TokenID is a special token's id, -1 when the config names none. It reads
// a number, null, or a list (the first id: eos_token_id is a list in some
// instruct models).
type TokenID int

func (t *TokenID) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if l, ok := v.([]any); ok {
		if len(l) == 0 {
			*t = -1
			return nil
		}
		v = l[0]
	}
	switch x := v.(type) {
	case nil:
		*t = -1
	case float64:
		if x != math.Trunc(x) || x < -1 || x > math.MaxInt32 {
			return fmt.Errorf("token id %v is not an id", x)
		}
		*t = TokenID(x)
	default:
		return fmt.Errorf("token id %s is not a number", b)
	}
	return nil
}

// The supported architectures, by family.
const (
	archOPT     = "OPTForCausalLM"
	archLlama   = "LlamaForCausalLM"
	archMistral = "MistralForCausalLM"
	archQwen2   = "Qwen2ForCausalLM"
	archQwen3   = "Qwen3ForCausalLM"
)

// Architectures lists what benchtop runs, each with its model_type.
var Architectures = []struct{ Arch, ModelType string }{
	{archOPT, "opt"}, {archLlama, "llama"}, {archMistral, "mistral"}, {archQwen2, "qwen2"}, {archQwen3, "qwen3"},
}

func supportedList() string {
	var s []string
	for _, a := range Architectures {
		s = append(s, a.Arch)
	}
	return strings.Join(s, ", ")
}

// PositionOffset is OPT's learned-position offset: position p reads row p+2.
const PositionOffset = 2

// LayerNormEps is the epsilon of every OPT layer norm (torch's default).
const LayerNormEps = 1e-5

// defaultConfig is OPTConfig's defaults (opt-125m's shape).
func defaultConfig() Config {
	return Config{
		Arch: archOPT, ModelType: "opt", VocabSize: 50272, HiddenSize: 768, NumLayers: 12, NumHeads: 12,
		FFNDim: 3072, MaxPositions: 2048, DoLayerNormBefore: true, EnableBias: true,
		LayerNormAffine: true, Activation: "relu", BOS: 2, EOS: 2, PAD: 1, AddBOS: true,
	}
}

// defaultsFor is transformers' defaults of arch's configuration class.
func defaultsFor(arch string) Config {
	if arch == archOPT {
		return defaultConfig()
	}
	c := Config{Arch: arch, VocabSize: 32000, HiddenSize: 4096, IntermediateSize: 11008, NumLayers: 32, NumHeads: 32,
		MaxPositions: 2048, RMSNormEps: 1e-6, HiddenAct: "silu", RopeTheta: 10000, BOS: 1, EOS: 2, PAD: -1, AddBOS: true}
	switch arch {
	case archLlama:
		c.ModelType = "llama"
	case archMistral:
		c.ModelType, c.IntermediateSize, c.NumKVHeads, c.MaxPositions = "mistral", 14336, 8, 4096*32
		w := 4096
		c.SlidingWindow = &w
	case archQwen2, archQwen3:
		c.ModelType, c.VocabSize, c.IntermediateSize, c.MaxPositions = "qwen2", 151936, 22016, 32768
		c.BOS, c.EOS, c.AddBOS = -1, -1, false
		if arch == archQwen3 {
			c.ModelType, c.HeadDimension = "qwen3", 128
		}
	}
	return c
}

// archOf finds the supported architecture a config names: the first of
// architectures that is supported, else model_type's.
func archOf(architectures []string, modelType string) (string, error) {
	for _, a := range architectures {
		for _, s := range Architectures {
			if a == s.Arch {
				return a, nil
			}
		}
	}
	if len(architectures) == 0 {
		for _, s := range Architectures {
			if modelType == s.ModelType {
				return s.Arch, nil
			}
		}
	}
	return "", fmt.Errorf("model_type %q, architectures %v: supported are %s: %w", modelType, architectures, supportedList(), ErrUnsupported)
}

// IsLlama says whether the config is of the Llama family (Llama, Mistral,
// Qwen2, Qwen3), else OPT.
func (c *Config) IsLlama() bool { return c.Arch != archOPT }

// QKVBias says whether q, k and v have biases: OPT's enable_bias, Qwen2
// always, attention_bias otherwise.
func (c *Config) QKVBias() bool {
	switch c.Arch {
	case archOPT:
		return c.EnableBias
	case archQwen2:
		return true
	}
	return c.AttentionBias
}

// QKNorm says whether attention norms each Q and K head (Qwen3).
func (c *Config) QKNorm() bool { return c.Arch == archQwen3 }

// Tied says whether the LM head is the token embedding.
func (c *Config) Tied() bool {
	if !c.IsLlama() {
		return true
	}
	return c.TieWordEmbeddings != nil && *c.TieWordEmbeddings
}

// HeadDim is the width of one attention head.
func (c *Config) HeadDim() int {
	if c.HeadDimension > 0 && c.IsLlama() {
		return c.HeadDimension
	}
	return c.HiddenSize / c.NumHeads
}

// KVHeads is the number of key/value heads (grouped-query attention when
// fewer than NumHeads).
func (c *Config) KVHeads() int {
	if c.NumKVHeads > 0 && c.IsLlama() {
		return c.NumKVHeads
	}
	return c.NumHeads
}

// KVWidth is the width of one token's K (or V) in one layer: a KV-cache row.
func (c *Config) KVWidth() int { return c.KVHeads() * c.HeadDim() }

// AttnShape is the attention geometry. Both families fold the 1/sqrt(head
// size) scale into Q before attention (OPT into its weights, the Llama
// family in WriteKV), so Scale is 1.
func (c *Config) AttnShape() kernels.AttnShape {
	return kernels.AttnShape{NumHeads: c.NumHeads, NumKVHeads: c.KVHeads(), HeadDim: c.HeadDim(), Scale: 1}
}

// FFNWidth is the width of a token's feed-forward activation: OPT's ffn_dim,
// the Llama family's intermediate_size.
func (c *Config) FFNWidth() int {
	if c.IsLlama() {
		return c.IntermediateSize
	}
	return c.FFNDim
}

// ProjDim is the width of the embeddings (OPT's word_embed_proj_dim).
func (c *Config) ProjDim() int {
	if c.WordEmbedProjDim == 0 || c.IsLlama() {
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

// Bounds on sizes from a config: far above any real model, low enough that
// no product of them overflows an int64 (parameter and byte counts).
const (
	maxVocab     = 1 << 22
	maxHidden    = 1 << 16
	maxFFN       = 1 << 20
	maxLayers    = 1 << 10
	maxHeads     = 1 << 10
	maxHeadDim   = 1 << 10
	maxPositions = 1 << 24
)

// normalize fills what a config leaves to its family (KV heads, the rotary
// embedding's parameters) and caps the length at a sliding window.
func (c *Config) normalize() error {
	if c.Arch == "" {
		a, err := archOf(c.Architectures, c.ModelType)
		if err != nil {
			return err
		}
		c.Arch = a
	}
	if !c.IsLlama() {
		return nil
	}
	if c.NumKVHeads == 0 {
		c.NumKVHeads = c.NumHeads
	}
	if p := c.RopeParameters; p != nil {
		if p.RopeTheta != 0 {
			c.RopeTheta = p.RopeTheta
		}
		if c.RopeScaling == nil {
			c.RopeScaling = p
		}
		if c.PartialRotaryFactor == nil {
			c.PartialRotaryFactor = p.PartialRotaryFactor
		}
		c.RopeParameters = nil
	}
	if c.RopeScaling.Kind() == "default" {
		c.RopeScaling = nil
	}
	window := c.SlidingWindow != nil && (c.Arch == archMistral || c.UseSlidingWindow)
	if window && *c.SlidingWindow > 0 && *c.SlidingWindow < c.MaxPositions {
		c.MaxPositions = *c.SlidingWindow
	}
	return nil
}

// Validate checks the configuration describes a model the engine can run,
// with sizes in range.
func (c *Config) Validate() error {
	if err := c.normalize(); err != nil {
		return err
	}
	switch {
	case c.VocabSize <= 0, c.HiddenSize <= 0, c.NumLayers <= 0, c.NumHeads <= 0, c.FFNWidth() <= 0, c.MaxPositions <= 0:
		return fmt.Errorf("config has a non-positive size (vocab %d, hidden %d, layers %d, heads %d, feed-forward %d, positions %d)",
			c.VocabSize, c.HiddenSize, c.NumLayers, c.NumHeads, c.FFNWidth(), c.MaxPositions)
	case c.VocabSize > maxVocab, c.HiddenSize > maxHidden, c.NumLayers > maxLayers, c.NumHeads > maxHeads,
		c.FFNWidth() > maxFFN, c.MaxPositions > maxPositions, c.ProjDim() > maxHidden || c.ProjDim() < 0:
		return fmt.Errorf("config size out of range (vocab %d ≤ %d, hidden %d ≤ %d, layers %d ≤ %d, heads %d ≤ %d, feed-forward %d ≤ %d, positions %d ≤ %d)",
			c.VocabSize, maxVocab, c.HiddenSize, maxHidden, c.NumLayers, maxLayers, c.NumHeads, maxHeads, c.FFNWidth(), maxFFN, c.MaxPositions, maxPositions)
	}
	for _, id := range []struct {
		name string
		v    TokenID
	}{{"bos_token_id", c.BOS}, {"eos_token_id", c.EOS}} {
		if id.v < -1 || int(id.v) >= c.VocabSize {
			return fmt.Errorf("%s %d is outside the vocabulary of %d", id.name, id.v, c.VocabSize)
		}
	}
	if c.IsLlama() {
		return c.validateLlama()
	}
	switch {
	case c.Activation != "relu":
		return fmt.Errorf("activation_function %q: only relu is supported: %w", c.Activation, ErrUnsupported)
	case c.HiddenSize%c.NumHeads != 0:
		return fmt.Errorf("hidden_size %d is not divisible by num_attention_heads %d", c.HiddenSize, c.NumHeads)
	case c.TieWordEmbeddings != nil && !*c.TieWordEmbeddings:
		return fmt.Errorf("tie_word_embeddings false: an untied OPT head is not supported: %w", ErrUnsupported)
	}
	return nil
}

func (c *Config) validateLlama() error {
	hd, kvh := c.HeadDim(), c.KVHeads()
	switch {
	case c.HiddenAct != "silu":
		return fmt.Errorf("hidden_act %q: the Llama family runs silu (SwiGLU) only: %w", c.HiddenAct, ErrUnsupported)
	case c.HeadDimension < 0 || c.NumKVHeads < 0:
		return fmt.Errorf("head_dim %d, num_key_value_heads %d: must not be negative", c.HeadDimension, c.NumKVHeads)
	case hd <= 0 || hd > maxHeadDim:
		return fmt.Errorf("head size %d (head_dim, or hidden_size %d / num_attention_heads %d): must be in 1..%d", hd, c.HiddenSize, c.NumHeads, maxHeadDim)
	case hd%2 != 0:
		return fmt.Errorf("head size %d is odd: the rotary embedding pairs a head's halves", hd)
	case c.NumHeads%kvh != 0:
		return fmt.Errorf("num_attention_heads %d is not a multiple of num_key_value_heads %d", c.NumHeads, kvh)
	case !(c.RMSNormEps > 0 && c.RMSNormEps < 1):
		return fmt.Errorf("rms_norm_eps %g: must be in (0, 1)", c.RMSNormEps)
	case !(c.RopeTheta > 1 && c.RopeTheta < 1e12):
		return fmt.Errorf("rope_theta %g: must be in (1, 1e12)", c.RopeTheta)
	case c.PartialRotaryFactor != nil && *c.PartialRotaryFactor != 1:
		return fmt.Errorf("partial_rotary_factor %g: only full rotary embeddings are supported: %w", *c.PartialRotaryFactor, ErrUnsupported)
	}
	r := c.RopeScaling
	switch k := r.Kind(); k {
	case "default":
	case "linear":
		if !(r.Factor >= 1 && r.Factor < 1e6) {
			return fmt.Errorf("rope_scaling linear factor %g: must be in [1, 1e6)", r.Factor)
		}
	case "llama3":
		if !(r.Factor >= 1 && r.Factor < 1e6) || !(r.LowFreqFactor > 0) || !(r.HighFreqFactor > r.LowFreqFactor) ||
			r.HighFreqFactor > 1e6 || r.OriginalMaxPositions <= 0 || r.OriginalMaxPositions > maxPositions {
			return fmt.Errorf("rope_scaling llama3 (factor %g, low_freq_factor %g, high_freq_factor %g, original_max_position_embeddings %d): want factor ≥ 1, 0 < low < high, a positive original length",
				r.Factor, r.LowFreqFactor, r.HighFreqFactor, r.OriginalMaxPositions)
		}
	default:
		return fmt.Errorf("rope_scaling type %q is not supported (default, linear and llama3 are): %w", k, ErrUnsupported)
	}
	return nil
}

// HasFinalNorm says whether an OPT decoder ends with final_layer_norm.
func (c *Config) HasFinalNorm() bool { return c.DoLayerNormBefore && !c.RemoveFinalLayerNorm }

// ParseConfig reads a config.json's bytes: the architecture first, then
// every field over that architecture's defaults; the result is validated.
func ParseConfig(raw []byte, name string) (Config, error) {
	var probe struct {
		ModelType     string   `json:"model_type"`
		Architectures []string `json:"architectures"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return Config{}, fmt.Errorf("parse: %w", err)
	}
	arch, err := archOf(probe.Architectures, probe.ModelType)
	if err != nil {
		return Config{}, err
	}
	c := defaultsFor(arch)
	if err := json.Unmarshal(raw, &c); err != nil {
		return Config{}, fmt.Errorf("parse: %w", err)
	}
	// An explicit null means "derive it" in transformers (hidden / heads,
	// as many KV heads as heads), where JSON would keep the class default.
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) == nil {
		if string(fields["head_dim"]) == "null" {
			c.HeadDimension = 0
		}
		if string(fields["num_key_value_heads"]) == "null" {
			c.NumKVHeads = 0
		}
	}
	c.Name, c.Arch = name, arch
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// ReadConfig reads dir/config.json.
func ReadConfig(dir string) (Config, error) {
	path := filepath.Join(dir, "config.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("model folder %s: %w", dir, err)
	}
	c, err := ParseConfig(raw, filepath.Base(filepath.Clean(dir)))
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParamCount is the number of distinct weights (a tied head counted once).
func (c *Config) ParamCount() int64 {
	h, f, p := int64(c.HiddenSize), int64(c.FFNWidth()), int64(c.ProjDim())
	if c.IsLlama() {
		q, kv, hd := int64(c.NumHeads*c.HeadDim()), int64(c.KVWidth()), int64(c.HeadDim())
		perLayer := h*(q+2*kv) + q*h + 3*h*f + 2*h
		if c.QKVBias() {
			perLayer += q + 2*kv
		}
		if c.AttentionBias {
			perLayer += h
		}
		if c.MLPBias {
			perLayer += 2*f + h
		}
		if c.QKNorm() {
			perLayer += 2 * hd
		}
		n := int64(c.VocabSize)*h + int64(c.NumLayers)*perLayer + h
		if !c.Tied() {
			n += int64(c.VocabSize) * h
		}
		return n
	}
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
	h, f, p := float64(c.HiddenSize), float64(c.FFNWidth()), float64(c.ProjDim())
	if c.IsLlama() {
		q, kv := float64(c.NumHeads*c.HeadDim()), float64(c.KVWidth())
		return 2 * (float64(c.NumLayers)*(h*(q+2*kv)+q*h+3*h*f) + float64(c.VocabSize)*h)
	}
	return 2 * (float64(c.NumLayers)*(4*h*h+2*h*f) + float64(c.VocabSize)*p)
}

// AttentionFLOPsPerContextToken is what one query spends on one cached
// token in every layer: its score and its share of the values, per query
// head.
func (c *Config) AttentionFLOPsPerContextToken() float64 {
	return 4 * float64(c.NumHeads*c.HeadDim()) * float64(c.NumLayers)
}

// KVBytesPerToken is the KV cache one token takes across all layers, K and
// V: 2 × layers × KV heads × head size × the element size.
func (c *Config) KVBytesPerToken(dt kernels.DType) int64 {
	return 2 * int64(c.NumLayers) * int64(c.KVWidth()) * int64(dt.Size())
}
