package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"benchtop/kernels"
	"benchtop/kernels/cpu"
)

func smallConfig(variant string) Config {
	c := defaultConfig()
	c.Name, c.VocabSize, c.HiddenSize, c.NumHeads, c.FFNDim, c.NumLayers, c.MaxPositions = variant, 97, 24, 3, 40, 2, 64
	switch variant {
	case "post-ln-proj": // like opt-350m: post-LN, no final norm, project_in/out
		c.DoLayerNormBefore, c.WordEmbedProjDim = false, 16
	case "no-bias-no-affine":
		c.EnableBias, c.LayerNormAffine = false, false
	}
	return c
}

func sourceFunc(t *testing.T, src Source) func(string) []float64 {
	return func(name string) []float64 {
		v, _, ok, err := src.Tensor(name)
		if err != nil || !ok {
			t.Fatalf("reference weight %s: ok=%v err=%v", name, ok, err)
		}
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
}

// run prefills ids[:split] then decodes the rest one token at a time through
// a shuffled block table, returning the logits after each position from
// split-1 on.
func runPaged(t *testing.T, be kernels.Backend, m Model, c *Config, ids []int32, split, blockSize int) [][]float32 {
	t.Helper()
	numBlocks := (len(ids)+blockSize-1)/blockSize + 3
	kv, err := NewKVCache(be, c, numBlocks, blockSize, kernels.F32)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := NewWorkspace(be, c, 64, 4, kernels.F32)
	if err != nil {
		t.Fatal(err)
	}
	perm := rand.New(rand.NewPCG(1, 2)).Perm(numBlocks)
	table := make([]int32, numBlocks)
	for i, p := range perm {
		table[i] = int32(p)
	}
	var out [][]float32
	for done := 0; done < len(ids); {
		n := 1
		if done == 0 {
			n = split
		}
		b := &kernels.Batch{BlockSize: blockSize}
		for p := done; p < done+n; p++ {
			b.Tokens = append(b.Tokens, ids[p])
			b.Positions = append(b.Positions, int32(p))
			b.Slots = append(b.Slots, table[p/blockSize]*int32(blockSize)+int32(p%blockSize))
		}
		b.Seqs = []kernels.SeqSlice{{QueryStart: 0, QueryLen: n, ContextLen: done + n, BlockTable: table, NeedLogits: true}}
		logits, err := m.Forward(be, b, kv, ws)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := be.Download(logits)
		out = append(out, v)
		done += n
	}
	return out
}

func compareLogits(t *testing.T, what string, want []float64, got []float32, tol float64) {
	t.Helper()
	var maxDiff, scale float64
	for i := range want {
		maxDiff = math.Max(maxDiff, math.Abs(want[i]-float64(got[i])))
		scale = math.Max(scale, math.Abs(want[i]))
	}
	if !(maxDiff <= tol*math.Max(1, scale)) {
		t.Fatalf("%s: max |Δ| %.3g over logits of scale %.3g (tolerance %.1g)", what, maxDiff, scale, tol)
	}
}

func TestForwardMatchesNaiveReference(t *testing.T) {
	for _, variant := range []string{"pre-ln", "post-ln-proj", "no-bias-no-affine"} {
		t.Run(variant, func(t *testing.T) {
			c := smallConfig(variant)
			src := NewSyntheticSource(c, 3)
			be := cpu.New(1 << 30)
			m, err := Load(be, c, src, kernels.F32)
			if err != nil {
				t.Fatal(err)
			}
			ids := []int32{5, 17, 3, 96, 40, 40, 2, 11, 60, 7, 1, 0, 33}
			want := naiveForward(c, sourceFunc(t, src), ids)
			split := 5
			got := runPaged(t, be, m, &c, ids, split, 4)
			for i, g := range got {
				compareLogits(t, fmt.Sprintf("position %d", split-1+i), want[split-1+i], g, 1e-4)
			}
		})
	}
}

// writeFolder saves cfg and src's weights as a Hugging Face folder.
func writeFolder(t *testing.T, dir string, c Config, src *SyntheticSource, dt kernels.DType, shards int) {
	t.Helper()
	cfgJSON := map[string]any{"model_type": "opt", "architectures": []string{"OPTForCausalLM"},
		"vocab_size": c.VocabSize, "hidden_size": c.HiddenSize, "num_hidden_layers": c.NumLayers,
		"num_attention_heads": c.NumHeads, "ffn_dim": c.FFNDim, "max_position_embeddings": c.MaxPositions,
		"do_layer_norm_before": c.DoLayerNormBefore, "word_embed_proj_dim": c.ProjDim(),
		"activation_function": "relu", "torch_dtype": map[kernels.DType]string{kernels.F32: "float32", kernels.F16: "float16", kernels.BF16: "bfloat16"}[dt],
		"bos_token_id": 2, "eos_token_id": 2, "pad_token_id": 1}
	raw, _ := json.Marshal(cfgJSON)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	parts := make([]map[string][]float32, shards)
	shapes := make([]map[string][]int, shards)
	for i := range parts {
		parts[i], shapes[i] = map[string][]float32{}, map[string][]int{}
	}
	weightMap := map[string]string{}
	i := 0
	for name := range src.shapes {
		v, shape, _, _ := src.Tensor(name)
		parts[i%shards][name], shapes[i%shards][name] = v, shape
		weightMap[name] = fmt.Sprintf("model-%05d-of-%05d.safetensors", i%shards+1, shards)
		i++
	}
	if shards == 1 {
		if err := WriteSafetensors(filepath.Join(dir, "model.safetensors"), dt, parts[0], shapes[0]); err != nil {
			t.Fatal(err)
		}
		return
	}
	for s := range parts {
		if err := WriteSafetensors(filepath.Join(dir, fmt.Sprintf("model-%05d-of-%05d.safetensors", s+1, shards)), dt, parts[s], shapes[s]); err != nil {
			t.Fatal(err)
		}
	}
	idx, _ := json.Marshal(map[string]any{"metadata": map[string]any{}, "weight_map": weightMap})
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), idx, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestModelFolderRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		variant string
		dt      kernels.DType
		shards  int
	}{{"pre-ln", kernels.F16, 1}, {"post-ln-proj", kernels.BF16, 3}, {"pre-ln", kernels.F32, 2}} {
		t.Run(fmt.Sprintf("%s-%s-%dshards", tc.variant, tc.dt, tc.shards), func(t *testing.T) {
			dir := t.TempDir()
			c := smallConfig(tc.variant)
			writeFolder(t, dir, c, NewSyntheticSource(c, 9), tc.dt, tc.shards)
			be := cpu.New(1 << 30)
			l, err := Open(dir, be, Options{DType: "float32"})
			if err != nil {
				t.Fatal(err)
			}
			if l.Synthetic || l.Cfg.CheckpointDType() != tc.dt {
				t.Fatalf("loaded %+v", l.Cfg)
			}
			back, err := OpenSafetensors(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer back.Close()
			ids := []int32{2, 50, 7, 90, 13, 13, 4}
			want := naiveForward(l.Cfg, sourceFunc(t, back), ids)
			got := runPaged(t, be, l.Model, &l.Cfg, ids, len(ids), 16)
			compareLogits(t, "last position", want[len(ids)-1], got[0], 1e-4)
			if _, err := l.Encode("hi"); err == nil || !strings.Contains(err.Error(), "no tokenizer") {
				t.Fatalf("encode without a tokenizer: %v", err)
			}
		})
	}
}

func TestBadModelFolders(t *testing.T) {
	c := smallConfig("pre-ln")
	good := func(t *testing.T) string {
		dir := t.TempDir()
		writeFolder(t, dir, c, NewSyntheticSource(c, 1), kernels.F16, 1)
		return dir
	}
	cases := []struct {
		name   string
		break_ func(dir string)
		want   string
	}{
		{"missing folder", func(dir string) { os.RemoveAll(dir) }, "neither a preset"},
		{"no config", func(dir string) { os.Remove(filepath.Join(dir, "config.json")) }, "config.json"},
		{"bad json", func(dir string) { os.WriteFile(filepath.Join(dir, "config.json"), []byte("{"), 0o644) }, "parse"},
		{"gpt-2", func(dir string) {
			os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type":"gpt2","architectures":["GPT2LMHeadModel"]}`), 0o644)
		}, "supported are OPTForCausalLM, LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM"},
		{"gelu", func(dir string) {
			os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type":"opt","activation_function":"gelu"}`), 0o644)
		}, "only relu"},
		{"no weights", func(dir string) { os.Remove(filepath.Join(dir, "model.safetensors")) }, "no model.safetensors"},
		{"truncated weights", func(dir string) {
			p := filepath.Join(dir, "model.safetensors")
			raw, _ := os.ReadFile(p)
			os.WriteFile(p, raw[:len(raw)/2], 0o644)
		}, "data bytes"},
		{"garbage weights", func(dir string) {
			os.WriteFile(filepath.Join(dir, "model.safetensors"), []byte("not a safetensors file at all"), 0o644)
		}, "header length"},
		{"more layers than weights", func(dir string) {
			p := filepath.Join(dir, "config.json")
			raw, _ := os.ReadFile(p)
			os.WriteFile(p, []byte(strings.Replace(string(raw), `"num_hidden_layers":2`, `"num_hidden_layers":3`, 1)), 0o644)
		}, "no weight model.decoder.layers.2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := good(t)
			tc.break_(dir)
			_, err := Open(dir, cpu.New(1<<30), Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := Open("no-such-preset", cpu.New(1<<30), Options{}); err == nil {
		t.Fatal("unknown preset accepted")
	}
	if err := (&Config{ModelType: "opt", Activation: "relu"}).Validate(); err == nil || errors.Is(err, ErrUnsupported) {
		t.Fatalf("zero sizes: %v", err)
	}
}

func TestPresetsAreDeterministic(t *testing.T) {
	c := Presets["tiny"]
	a, _, _, _ := NewSyntheticSource(c, 5).Tensor("model.decoder.layers.1.fc1.weight")
	b, _, _, _ := NewSyntheticSource(c, 5).Tensor("model.decoder.layers.1.fc1.weight")
	d, _, _, _ := NewSyntheticSource(c, 6).Tensor("model.decoder.layers.1.fc1.weight")
	if fmt.Sprint(a[:50]) != fmt.Sprint(b[:50]) || fmt.Sprint(a[:50]) == fmt.Sprint(d[:50]) {
		t.Fatal("synthetic weights are not a function of the seed")
	}
	c125 := Presets["opt-125m"]
	if got := c125.ParamCount(); got < 125e6 || got > 126e6 {
		t.Fatalf("opt-125m has %d parameters", got)
	}
}

func TestTokenizers(t *testing.T) {
	tok, err := NewGPT2Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	ids, err := tok.Encode("Hello world")
	if err != nil || fmt.Sprint(ids) != "[15496 995]" || tok.Decode(ids) != "Hello world" {
		t.Fatalf("gpt-2: %v %v %q", ids, err, tok.Decode(ids))
	}
	// A folder tokenizer: vocab.json + merges.txt in GPT-2's byte-level form.
	dir := t.TempDir()
	vocab := map[string]int{"H": 0, "e": 1, "l": 2, "o": 3, "Ġ": 4, "w": 5, "r": 6, "d": 7, "He": 8, "ll": 9, "Hell": 10, "Hello": 11, "Ġw": 12, "or": 13, "Ġwor": 14}
	raw, _ := json.Marshal(vocab)
	os.WriteFile(filepath.Join(dir, "vocab.json"), raw, 0o644)
	os.WriteFile(filepath.Join(dir, "merges.txt"), []byte("#version: 0.2\nH e\nl l\nHe ll\nHell o\nĠ w\no r\nĠw or\n"), 0o644)
	ft, err := LoadTokenizer(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ft.Encode("Hello world")
	if err != nil || fmt.Sprint(got) != "[11 14 2 7]" || ft.Decode(got) != "Hello world" {
		t.Fatalf("folder tokenizer: %v %v %q", got, err, ft.Decode(got))
	}
	if _, err := ft.Encode("xyz"); err == nil {
		t.Fatal("out-of-vocabulary bytes encoded without error")
	}
	if _, err := LoadTokenizer(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no tokenizer") {
		t.Fatalf("empty folder: %v", err)
	}
}
