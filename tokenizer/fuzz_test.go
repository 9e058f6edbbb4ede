package tokenizer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// seedFiles are the small tokenizer.json files in testdata/tokenizers, one
// per family of components: the fuzzers' seed corpus.
func seedFiles(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "tokenizers", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no seed tokenizers: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = raw
	}
	return out
}

func seedTokenizer(t testing.TB, name string) *Tokenizer {
	t.Helper()
	tok, err := Parse(seedFiles(t)[name])
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return tok
}

var fuzzTexts = []string{"", " ", "Hello world", "the cat sat.", "<|im_start|>hi<|im_end|>", "<s>Hello</s>",
	"a  b\n\n\tc", "123 4567", "café ☕ 你好 🍕", "[INST] x [/INST]", "<mask> the", "It'S 'll"}

// FuzzParse: any bytes give a tokenizer or an error saying what is wrong,
// never a panic; a tokenizer that loads encodes and decodes without one.
func FuzzParse(f *testing.F) {
	for _, raw := range seedFiles(f) {
		f.Add(raw)
	}
	for _, c := range malformedCases(f) {
		f.Add(c.doc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error of no kind: %v", err)
			}
			return
		}
		for _, text := range fuzzTexts {
			for _, special := range []bool{false, true} {
				ids, err := tok.Encode(text, special)
				if err != nil {
					if !errors.Is(err, ErrInvalidText) && !errors.Is(err, ErrMalformed) && !strings.Contains(err.Error(), "pre-tokenize") {
						t.Fatalf("encode %q: error of no kind: %v", text, err)
					}
					continue
				}
				if _, err := tok.Decode(ids); err != nil && !errors.Is(err, ErrUnknownID) {
					t.Fatalf("decode %v: %v", ids, err)
				}
			}
		}
	})
}

// FuzzEncode: on a byte-level tokenizer decode(encode(s)) is NFC(s); on a
// SentencePiece-style one with byte fallback it is s (away from its
// special tokens and ▁); text that is not UTF-8 is ErrInvalidText.
func FuzzEncode(f *testing.F) {
	for _, s := range fuzzTexts {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Add("\xff\xfe", false)
	bl := seedTokenizer(f, "bytelevel.json")
	sp := seedTokenizer(f, "sentencepiece.json")
	f.Fuzz(func(t *testing.T, text string, addSpecial bool) {
		ids, err := bl.Encode(text, addSpecial)
		if !utf8.ValidString(text) {
			if !errors.Is(err, ErrInvalidText) {
				t.Fatalf("invalid UTF-8 %q: %v", text, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("byte-level encode %q: %v", text, err)
		}
		if got, err := bl.Decode(ids); err != nil || got != norm.NFC.String(text) {
			t.Fatalf("byte-level round trip %q: %q %v", text, got, err)
		}
		ids, err = sp.Encode(text, addSpecial)
		if err != nil {
			t.Fatalf("sentencepiece encode %q: %v", text, err)
		}
		got, err := sp.DecodeSkipSpecial(ids)
		if err != nil {
			t.Fatalf("sentencepiece decode %v: %v", ids, err)
		}
		plain := !strings.Contains(text, "▁") && !strings.Contains(text, "<s>") && !strings.Contains(text, "</s>") && !strings.Contains(text, "<unk>")
		if plain && got != text {
			t.Fatalf("sentencepiece round trip %q: %q", text, got)
		}
	})
}

func TestSeedFiles(t *testing.T) {
	for name, raw := range seedFiles(t) {
		tok, err := Parse(raw)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, text := range fuzzTexts {
			if _, err := tok.Encode(text, true); err != nil {
				t.Errorf("%s: encode %q: %v", name, text, err)
			}
		}
	}
}

// TestConcurrentEncode: one Tokenizer serves many goroutines (run with
// -race); they agree with a sequential encode.
func TestConcurrentEncode(t *testing.T) {
	tok := seedTokenizer(t, "bytelevel.json")
	want := make([][]int32, len(fuzzTexts))
	for i, s := range fuzzTexts {
		want[i] = mustEncode(t, tok, s, true)
	}
	tok.model.cache = newIDCache()
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for r := 0; r < 50; r++ {
				for i, s := range fuzzTexts {
					got, err := tok.Encode(s, true)
					if err != nil || !slices.Equal(got, want[i]) {
						errs <- fmt.Errorf("%q: %v %v, want %v", s, got, err, want[i])
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
