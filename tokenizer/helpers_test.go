package tokenizer

import (
	"encoding/json"
	"testing"
)

// toyVocab holds every character the toy tokenizers need, id = position.
const toyChars = " abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-!?▁0123456789<>[]/|"

// toy builds a tokenizer.json: a BPE over toyChars plus extra vocabulary
// and merges, with the other top-level fields from parts (nil for null).
func toy(t testing.TB, extraVocab []string, merges any, parts map[string]any) *Tokenizer {
	t.Helper()
	tok, err := Parse(toyJSON(t, extraVocab, merges, parts))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func toyJSON(t testing.TB, extraVocab []string, merges any, parts map[string]any) []byte {
	t.Helper()
	vocab := map[string]int{}
	for _, r := range toyChars {
		vocab[string(r)] = len(vocab)
	}
	for _, s := range extraVocab {
		if _, ok := vocab[s]; !ok {
			vocab[s] = len(vocab)
		}
	}
	if merges == nil {
		merges = []string{}
	}
	model := map[string]any{"type": "BPE", "vocab": vocab, "merges": merges}
	doc := map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil, "added_tokens": []any{},
		"normalizer": nil, "pre_tokenizer": nil, "post_processor": nil, "decoder": nil, "model": model,
	}
	for k, v := range parts {
		if k == "model" {
			for mk, mv := range v.(map[string]any) {
				model[mk] = mv
			}
			continue
		}
		doc[k] = v
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// id is a toy tokenizer's id for s.
func id(t testing.TB, tok *Tokenizer, s string) int32 {
	t.Helper()
	i, ok := tok.ID(s)
	if !ok {
		t.Fatalf("%q is not in the vocabulary", s)
	}
	return i
}

// ids maps strings to ids.
func ids(t testing.TB, tok *Tokenizer, s ...string) []int32 {
	t.Helper()
	out := make([]int32, len(s))
	for i, x := range s {
		out[i] = id(t, tok, x)
	}
	return out
}

func added(content string, opts ...string) map[string]any {
	m := map[string]any{"id": 0, "content": content, "single_word": false, "lstrip": false,
		"rstrip": false, "normalized": false, "special": false}
	for _, o := range opts {
		m[o] = true
	}
	return m
}

func mustEncode(t testing.TB, tok *Tokenizer, text string, addSpecial bool) []int32 {
	t.Helper()
	got, err := tok.Encode(text, addSpecial)
	if err != nil {
		t.Fatalf("encode %q: %v", text, err)
	}
	return got
}
