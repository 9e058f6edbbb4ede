package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzTokenizeText: any --text goes through the CLI to one JSON array of
// ids inside the model's vocabulary (BOS first for tiny-llama with
// --add-special-tokens), or to a clear error (exit 1); never a panic or a
// usage error. The same through a tokenizer file with byte fallback.
func FuzzTokenizeText(f *testing.F) {
	for i, s := range []string{"", "Hello world", "a, b", "--text", "<s>hi</s>", "☕ 你好 🍕", "\x00\t\n", "=▁▁"} {
		f.Add(s, i%2 == 0)
	}
	tokPath := filepath.Join(f.TempDir(), "tokenizer.json")
	if err := os.WriteFile(tokPath, []byte(llamaStyleTokenizer), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string, special bool) {
		for _, m := range []struct {
			args  []string
			vocab int32
			bos   int32 // first id with special tokens (-1: none)
		}{{[]string{"--model", "tiny-llama"}, 32000, 1}, {[]string{"--tokenizer", tokPath}, 10, 1}} {
			args := append([]string{"tokenize", "--text=" + text}, m.args...)
			if special {
				args = append(args, "--add-special-tokens")
			}
			code, out, errOut := runCLI(args...)
			if code == 1 && strings.HasPrefix(errOut, "benchtop tokenize: --text 1: ") {
				continue // text the tokenizer cannot express
			}
			var ids []int32
			if code != 0 || strings.Count(out, "\n") != 1 || json.Unmarshal([]byte(out), &ids) != nil {
				t.Fatalf("%q: exit %d, %q %q", args, code, out, errOut)
			}
			for _, id := range ids {
				if id < 0 || id >= m.vocab {
					t.Fatalf("%q: id %d outside the vocabulary of %d", args, id, m.vocab)
				}
			}
			if special && (len(ids) == 0 || ids[0] != m.bos) {
				t.Fatalf("%q: %v does not start with %d", args, ids, m.bos)
			}
		}
	})
}

// FuzzParseIDList: any --decode value is ids inside the vocabulary, which
// print back to a list that parses to the same ids, or an error.
func FuzzParseIDList(f *testing.F) {
	for _, s := range []string{"1,2,3", "[1, 2, 3]", "[]", "", " ", "1,,2", "[1", "-1", "+5", "007", "99999999999999999999", "1 2", "[[1]]", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := parseIDList(s, 1000)
		if err != nil {
			return
		}
		for _, id := range ids {
			if id < 0 || id >= 1000 {
				t.Fatalf("%q: id %d outside 0..999", s, id)
			}
		}
		back := strings.Trim(strings.ReplaceAll(fmt.Sprint(ids), " ", ","), "[]")
		again, err := parseIDList(back, 1000)
		if err != nil || !slices.Equal(ids, again) {
			t.Fatalf("%q → %v → %q → %v %v", s, ids, back, again, err)
		}
	})
}
