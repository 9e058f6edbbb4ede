package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"benchtop/tokenizer"

	tiktoken "github.com/tiktoken-go/tokenizer"
)

// Tokenizer turns text into token ids and back.
type Tokenizer interface {
	Name() string
	// Encode returns the ids of text without special tokens (Hugging
	// Face's add_special_tokens=False); special tokens written in the text
	// are still matched as one id each.
	Encode(text string) ([]int32, error)
	// EncodeSpecial also adds the special tokens the tokenizer's
	// post-processor defines (add_special_tokens=True): Llama's <s>,
	// Gemma's <bos>; nothing for GPT-2, Qwen or Llama 3's files.
	EncodeSpecial(text string) ([]int32, error)
	// Decode returns the text of ids, special tokens included; ids outside
	// the vocabulary are skipped.
	Decode(ids []int32) string
	// MaxID is the largest id Encode can return: a model whose vocab_size
	// is not above it cannot take this tokenizer's ids.
	MaxID() int32
}

// r50k is the GPT-2 byte-level BPE embedded in tiktoken-go.
type r50k struct{ codec tiktoken.Codec }

// NewGPT2Tokenizer returns the embedded GPT-2 (r50k_base) tokenizer.
func NewGPT2Tokenizer() (Tokenizer, error) {
	c, err := tiktoken.Get(tiktoken.R50kBase)
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

// EncodeSpecial is Encode: GPT-2's tokenizer adds no special tokens.
func (t *r50k) EncodeSpecial(text string) ([]int32, error) { return t.Encode(text) }

// MaxID is r50k's <|endoftext|>.
func (t *r50k) MaxID() int32 { return gpt2EndOfText }

// gpt2EndOfText is GPT-2's <|endoftext|>, r50k's largest id.
const gpt2EndOfText = 50256

func (t *r50k) Decode(ids []int32) string {
	u := make([]uint, 0, len(ids))
	for _, id := range ids {
		if id >= 0 && id <= gpt2EndOfText {
			u = append(u, uint(id))
		}
	}
	s, err := t.codec.Decode(u)
	if err != nil {
		return ""
	}
	return s
}

// fileTokenizer is a model folder's own tokenizer, read by package
// tokenizer (exact against Hugging Face tokenizers).
type fileTokenizer struct {
	name string
	tok  *tokenizer.Tokenizer
	// processor: a tokenizer.json with a post-processor, which then decides
	// the special tokens a prompt starts with; before is what it puts
	// before the text.
	processor bool
	before    []int32
}

// newFileTokenizer wraps tok; fromJSON says it was read from a
// tokenizer.json (whose post-processor then decides a prompt's special
// tokens) rather than vocab.json + merges.txt.
func newFileTokenizer(name string, tok *tokenizer.Tokenizer, fromJSON bool) *fileTokenizer {
	t := &fileTokenizer{name: name, tok: tok}
	if fromJSON {
		t.before, _, t.processor = tok.SpecialAround()
	}
	return t
}

func (t *fileTokenizer) MaxID() int32 { return t.tok.MaxID() }

func (t *fileTokenizer) Name() string { return t.name }

func (t *fileTokenizer) Encode(text string) ([]int32, error) {
	ids, err := t.tok.Encode(text, false)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", t.name, err)
	}
	return ids, nil
}

func (t *fileTokenizer) EncodeSpecial(text string) ([]int32, error) {
	ids, err := t.tok.Encode(text, true)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", t.name, err)
	}
	return ids, nil
}

func (t *fileTokenizer) Decode(ids []int32) string {
	known := make([]int32, 0, len(ids))
	for _, id := range ids {
		if _, ok := t.tok.Token(id); ok {
			known = append(known, id)
		}
	}
	s, _ := t.tok.Decode(known)
	return s
}

// ErrNoTokenizer: a model folder has neither tokenizer.json nor vocab.json
// and merges.txt.
var ErrNoTokenizer = errors.New("no tokenizer (tokenizer.json, or vocab.json and merges.txt)")

// LoadTokenizer reads a folder's tokenizer: tokenizer.json, else
// vocab.json + merges.txt (GPT-2 style byte-level BPE, with the special
// tokens of special_tokens_map.json when present). A folder with neither
// is an error wrapping ErrNoTokenizer; a malformed file is an error that
// names it.
func LoadTokenizer(dir string) (Tokenizer, error) {
	name := filepath.Base(dir)
	path := filepath.Join(dir, "tokenizer.json")
	if _, err := os.Stat(path); err == nil {
		tok, err := tokenizer.LoadFile(path)
		if err != nil {
			return nil, err
		}
		return newFileTokenizer(name+" (tokenizer.json)", tok, true), nil
	}
	vocab, merges := filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt")
	_, verr := os.Stat(vocab)
	_, merr := os.Stat(merges)
	if verr != nil || merr != nil {
		return nil, fmt.Errorf("model folder %s has %w", dir, ErrNoTokenizer)
	}
	specials, err := readSpecialTokensMap(filepath.Join(dir, "special_tokens_map.json"))
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.LoadVocabMerges(vocab, merges, specials...)
	if err != nil {
		return nil, err
	}
	return newFileTokenizer(name+" (byte-level BPE)", tok, false), nil
}

// MaxTokenizerFileBytes bounds a tokenizer.json LoadTokenizerFile reads
// (the largest real ones, Gemma's, are about 33 MB).
const MaxTokenizerFileBytes = 1 << 30

// LoadTokenizerFile reads a tokenizer.json given by path (--tokenizer
// FILE); a folder is read as LoadTokenizer reads it. Errors start with
// "tokenizer PATH:" and wrap tokenizer.ErrMalformed or
// tokenizer.ErrUnsupported when the contents are at fault.
func LoadTokenizerFile(path string) (Tokenizer, error) {
	st, err := os.Stat(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	switch {
	case st.IsDir():
		tok, err := LoadTokenizer(path)
		if err != nil {
			return nil, fmt.Errorf("tokenizer %s: %w", path, err)
		}
		return tok, nil
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("tokenizer %s: not a regular file", path)
	case st.Size() > MaxTokenizerFileBytes:
		return nil, fmt.Errorf("tokenizer %s: %d bytes, more than a tokenizer.json's %d", path, st.Size(), MaxTokenizerFileBytes)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	tok, err := tokenizer.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	return newFileTokenizer(filepath.Base(path), tok, true), nil
}

// readSpecialTokensMap returns the token strings of a
// special_tokens_map.json ("bos_token": "</s>" or {"content": "</s>"},
// "additional_special_tokens": [...]), sorted; none when the file is
// absent.
func readSpecialTokensMap(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	set := map[string]bool{}
	var add func(key string, v json.RawMessage) error
	add = func(key string, v json.RawMessage) error {
		var s string
		if json.Unmarshal(v, &s) == nil {
			set[s] = true
			return nil
		}
		var obj struct {
			Content *string `json:"content"`
		}
		if json.Unmarshal(v, &obj) == nil && obj.Content != nil {
			set[*obj.Content] = true
			return nil
		}
		var list []json.RawMessage
		if json.Unmarshal(v, &list) == nil {
			for _, e := range list {
				if err := add(key, e); err != nil {
					return err
				}
			}
			return nil
		}
		return fmt.Errorf("%s: %s is %s, want a token string, {\"content\": ...} or a list of them", path, key, v)
	}
	for k, v := range m {
		if err := add(k, v); err != nil {
			return nil, err
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		if s != "" {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out, nil
}
