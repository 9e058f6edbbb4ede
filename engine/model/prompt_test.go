package model

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"benchtop/kernels"
	"benchtop/kernels/cpu"
	"benchtop/tokenizer"
)

// withPostProcessor is llamaStyleJSON with another post_processor.
func withPostProcessor(pp string) string {
	i := strings.Index(llamaStyleJSON, ` "post_processor":`)
	j := strings.Index(llamaStyleJSON, ` "decoder":`)
	return llamaStyleJSON[:i] + ` "post_processor": ` + pp + ",\n" + llamaStyleJSON[j:]
}

// A folder's prompts take their special tokens from its tokenizer.json's
// post-processor when it has one (a template's <s>; none from ByteLevel,
// as Llama 3's older and Qwen's files), else from the configuration's BOS
// rule; vocab.json + merges.txt follow the configuration too.
func TestFolderPromptSpecialTokens(t *testing.T) {
	c := llamaVariant("llama-gqa-tied-llama3") // AddBOS, BOS 1
	q := llamaVariant("qwen2-biases")          // no BOS
	byteLevel := `{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true}`
	for _, tc := range []struct {
		name      string
		cfg       Config
		tokenizer string // tokenizer.json; "" for vocab.json + merges.txt
		want      string // Encode("hi hi!")
		prefix    string
	}{
		{"template", c, llamaStyleJSON, "[1 8 8 3]", "[1]"},
		{"template, Qwen config", q, llamaStyleJSON, "[1 8 8 3]", "[1]"},
		{"bytelevel", c, withPostProcessor(byteLevel), "[8 8 3]", "[]"},
		{"none: the config's BOS", c, withPostProcessor("null"), "[1 8 8 3]", "[1]"},
		{"none, Qwen config", q, withPostProcessor("null"), "[8 8 3]", "[]"},
		{"vocab and merges", c, "", "[1 9 10 6]", "[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeLlamaFolder(t, dir, tc.cfg, NewSyntheticSource(tc.cfg, 3), kernels.F32, 1, false)
			text := "hi hi!"
			if tc.tokenizer != "" {
				os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(tc.tokenizer), 0o644)
			} else {
				os.WriteFile(filepath.Join(dir, "vocab.json"), []byte(`{"h": 3, "i": 4, "Ġ": 5, "!": 6, "hi": 9, "Ġhi": 10}`), 0o644)
				os.WriteFile(filepath.Join(dir, "merges.txt"), []byte("h i\nĠ hi\n"), 0o644)
			}
			l, err := Open(dir, cpu.New(1<<28), Options{})
			if err != nil {
				t.Fatal(err)
			}
			ids, err := l.Encode(text)
			if err != nil || fmt.Sprint(ids) != tc.want {
				t.Fatalf("Encode %q: %v %v, want %s", text, ids, err, tc.want)
			}
			if got := fmt.Sprint(l.PromptPrefix()); got != tc.prefix && !(tc.prefix == "[]" && l.PromptPrefix() == nil) {
				t.Fatalf("PromptPrefix %s, want %s", got, tc.prefix)
			}
			cfg, p, err := OpenPrompter(dir, Options{})
			if err != nil || cfg.VocabSize != tc.cfg.VocabSize {
				t.Fatal(err)
			}
			if ids2, err := p.Encode(text); err != nil || fmt.Sprint(ids2) != fmt.Sprint(ids) {
				t.Fatalf("OpenPrompter encodes %v %v, Open %v", ids2, err, ids)
			}
		})
	}
}

// A broken tokenizer.json stops Open (it used to load as "no tokenizer");
// a folder without one loads and says it cannot encode text.
func TestFolderTokenizerBrokenOrMissing(t *testing.T) {
	c := llamaVariant("mistral-gqa")
	dir := t.TempDir()
	writeLlamaFolder(t, dir, c, NewSyntheticSource(c, 3), kernels.F32, 1, false)
	l, err := Open(dir, cpu.New(1<<28), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Encode("hi"); !errors.Is(err, ErrNoTextPrompts) {
		t.Fatalf("no tokenizer: %v", err)
	}
	if _, p, err := OpenPrompter(dir, Options{}); err != nil || p.Tokenizer != nil {
		t.Fatalf("OpenPrompter without a tokenizer: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(strings.Replace(llamaStyleJSON, `"▁h i"`, `"▁h x"`, 1)), 0o644)
	for what, err := range map[string]error{
		"Open":         func() error { _, err := Open(dir, cpu.New(1<<28), Options{}); return err }(),
		"OpenPrompter": func() error { _, _, err := OpenPrompter(dir, Options{}); return err }(),
	} {
		if !errors.Is(err, tokenizer.ErrMalformed) || !strings.Contains(err.Error(), "tokenizer.json") {
			t.Errorf("%s with a broken tokenizer.json: %v", what, err)
		}
	}
}

// Presets keep the GPT-2 stand-in (ids folded into a smaller vocabulary,
// the config's BOS rule) unless given a tokenizer whose ids fit; then its
// own rule decides and the note no longer names GPT-2.
func TestPresetTokenizers(t *testing.T) {
	l, err := Open("tiny-llama", cpu.New(1<<28), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := l.Encode("Hello world"); err != nil || fmt.Sprint(ids) != "[1 15496 995]" || !l.StandInTokenizer ||
		l.WeightsNote() != "synthetic weights, GPT-2 tokenizer" {
		t.Fatalf("tiny-llama stand-in: %v %v, note %q", ids, err, l.WeightsNote())
	}
	l.Free(cpu.New(1 << 20))
	// smollm2-135m: a vocabulary of 49152, below GPT-2's; no BOS.
	_, p, err := OpenPrompter("smollm2-135m", Options{})
	if err != nil {
		t.Fatal(err)
	}
	gpt2, _ := NewGPT2Tokenizer()
	text := gpt2.Decode([]int32{50000, 995}) // a token above 49152, then " world"
	want, _ := gpt2.Encode(text)
	if want[0] < 49152 {
		t.Fatalf("GPT-2 encodes %q as %v", text, want)
	}
	for i := range want {
		want[i] %= 49152
	}
	for _, enc := range []func(string) ([]int32, error){p.Encode, p.Tokenizer.EncodeSpecial, p.Tokenizer.Encode} {
		if ids, err := enc(text); err != nil || fmt.Sprint(ids) != fmt.Sprint(want) {
			t.Fatalf("smollm2 stand-in folds: %v %v, want %v", ids, err, want)
		}
	}
	if p.Tokenizer.MaxID() != 49151 || len(p.Prefix) != 0 {
		t.Fatalf("smollm2 stand-in: MaxID %d, prefix %v", p.Tokenizer.MaxID(), p.Prefix)
	}

	path := filepath.Join(t.TempDir(), "tokenizer.json")
	os.WriteFile(path, []byte(withPostProcessor(`{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true}`)), 0o644)
	tok, err := LoadTokenizerFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err = Open("tiny-llama", cpu.New(1<<28), Options{Tokenizer: tok})
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := l.Encode("hi hi!"); err != nil || fmt.Sprint(ids) != "[8 8 3]" || l.StandInTokenizer || l.WeightsNote() != "synthetic weights" {
		t.Fatalf("tiny-llama with a tokenizer file: %v %v, note %q", ids, err, l.WeightsNote())
	}
	os.WriteFile(path, []byte(strings.Replace(llamaStyleJSON, `"▁hi": 8}`, `"▁hi": 8, "z": 40000}`, 1)), 0o644)
	if tok, err = LoadTokenizerFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Open("tiny-llama", cpu.New(1<<28), Options{Tokenizer: tok}); !errors.Is(err, ErrVocabMismatch) || !strings.Contains(err.Error(), "40000") {
		t.Fatalf("a tokenizer too large for tiny-llama: %v", err)
	}
	if _, _, err := OpenPrompter("tiny-qwen3", Options{Tokenizer: tok}); err != nil {
		t.Fatalf("it fits tiny-qwen3's 51200: %v", err)
	}
}

// LoadTokenizerFile: clear errors for what is not a tokenizer.json.
func TestLoadTokenizerFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"model": 3}`), 0o644)
	for path, want := range map[string]string{
		filepath.Join(dir, "missing.json"): "no such file",
		dir:                                "no tokenizer",
		bad:                                "malformed tokenizer",
		os.DevNull:                         "not a regular file",
	} {
		if _, err := LoadTokenizerFile(path); err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "tokenizer "+path) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
}
