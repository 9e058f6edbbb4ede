package model

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A small SentencePiece-style tokenizer.json: Llama 2's normalizer,
// byte fallback and a template that adds <s>.
const llamaStyleJSON = `{
 "version": "1.0", "truncation": null, "padding": null,
 "added_tokens": [
  {"id": 0, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
  {"id": 1, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
  {"id": 2, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
 "normalizer": {"type": "Sequence", "normalizers": [
  {"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
 "pre_tokenizer": null,
 "post_processor": {"type": "TemplateProcessing",
  "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
  "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
  "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
 "decoder": {"type": "Sequence", "decoders": [
  {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"},
  {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
 "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "continuing_subword_prefix": null,
  "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": true,
  "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "<0x21>": 3, "▁": 4, "h": 5, "i": 6, "▁h": 7, "▁hi": 8},
  "merges": ["▁ h", "▁h i"]}}`

func TestFolderTokenizerJSON(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(llamaStyleJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	tok, err := LoadTokenizer(dir)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := tok.Encode("hi hi!</s>")
	if err != nil || fmt.Sprint(plain) != "[8 8 3 2]" {
		t.Fatalf("Encode: %v %v", plain, err)
	}
	special, err := tok.EncodeSpecial("hi hi!")
	if err != nil || fmt.Sprint(special) != "[1 8 8 3]" {
		t.Fatalf("EncodeSpecial: %v %v", special, err)
	}
	if got := tok.Decode([]int32{1, 8, 8, 3, 99}); got != "<s> hi hi!" {
		t.Fatalf("Decode: %q", got)
	}
	if _, err := LoadTokenizerFile(filepath.Join(dir, "tokenizer.json")); err != nil {
		t.Fatal(err)
	}
}

func TestFolderVocabMergesSpecials(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "vocab.json"), []byte(`{"</s>": 2, "<": 3, "/": 4, "s": 5, ">": 6, "a": 7}`), 0o644)
	os.WriteFile(filepath.Join(dir, "merges.txt"), []byte("#version: 0.2\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "special_tokens_map.json"), []byte(`{"bos_token": {"content": "</s>", "lstrip": false}, "eos_token": "</s>", "additional_special_tokens": []}`), 0o644)
	tok, err := LoadTokenizer(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := tok.Encode("a</s>a"); err != nil || fmt.Sprint(ids) != "[7 2 7]" {
		t.Fatalf("</s> in text: %v %v", ids, err)
	}
	os.Remove(filepath.Join(dir, "special_tokens_map.json"))
	tok, _ = LoadTokenizer(dir)
	if ids, err := tok.Encode("a</s>"); err != nil || fmt.Sprint(ids) != "[7 3 4 5 6]" {
		t.Fatalf("without the map: %v %v", ids, err)
	}
}

func TestFolderTokenizerErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadTokenizer(dir); !errors.Is(err, ErrNoTokenizer) {
		t.Fatalf("empty folder: %v", err)
	}
	bad := strings.Replace(llamaStyleJSON, `"▁h i"`, `"▁h x"`, 1)
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(bad), 0o644)
	if _, err := LoadTokenizer(dir); err == nil || !strings.Contains(err.Error(), "tokenizer.json") || !strings.Contains(err.Error(), `"x"`) {
		t.Fatalf("bad merge: %v", err)
	}
}
