package model

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlclark/regexp2/v2"
	"github.com/tiktoken-go/tokenizer"
)

// Tokenizer turns text into token ids and back.
type Tokenizer interface {
	Name() string
	Encode(text string) ([]int32, error)
	Decode(ids []int32) string
}

// r50k is the GPT-2 byte-level BPE embedded in tiktoken-go.
type r50k struct{ codec tokenizer.Codec }

// NewGPT2Tokenizer returns the embedded GPT-2 (r50k_base) tokenizer.
func NewGPT2Tokenizer() (Tokenizer, error) {
	c, err := tokenizer.Get(tokenizer.R50kBase)
	if err != nil {
		return nil, fmt.Errorf("gpt-2 tokenizer: %w", err)
	}
	return &r50k{c}, nil
}

func (t *r50k) Name() string { return "gpt2 (r50k_base, embedded)" }

func (t *r50k) Encode(text string) ([]int32, error) {
	ids, _, err := t.codec.Encode(text)
	if err != nil {
		return nil, err
	}
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out, nil
}

func (t *r50k) Decode(ids []int32) string {
	u := make([]uint, 0, len(ids))
	for _, id := range ids {
		if id >= 0 && id < 50257 {
			u = append(u, uint(id))
		}
	}
	s, err := t.codec.Decode(u)
	if err != nil {
		return ""
	}
	return s
}

// bpe is a GPT-2 style byte-level BPE read from a model folder.
type bpe struct {
	name    string
	vocab   map[string]int32
	inverse map[int32]string
	ranks   map[[2]string]int
	split   *regexp2.Regexp
	byteEnc [256]rune
	byteDec map[rune]byte
}

// The GPT-2 pre-tokenizer pattern.
const gpt2Split = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// LoadTokenizer reads a folder's tokenizer: tokenizer.json (a BPE model) or
// vocab.json + merges.txt. It returns an error naming what is missing.
func LoadTokenizer(dir string) (Tokenizer, error) {
	t := &bpe{name: filepath.Base(dir), ranks: map[[2]string]int{}, byteDec: map[rune]byte{}}
	var merges []string
	if raw, err := os.ReadFile(filepath.Join(dir, "tokenizer.json")); err == nil {
		var tj struct {
			Model struct {
				Type   string            `json:"type"`
				Vocab  map[string]int32  `json:"vocab"`
				Merges []json.RawMessage `json:"merges"`
			} `json:"model"`
		}
		if err := json.Unmarshal(raw, &tj); err != nil {
			return nil, fmt.Errorf("parse %s/tokenizer.json: %w", dir, err)
		}
		if tj.Model.Type != "BPE" {
			return nil, fmt.Errorf("%s/tokenizer.json: model type %q: only byte-level BPE is supported: %w", dir, tj.Model.Type, ErrUnsupported)
		}
		t.vocab = tj.Model.Vocab
		for _, m := range tj.Model.Merges {
			var s string
			var pair []string
			if json.Unmarshal(m, &s) == nil {
				merges = append(merges, s)
			} else if json.Unmarshal(m, &pair) == nil && len(pair) == 2 {
				merges = append(merges, pair[0]+" "+pair[1])
			} else {
				return nil, fmt.Errorf("%s/tokenizer.json: merge %s is neither \"a b\" nor [a, b]", dir, m)
			}
		}
	} else {
		vraw, verr := os.ReadFile(filepath.Join(dir, "vocab.json"))
		mraw, merr := os.ReadFile(filepath.Join(dir, "merges.txt"))
		if verr != nil || merr != nil {
			return nil, fmt.Errorf("model folder %s has no tokenizer (tokenizer.json, or vocab.json and merges.txt)", dir)
		}
		if err := json.Unmarshal(vraw, &t.vocab); err != nil {
			return nil, fmt.Errorf("parse %s/vocab.json: %w", dir, err)
		}
		for _, line := range strings.Split(string(mraw), "\n") {
			if line != "" && !strings.HasPrefix(line, "#version") {
				merges = append(merges, line)
			}
		}
	}
	for i, m := range merges {
		a, b, ok := strings.Cut(m, " ")
		if !ok {
			return nil, fmt.Errorf("%s: merge %d %q is not two symbols", dir, i+1, m)
		}
		t.ranks[[2]string{a, b}] = i
	}
	t.inverse = make(map[int32]string, len(t.vocab))
	for s, id := range t.vocab {
		t.inverse[id] = s
	}
	t.split = regexp2.MustCompile(gpt2Split, regexp2.None)
	// GPT-2's reversible byte → printable rune table.
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			t.byteEnc[b] = rune(b)
		} else {
			t.byteEnc[b] = rune(256 + n)
			n++
		}
		t.byteDec[t.byteEnc[b]] = byte(b)
	}
	return t, nil
}

func (t *bpe) Name() string { return t.name + " (byte-level BPE)" }

func (t *bpe) Encode(text string) ([]int32, error) {
	var out []int32
	m, err := t.split.FindStringMatch(text)
	for ; m != nil && err == nil; m, err = t.split.FindNextMatch(m) {
		var syms []string
		for _, c := range []byte(m.String()) {
			syms = append(syms, string(t.byteEnc[c]))
		}
		for len(syms) > 1 {
			best, bestRank := -1, int(^uint(0)>>1)
			for i := 0; i+1 < len(syms); i++ {
				if r, ok := t.ranks[[2]string{syms[i], syms[i+1]}]; ok && r < bestRank {
					best, bestRank = i, r
				}
			}
			if best < 0 {
				break
			}
			syms[best] += syms[best+1]
			syms = append(syms[:best+1], syms[best+2:]...)
		}
		for _, s := range syms {
			id, ok := t.vocab[s]
			if !ok {
				return nil, fmt.Errorf("tokenizer %s: symbol %q is not in the vocabulary", t.name, s)
			}
			out = append(out, id)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", t.name, err)
	}
	return out, nil
}

func (t *bpe) Decode(ids []int32) string {
	var b []byte
	for _, id := range ids {
		for _, r := range t.inverse[id] {
			if c, ok := t.byteDec[r]; ok {
				b = append(b, c)
			}
		}
	}
	return string(b)
}
