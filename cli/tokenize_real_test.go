package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// realTokenizer is the cached real tokenizer.json of name (the tokenizer
// package's tests fetch them: scripts/fetch_tokenizers.sh), or a skip.
func realTokenizer(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("BENCHTOP_TOKENIZER_CACHE")
	if dir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			t.Skipf("no cache directory: %v", err)
		}
		dir = filepath.Join(d, "benchtop", "tokenizers")
	}
	path := filepath.Join(dir, name, "tokenizer.json")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("real tokenizer %s not cached (scripts/fetch_tokenizers.sh fetches it): %v", name, err)
	}
	return path
}

// Through the CLI, a real file given to the preset of its family (in place
// of the GPT-2 stand-in) gives Hugging Face tokenizers' ids for the whole
// corpus, special tokens added (as recorded by scripts/hf_tokenize.py), and
// ids decode back to the recorded text. Llama 2's file has a template that
// adds <s>; Llama 3's (this release) only ByteLevel, so no BOS, and its
// 128256 ids fill llama-3.2-1b's vocabulary exactly. (The tokenizer
// package checks all four files; loading each costs seconds under -race.)
func TestTokenizeMatchesHuggingFace(t *testing.T) {
	var corpus []string
	var ref struct {
		Tokenizers map[string]struct {
			EncodeSpecial [][]int32 `json:"encode_special"`
			Decode        []string  `json:"decode"`
		} `json:"tokenizers"`
	}
	for path, v := range map[string]any{"corpus.json": &corpus, "hf_ids.json": &ref} {
		raw, err := os.ReadFile(filepath.Join("..", "tokenizer", "testdata", path))
		if err != nil || json.Unmarshal(raw, v) != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	for name, preset := range map[string]string{"llama3": "llama-3.2-1b", "llama2": "tiny-llama"} {
		path := realTokenizer(t, name)
		hf := ref.Tokenizers[name]
		args := []string{"tokenize", "--model", preset, "--tokenizer", path, "--add-special-tokens"}
		for _, s := range corpus {
			args = append(args, "--text="+s)
		}
		got := lines(t, args...)
		if len(got) != len(corpus) {
			t.Fatalf("%s: %d lines for %d texts", name, len(got), len(corpus))
		}
		dec := []string{"tokenize", "--tokenizer", path}
		for i, line := range got {
			want, _ := json.Marshal(hf.EncodeSpecial[i])
			if line != string(want) {
				t.Errorf("%s %q: %s, Hugging Face %s", name, corpus[i], line, want)
			}
			dec = append(dec, "--decode="+strings.Trim(line, "[]"))
		}
		if name != "llama2" {
			continue
		}
		for i, line := range lines(t, dec...) {
			var s string
			if err := json.Unmarshal([]byte(line), &s); err != nil || s != hf.Decode[i] {
				t.Errorf("%s: decode %q, Hugging Face %q (%v)", name, s, hf.Decode[i], err)
			}
		}
	}
}
