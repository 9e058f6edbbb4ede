package model

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"benchtop/kernels"
	"benchtop/kernels/cpu"
)

// llamaVariant is a small config for each path of the Llama family.
func llamaVariant(name string) Config {
	var c Config
	untied := func() { f := false; c.TieWordEmbeddings = &f }
	tied := func() { tr := true; c.TieWordEmbeddings = &tr }
	switch name {
	case "llama-gqa-tied-llama3":
		c = defaultsFor(archLlama)
		c.HiddenSize, c.NumHeads, c.NumKVHeads, c.IntermediateSize = 48, 6, 2, 80
		// Wavelengths 6.3, 63, 628 and 6283 against an original length of
		// 64: one kept, one smoothed, two divided by the factor.
		c.RopeScaling = &RopeScaling{RopeType: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 64}
		tied()
	case "llama-mha-untied-linear-biases":
		c = defaultsFor(archLlama)
		c.HiddenSize, c.NumHeads, c.IntermediateSize = 48, 4, 72
		c.RopeScaling = &RopeScaling{Type: "linear", Factor: 2}
		c.AttentionBias, c.MLPBias = true, true
		untied()
	case "mistral-gqa":
		c = defaultsFor(archMistral)
		c.HiddenSize, c.NumHeads, c.NumKVHeads, c.IntermediateSize = 32, 4, 1, 64
	case "qwen2-biases":
		c = defaultsFor(archQwen2)
		c.HiddenSize, c.NumHeads, c.NumKVHeads, c.IntermediateSize, c.RopeTheta = 32, 4, 2, 56, 1e6
		untied()
	case "qwen3-qknorm-headdim":
		c = defaultsFor(archQwen3)
		c.HiddenSize, c.NumHeads, c.NumKVHeads, c.HeadDimension, c.IntermediateSize, c.RopeTheta = 32, 4, 2, 16, 48, 1e6
		tied()
	default:
		panic(name)
	}
	c.Name, c.VocabSize, c.NumLayers, c.MaxPositions, c.RMSNormEps = name, 97, 2, 128, 1e-5
	c.BOS, c.EOS = 1, 2
	if err := c.Validate(); err != nil {
		panic(fmt.Sprintf("%s: %v", name, err))
	}
	return c
}

var llamaVariants = []string{"llama-gqa-tied-llama3", "llama-mha-untied-linear-biases", "mistral-gqa", "qwen2-biases", "qwen3-qknorm-headdim"}

// scaled makes synthetic weights ten times larger (norm weights 1 ± 0.2),
// so attention is far from uniform and every weight moves the logits.
type scaled struct{ *SyntheticSource }

func (s scaled) Tensor(name string) ([]float32, []int, bool, error) {
	v, shape, ok, err := s.SyntheticSource.Tensor(name)
	norm := strings.Contains(name, "norm")
	for i := range v {
		if norm {
			v[i] = 1 + (v[i]-1)*10
		} else {
			v[i] *= 10
		}
	}
	return v, shape, ok, err
}

func TestLlamaForwardMatchesNaiveReference(t *testing.T) {
	for _, variant := range llamaVariants {
		t.Run(variant, func(t *testing.T) {
			c := llamaVariant(variant)
			src := scaled{NewSyntheticSource(c, 3)}
			be := cpu.New(1 << 30)
			m, err := Load(be, c, src, kernels.F32)
			if err != nil {
				t.Fatal(err)
			}
			if m.WeightBytes() != be.MemoryInUse() {
				t.Fatalf("weights take %d bytes, the backend has %d in use", m.WeightBytes(), be.MemoryInUse())
			}
			ids := []int32{5, 17, 3, 96, 40, 40, 2, 11, 60, 7, 1, 0, 33, 8, 8, 90, 91, 4, 77, 21}
			want := naiveLlama(c, sourceFunc(t, src), ids)
			split := 6
			got := runPaged(t, be, m, &c, ids, split, 4)
			for i, g := range got {
				compareLogits(t, fmt.Sprintf("position %d", split-1+i), want[split-1+i], g, 1e-4)
			}
			var count int64
			shapes, _ := checkpointTensors(c)
			for _, s := range shapes {
				count += int64(kernels.Numel(s))
			}
			if count != c.ParamCount() {
				t.Fatalf("checkpoint holds %d parameters, ParamCount says %d", count, c.ParamCount())
			}
			before, weights := be.MemoryInUse(), m.WeightBytes()
			m.Free(be)
			if freed := before - be.MemoryInUse(); freed != weights {
				t.Fatalf("Free released %d bytes of %d", freed, weights)
			}
		})
	}
}

// The rotary frequencies against numbers worked by hand from transformers'
// formulas.
func TestInvFreq(t *testing.T) {
	c := llamaVariant("llama-gqa-tied-llama3") // head size 8, theta 10000
	got := c.InvFreq()
	// 1, 0.1, 0.01, 0.001 → wavelengths 6.28 (< 16: kept), 62.8 (between
	// 16 and 64: smooth = (64/62.83 - 1)/3 = 0.00625), 628 and 6283 (/ 8).
	smooth := (64/(2*math.Pi/0.1) - 1) / 3
	want := []float64{1, (1-smooth)*0.1/8 + smooth*0.1, 0.01 / 8, 0.001 / 8}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-6*want[i] {
			t.Fatalf("inv_freq[%d] = %g, want %g", i, got[i], want[i])
		}
	}
	c = llamaVariant("llama-mha-untied-linear-biases") // head size 12, linear ×2
	if got, want := c.InvFreq(), 1/math.Pow(10000, 2.0/12)/2; len(got) != 6 || math.Abs(float64(got[1])-want) > 1e-6*want {
		t.Fatalf("linear inv_freq %v", got)
	}
}

func TestPresets(t *testing.T) {
	for _, name := range PresetNames() {
		c := Presets[name]
		if err := c.Validate(); err != nil {
			t.Fatalf("preset %s: %v", name, err)
		}
	}
	for name, want := range map[string][2]float64{
		"opt-125m": {125e6, 126e6}, "smollm2-135m": {134e6, 135e6}, "qwen3-0.6b": {595e6, 597e6}, "llama-3.2-1b": {1.23e9, 1.24e9},
	} {
		c := Presets[name]
		if got := float64(c.ParamCount()); got < want[0] || got > want[1] {
			t.Fatalf("%s has %.0f parameters, want %.0f..%.0f", name, got, want[0], want[1])
		}
	}
	// Llama-3.2-1B's KV cache: 2 × 16 layers × 8 KV heads × 64 × 2 bytes.
	c := Presets["llama-3.2-1b"]
	if got := c.KVBytesPerToken(kernels.BF16); got != 32768 {
		t.Fatalf("llama-3.2-1b KV bytes per token %d, want 32768", got)
	}
	// Every tiny preset loads and runs on the CPU, with the GPT-2 tokenizer
	// folded into its vocabulary and described as such.
	for _, name := range []string{"tiny-llama", "tiny-qwen3"} {
		be := cpu.New(1 << 30)
		l, err := Open(name, be, Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if l.DType != kernels.F32 || l.ComputeDType != kernels.F32 || l.WeightsNote() != "synthetic weights, GPT-2 tokenizer" {
			t.Fatalf("%s: dtype %s/%s, note %q", name, l.DType, l.ComputeDType, l.WeightsNote())
		}
		ids, err := l.Encode("Hello world, this is a prompt")
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if id < 0 || int(id) >= l.Cfg.VocabSize {
				t.Fatalf("%s: token %d outside the vocabulary of %d", name, id, l.Cfg.VocabSize)
			}
		}
		if (ids[0] == int32(l.Cfg.BOS)) != l.Cfg.AddBOS {
			t.Fatalf("%s: ids %v, BOS %d, add BOS %v", name, ids, l.Cfg.BOS, l.Cfg.AddBOS)
		}
		runPaged(t, be, l.Model, &l.Cfg, ids, 3, 4)
	}
}

func TestResolveDType(t *testing.T) {
	gpu := kernels.DeviceInfo{Backend: "cuda", ComputeDType: kernels.F16}
	host := kernels.DeviceInfo{Backend: "cpu", ComputeDType: kernels.F32}
	bf, fp32, fp16 := Config{TorchDType: "bfloat16"}, Config{TorchDType: "float32"}, Config{DTypeV5: "float16"}
	for _, tc := range []struct {
		req  string
		cfg  Config
		dev  kernels.DeviceInfo
		want kernels.DType
	}{
		{"auto", bf, gpu, kernels.BF16}, {"", fp16, gpu, kernels.F16}, {"auto", fp32, gpu, kernels.F16},
		{"auto", bf, host, kernels.F32}, {"bfloat16", fp16, gpu, kernels.BF16}, {"half", bf, gpu, kernels.F16},
		{"bf16", fp32, host, kernels.BF16}, {"float32", bf, host, kernels.F32},
	} {
		got, err := ResolveDType(tc.req, &tc.cfg, tc.dev)
		if err != nil || got != tc.want {
			t.Fatalf("%q with %s on %s: %s, %v; want %s", tc.req, tc.cfg.CheckpointDType(), tc.dev.Backend, got, err, tc.want)
		}
	}
	if _, err := ResolveDType("float32", &bf, gpu); err == nil {
		t.Fatal("fp32 compute accepted on a 16-bit device")
	}
	if _, err := ResolveDType("int8", &bf, gpu); err == nil || !strings.Contains(err.Error(), "auto, float16, bfloat16 or float32") {
		t.Fatalf("unknown dtype: %v", err)
	}
}

// llamaConfigJSON is c as transformers writes config.json: version 4's
// rope_theta/rope_scaling/torch_dtype, or version 5's rope_parameters/dtype.
func llamaConfigJSON(c Config, dt kernels.DType, v5 bool) map[string]any {
	m := map[string]any{"architectures": []string{c.Arch}, "model_type": c.ModelType,
		"vocab_size": c.VocabSize, "hidden_size": c.HiddenSize, "intermediate_size": c.IntermediateSize,
		"num_hidden_layers": c.NumLayers, "num_attention_heads": c.NumHeads, "num_key_value_heads": c.NumKVHeads,
		"max_position_embeddings": c.MaxPositions, "rms_norm_eps": c.RMSNormEps, "hidden_act": "silu",
		"tie_word_embeddings": c.Tied(), "attention_bias": c.AttentionBias, "mlp_bias": c.MLPBias,
		"bos_token_id": c.BOS, "eos_token_id": []int{int(c.EOS), int(c.EOS) + 1}, "pad_token_id": nil,
		"sliding_window": nil, "use_cache": true}
	if c.HeadDimension > 0 {
		m["head_dim"] = c.HeadDimension
	}
	name := map[kernels.DType]string{kernels.F32: "float32", kernels.F16: "float16", kernels.BF16: "bfloat16"}[dt]
	rope := map[string]any{"rope_type": c.RopeScaling.Kind()}
	if r := c.RopeScaling; r != nil {
		rope["factor"] = r.Factor
		if r.Kind() == "llama3" {
			rope["low_freq_factor"], rope["high_freq_factor"], rope["original_max_position_embeddings"] = r.LowFreqFactor, r.HighFreqFactor, r.OriginalMaxPositions
		}
	}
	if v5 {
		rope["rope_theta"] = c.RopeTheta
		m["rope_parameters"], m["dtype"] = rope, name
	} else {
		m["rope_theta"], m["torch_dtype"] = c.RopeTheta, name
		if c.RopeScaling != nil {
			m["rope_scaling"] = rope
		} else {
			m["rope_scaling"] = nil
		}
	}
	return m
}

// writeLlamaFolder saves cfg and src's weights (plus extra raw tensors in
// the first shard) as a Hugging Face folder.
func writeLlamaFolder(t *testing.T, dir string, c Config, src Source, dt kernels.DType, shards int, v5 bool, extra ...rawTensor) {
	t.Helper()
	raw, _ := json.Marshal(llamaConfigJSON(c, dt, v5))
	if err := os.WriteFile(filepath.Join(dir, "config.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	shapes, err := checkpointTensors(c)
	if err != nil {
		t.Fatal(err)
	}
	parts := make([][]rawTensor, shards)
	parts[0] = append(parts[0], extra...)
	weightMap := map[string]string{}
	i := 0
	for name := range shapes {
		v, shape, _, _ := src.Tensor(name)
		parts[i%shards] = append(parts[i%shards], encodeTensor(name, dt, v, shape))
		weightMap[name] = fmt.Sprintf("model-%05d-of-%05d.safetensors", i%shards+1, shards)
		i++
	}
	if shards == 1 {
		writeRaw(t, filepath.Join(dir, "model.safetensors"), parts[0])
		return
	}
	for s := range parts {
		writeRaw(t, filepath.Join(dir, fmt.Sprintf("model-%05d-of-%05d.safetensors", s+1, shards)), parts[s])
	}
	idx, _ := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 0}, "weight_map": weightMap})
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), idx, 0o644); err != nil {
		t.Fatal(err)
	}
}

// rawTensor is one tensor of a safetensors file as bytes, of any dtype.
type rawTensor struct {
	name, dtype string
	shape       []int
	data        []byte
}

func encodeTensor(name string, dt kernels.DType, v []float32, shape []int) rawTensor {
	r := rawTensor{name: name, shape: shape, dtype: map[kernels.DType]string{kernels.F32: "F32", kernels.F16: "F16", kernels.BF16: "BF16"}[dt]}
	for _, x := range v {
		switch dt {
		case kernels.F32:
			r.data = binary.LittleEndian.AppendUint32(r.data, math.Float32bits(x))
		case kernels.F16:
			r.data = binary.LittleEndian.AppendUint16(r.data, kernels.F32ToF16(x))
		case kernels.BF16:
			r.data = binary.LittleEndian.AppendUint16(r.data, kernels.F32ToBF16(x))
		}
	}
	return r
}

func writeRaw(t *testing.T, path string, ts []rawTensor) {
	t.Helper()
	hdr := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var data []byte
	for _, r := range ts {
		hdr[r.name] = map[string]any{"dtype": r.dtype, "shape": r.shape, "data_offsets": []int{len(data), len(data) + len(r.data)}}
		data = append(data, r.data...)
	}
	h, _ := json.Marshal(hdr)
	buf := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	if err := os.WriteFile(path, append(append(buf, h...), data...), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLlamaFolderRoundTrip(t *testing.T) {
	for i, variant := range llamaVariants {
		for _, tc := range []struct {
			dt     kernels.DType
			shards int
			v5     bool
		}{{kernels.F32, 1, false}, {kernels.BF16, 3, true}, {kernels.F16, 2, i%2 == 0}} {
			t.Run(fmt.Sprintf("%s-%s-%dshards-v5=%v", variant, tc.dt, tc.shards, tc.v5), func(t *testing.T) {
				dir := t.TempDir()
				c := llamaVariant(variant)
				// An unused int64 buffer (an old checkpoint's position ids) must
				// not stop the load.
				unused := rawTensor{"model.rotary_emb.position_ids", "I64", []int{3}, make([]byte, 24)}
				writeLlamaFolder(t, dir, c, scaled{NewSyntheticSource(c, 9)}, tc.dt, tc.shards, tc.v5, unused)
				be := cpu.New(1 << 30)
				l, err := Open(dir, be, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if l.Synthetic || l.WeightsNote() != "" || l.Cfg.CheckpointDType() != tc.dt || l.Cfg.Arch != c.Arch || l.Cfg.EOS != c.EOS {
					t.Fatalf("loaded %+v", l.Cfg)
				}
				back, err := OpenSafetensors(dir)
				if err != nil {
					t.Fatal(err)
				}
				defer back.Close()
				ids := []int32{2, 50, 7, 90, 13, 13, 4, 60, 61}
				want := naiveLlama(l.Cfg, sourceFunc(t, back), ids)
				got := runPaged(t, be, l.Model, &l.Cfg, ids, len(ids), 16)
				compareLogits(t, "last position", want[len(ids)-1], got[0], 1e-4)
			})
		}
	}
}

func TestBadLlamaFolders(t *testing.T) {
	c := llamaVariant("qwen3-qknorm-headdim")
	good := func(t *testing.T, c Config) string {
		dir := t.TempDir()
		writeLlamaFolder(t, dir, c, NewSyntheticSource(c, 1), kernels.BF16, 1, false)
		return dir
	}
	editConfig := func(dir string, edit func(m map[string]any)) {
		p := filepath.Join(dir, "config.json")
		raw, _ := os.ReadFile(p)
		var m map[string]any
		json.Unmarshal(raw, &m)
		edit(m)
		raw, _ = json.Marshal(m)
		os.WriteFile(p, raw, 0o644)
	}
	cases := []struct {
		name   string
		break_ func(dir string)
		want   string
	}{
		{"yarn", func(dir string) {
			editConfig(dir, func(m map[string]any) { m["rope_scaling"] = map[string]any{"rope_type": "yarn", "factor": 4} })
		}, `rope_scaling type "yarn" is not supported (default, linear and llama3 are)`},
		{"dynamic, old key", func(dir string) {
			editConfig(dir, func(m map[string]any) { m["rope_scaling"] = map[string]any{"type": "dynamic", "factor": 2} })
		}, `rope_scaling type "dynamic" is not supported`},
		{"longrope in rope_parameters", func(dir string) {
			editConfig(dir, func(m map[string]any) {
				m["rope_parameters"] = map[string]any{"rope_type": "longrope", "rope_theta": 1e4}
			})
		}, `"longrope" is not supported`},
		{"gelu", func(dir string) { editConfig(dir, func(m map[string]any) { m["hidden_act"] = "gelu" }) }, "silu"},
		{"kv heads", func(dir string) { editConfig(dir, func(m map[string]any) { m["num_key_value_heads"] = 3 }) }, "not a multiple of num_key_value_heads 3"},
		{"odd head", func(dir string) { editConfig(dir, func(m map[string]any) { m["head_dim"] = 15 }) }, "head size 15 is odd"},
		{"partial rotary", func(dir string) { editConfig(dir, func(m map[string]any) { m["partial_rotary_factor"] = 0.5 }) }, "partial_rotary_factor"},
		{"eos outside vocab", func(dir string) { editConfig(dir, func(m map[string]any) { m["eos_token_id"] = 500 }) }, "eos_token_id 500 is outside"},
		{"huge size", func(dir string) { editConfig(dir, func(m map[string]any) { m["hidden_size"] = 1 << 40 }) }, "out of range"},
		{"untied without lm_head", func(dir string) {
			editConfig(dir, func(m map[string]any) { m["tie_word_embeddings"] = false })
		}, "no weight lm_head.weight"},
		{"qwen3 weights named qwen2", func(dir string) {
			editConfig(dir, func(m map[string]any) { m["architectures"] = []string{"Qwen2ForCausalLM"} })
		}, "no weight model.layers.0.self_attn.q_proj.bias"},
		{"moe", func(dir string) {
			editConfig(dir, func(m map[string]any) { m["architectures"] = []string{"Qwen3MoeForCausalLM"} })
		}, "Qwen3MoeForCausalLM]: supported are"},
		{"a needed weight in int64", func(dir string) {
			src := NewSyntheticSource(c, 1)
			shapes, _ := checkpointTensors(c)
			var ts []rawTensor
			for name := range shapes {
				v, shape, _, _ := src.Tensor(name)
				r := encodeTensor(name, kernels.BF16, v, shape)
				if name == "model.norm.weight" {
					r.dtype, r.data = "I64", make([]byte, 8*kernels.Numel(shape))
				}
				ts = append(ts, r)
			}
			writeRaw(t, filepath.Join(dir, "model.safetensors"), ts)
		}, "tensor model.norm.weight has dtype I64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := good(t, c)
			tc.break_(dir)
			_, err := Open(dir, cpu.New(1<<30), Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	// Unsupported is a sentinel a caller can test for.
	_, err := ParseConfig([]byte(`{"architectures":["BertModel"]}`), "x")
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("bert: %v", err)
	}
}

// Mistral's sliding window caps the model length (within the window,
// windowed attention is full attention); explicit nulls are derived as
// transformers derives them.
func TestConfigDerivedFields(t *testing.T) {
	c, err := ParseConfig([]byte(`{"architectures":["MistralForCausalLM"],"hidden_size":32,"num_attention_heads":4,"num_key_value_heads":2,"intermediate_size":64,"num_hidden_layers":1,"vocab_size":100,"max_position_embeddings":32768,"sliding_window":4096}`), "m")
	if err != nil || c.MaxPositions != 4096 {
		t.Fatalf("max positions %d, %v", c.MaxPositions, err)
	}
	// transformers' MistralConfig defaults num_key_value_heads to 8.
	c, err = ParseConfig([]byte(`{"architectures":["MistralForCausalLM"],"hidden_size":64,"num_attention_heads":16,"intermediate_size":64,"num_hidden_layers":1,"vocab_size":100,"max_position_embeddings":32768,"sliding_window":null}`), "m")
	if err != nil || c.MaxPositions != 32768 || c.KVHeads() != 8 {
		t.Fatalf("no window: max positions %d, %v", c.MaxPositions, err)
	}
	c, err = ParseConfig([]byte(`{"architectures":["Qwen3ForCausalLM"],"hidden_size":64,"num_attention_heads":4,"num_key_value_heads":null,"head_dim":null,"intermediate_size":64,"num_hidden_layers":1,"vocab_size":100}`), "q3")
	if err != nil || c.HeadDim() != 16 || c.KVHeads() != 4 {
		t.Fatalf("qwen3 with null head_dim and KV heads: head size %d, %d KV heads, %v", c.HeadDim(), c.KVHeads(), err)
	}
	c, err = ParseConfig([]byte(`{"architectures":["Qwen2ForCausalLM"],"hidden_size":32,"num_attention_heads":4,"intermediate_size":64,"num_hidden_layers":1,"vocab_size":100,"max_position_embeddings":32768,"sliding_window":4096,"use_sliding_window":false}`), "q")
	if err != nil || c.MaxPositions != 32768 {
		t.Fatalf("qwen2 without use_sliding_window: max positions %d, %v", c.MaxPositions, err)
	}
}
