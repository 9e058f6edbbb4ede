package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"benchtop/engine/model"
)

// tokenize emits the requests the engine runs: synthetic prompts at their
// drawn lengths (not one token), every sampling parameter, offsets.
func TestTokenizeEmitsTheEngineRequests(t *testing.T) {
	var doc tokenizedDoc
	code, out, errOut := runCLI("tokenize", "--workload", "long-context", "--requests", "2")
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if len(doc.Requests) != 2 {
		t.Fatalf("%d requests", len(doc.Requests))
	}
	for _, r := range doc.Requests {
		if n := len(r.Prompt); n < 1501 || n > 1901 || r.MaxTokens != 32 || !r.IgnoreEOS || r.TopP != 1 || r.StopTokens == nil {
			t.Fatalf("request %s: %d prompt ids, %+v", r.ID, n, r)
		}
	}
	code, out, _ = runCLI("tokenize", "--workload", "throughput", "--requests", "3", "--arrival", "constant:10")
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("exit %d", code)
	}
	r := doc.Requests[2]
	if r.TopP != 0.95 || r.Temperature != 0.8 || r.MaxTokens != 50 || r.Prompt[0] != int32(model.Presets["opt-125m"].BOS) || r.Arrival != 200_000_000 {
		t.Fatalf("throughput request: %+v", r)
	}
}

// llamaStyleTokenizer is a small SentencePiece-style tokenizer.json (byte
// fallback, a template that adds <s>), as engine/model's tests use.
const llamaStyleTokenizer = `{
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
  "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "<0x21>": 3, "▁": 4, "h": 5, "i": 6, "▁h": 7, "▁hi": 8, "<0x2C>": 9},
  "merges": ["▁ h", "▁h i"]}}`

// lines runs benchtop and returns its stdout's lines, failing on an error.
func lines(t *testing.T, args ...string) []string {
	t.Helper()
	code, out, errOut := runCLI(args...)
	if code != 0 {
		t.Fatalf("benchtop %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

// tokenize --text/--dataset prints one id array per input; special tokens
// only with --add-special-tokens, as the engine adds them for a model (the
// presets' stand-in rule) or as a tokenizer file's post-processor does.
func TestTokenizeText(t *testing.T) {
	dir := t.TempDir()
	tokPath := filepath.Join(dir, "tokenizer.json")
	os.WriteFile(tokPath, []byte(llamaStyleTokenizer), 0o644)
	jsonl := filepath.Join(dir, "d.jsonl")
	os.WriteFile(jsonl, []byte("{\"prompt\": \"hi\", \"output_len\": 4}\n\n{\"prompt\": \"hi, hi!\", \"output_len\": 2}\n"), 0o644)
	share := filepath.Join(dir, "share.json")
	os.WriteFile(share, []byte(`[{"conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"hi hi"}]},
		{"conversations":[{"from":"human","value":"alone"}]},
		{"conversations":[{"from":"human","value":"hi!"},{"from":"gpt","value":"hi"}]}]`), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--text", "Hello world", "--text", "a, b"}, "[15496,995] [64,11,275]"},
		{[]string{"--text", "Hello world", "--add-special-tokens"}, "[50256,15496,995]"},
		{[]string{"--model", "tiny-llama", "--text", "Hello world", "--add-special-tokens"}, "[1,15496,995]"},
		{[]string{"--model", "tiny-qwen3", "--text", "Hello world", "--add-special-tokens"}, "[15496,995]"},
		{[]string{"--model", "tiny", "--text", ""}, "[]"},
		{[]string{"--tokenizer", tokPath, "--text", "hi hi!</s>", "--text", "hi"}, "[8,8,3,2] [8]"},
		{[]string{"--tokenizer", tokPath, "--text", "hi", "--add-special-tokens"}, "[1,8]"},
		{[]string{"--tokenizer", tokPath, "--model", "tiny-qwen3", "--text", "hi", "--add-special-tokens"}, "[1,8]"},
		{[]string{"--tokenizer", tokPath, "--dataset", jsonl, "--add-special-tokens"}, "[1,8] [1,8,9,8,3]"},
		{[]string{"--tokenizer", tokPath, "--dataset", share}, "[8] [8,3]"},
		{[]string{"--tokenizer", tokPath, "--decode", "1,8,9,8,3", "--decode", "[ ]", "--decode", "[5, 2]"}, `"<s> hi, hi!" "" "h</s>"`},
		{[]string{"--model", "tiny-llama", "--decode", "15496,995"}, `"Hello world"`},
	} {
		args := append([]string{"tokenize"}, c.args...)
		if got := strings.Join(lines(t, args...), " "); got != c.want {
			t.Errorf("benchtop %s: %s, want %s", strings.Join(args, " "), got, c.want)
		}
	}
	// A dataset's requests as the engine runs them, BOS and all.
	var doc tokenizedDoc
	out := strings.Join(lines(t, "tokenize", "--model", "tiny-llama", "--tokenizer", tokPath, "--dataset", jsonl, "--engine-requests"), "\n")
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Requests) != 2 || fmt.Sprint(doc.Requests[1].Prompt) != "[1 8 9 8 3]" || doc.Requests[1].MaxTokens != 2 {
		t.Fatalf("--engine-requests: %v %+v", err, doc)
	}
}

func TestTokenizeBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}`), 0o644)
	big := filepath.Join(dir, "big.json")
	os.WriteFile(big, []byte(strings.Replace(llamaStyleTokenizer, `"<0x2C>": 9}`, `"<0x2C>": 9, "z": 40000}`, 1)), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--tokenizer", filepath.Join(dir, "none.json"), "--text", "x"}, "--tokenizer " + filepath.Join(dir, "none.json") + ": no such file or directory"},
		{[]string{"--tokenizer", bad, "--text", "x"}, "--tokenizer " + bad + ": model: malformed tokenizer"},
		{[]string{"--tokenizer", dir, "--text", "x"}, "has no tokenizer"},
		{[]string{"--tokenizer", os.DevNull, "--text", "x"}, "not a regular file"},
		{[]string{"--tokenizer", big, "--model", "tiny-llama", "--text", "x"}, "ids up to 40000) for tiny-llama (vocab_size 32000): the tokenizer's ids do not fit"},
		{[]string{"--model", dir, "--text", "x"}, "config.json"},
		{[]string{"--text", "x", "--decode", "1"}, "give one or the other"},
		{[]string{"--text", "x", "--dataset", bad}, "give one or the other"},
		{[]string{"--add-special-tokens"}, "only with --text or --dataset"},
		{[]string{"--engine-requests"}, "only with --dataset"},
		{[]string{"--decode", "1,x"}, `--decode "1,x": "x" is not a token id`},
		{[]string{"--decode", "1", "--decode", "2", "--decode", "abc"}, `--decode "abc" (the 3rd of 3): "abc" is not a token id`},
		{[]string{"--decode", "1,,2"}, "an empty id"},
		{[]string{"--decode", "[1"}, "closing ]"},
		{[]string{"--decode", "50272"}, "id 50272 is outside the vocabulary (0 to 50271)"},
		{[]string{"--decode=-1"}, "outside the vocabulary"},
		{[]string{"--decode", "99999999999999999999"}, "is not a token id"},
		{[]string{"--dataset", bad}, "--dataset " + bad},
	} {
		args := append([]string{"tokenize"}, c.args...)
		code, _, stderr := runCLI(args...)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("benchtop %q: exit %d, stderr %q; want %q", args, code, stderr, c.want)
		}
	}
}
