package tokenizer

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
)

// maxID is the largest id this package represents (ids are int32).
const maxID = math.MaxInt32

// fileJSON is the top level of tokenizer.json.
type fileJSON struct {
	Version       *string           `json:"version"`
	Truncation    json.RawMessage   `json:"truncation"`
	Padding       json.RawMessage   `json:"padding"`
	AddedTokens   []json.RawMessage `json:"added_tokens"`
	Normalizer    json.RawMessage   `json:"normalizer"`
	PreTokenizer  json.RawMessage   `json:"pre_tokenizer"`
	PostProcessor json.RawMessage   `json:"post_processor"`
	Decoder       json.RawMessage   `json:"decoder"`
	Model         json.RawMessage   `json:"model"`
}

// LoadFile reads a Hugging Face tokenizer.json.
func LoadFile(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse reads the contents of a tokenizer.json. Errors name the component
// and field at fault and wrap ErrMalformed or ErrUnsupported.
func Parse(data []byte) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if f.Version != nil && *f.Version != "1.0" {
		return nil, fmt.Errorf("%w: version %q (want \"1.0\")", ErrUnsupported, *f.Version)
	}
	if isNull(f.Model) {
		return nil, fmt.Errorf("%w: no model", ErrMalformed)
	}
	t := &Tokenizer{}
	var err error
	if t.model, err = parseModel(f.Model); err != nil {
		return nil, fmt.Errorf("model: %w", wrapMalformed(err))
	}
	// The components are independent; cmp.Or keeps the first one's error.
	if err := cmp.Or(
		parseOptional(f.Normalizer, "normalizer", parseNormalizer, &t.normalizer),
		parseOptional(f.PreTokenizer, "pre_tokenizer", parsePreTokenizer, &t.pre),
		parseOptional(f.PostProcessor, "post_processor", parseProcessor, &t.post),
		parseOptional(f.Decoder, "decoder", parseDecoder, &t.dec),
		parseOptional(f.Truncation, "truncation", parseTruncation, &t.trunc),
		parseOptional(f.Padding, "padding", parsePadding, &t.pad),
	); err != nil {
		return nil, err
	}
	tokens := make([]addedToken, 0, len(f.AddedTokens))
	for i, raw := range f.AddedTokens {
		at, err := parseAddedToken(raw)
		if err != nil {
			return nil, fmt.Errorf("added_tokens[%d]: %w", i, wrapMalformed(err))
		}
		tokens = append(tokens, at)
	}
	if t.added, err = newAddedVocab(tokens, t.model, t.normalizer); err != nil {
		return nil, fmt.Errorf("added_tokens: %w", wrapMalformed(err))
	}
	return t, nil
}

// parseOptional parses a component the file may leave out (absent or
// null: *dst stays as it is), naming the component in an error.
func parseOptional[T any](raw json.RawMessage, name string, parse func(json.RawMessage) (T, error), dst *T) error {
	if isNull(raw) {
		return nil
	}
	v, err := parse(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", name, wrapMalformed(err))
	}
	*dst = v
	return nil
}

// wrapMalformed marks an error as ErrMalformed unless it already says
// what it is.
func wrapMalformed(err error) error {
	if isKind(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}

func parseAddedToken(raw json.RawMessage) (addedToken, error) {
	var v struct {
		ID         *int64  `json:"id"`
		Content    *string `json:"content"`
		SingleWord *bool   `json:"single_word"`
		LStrip     *bool   `json:"lstrip"`
		RStrip     *bool   `json:"rstrip"`
		Normalized *bool   `json:"normalized"`
		Special    *bool   `json:"special"`
	}
	if err := strictFields(raw, &v, "content"); err != nil {
		return addedToken{}, err
	}
	if v.ID != nil && (*v.ID < 0 || *v.ID > maxID) {
		return addedToken{}, fmt.Errorf("id %d is out of range", *v.ID)
	}
	t := addedToken{Content: *v.Content, Normalized: true}
	for _, f := range []struct {
		src *bool
		dst *bool
	}{{v.SingleWord, &t.SingleWord}, {v.LStrip, &t.LStrip}, {v.RStrip, &t.RStrip}, {v.Normalized, &t.Normalized}, {v.Special, &t.Special}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	return t, nil
}

// parseSequence parses a Sequence component: the list under key, each
// element with parse. An error names the element at fault.
func parseSequence[T any](raw json.RawMessage, key string, parse func(json.RawMessage) (T, error)) ([]T, error) {
	var m map[string]json.RawMessage
	var list []json.RawMessage
	if err := strictFields(raw, &m, key); err != nil {
		return nil, fmt.Errorf("Sequence: %w", err)
	}
	if err := json.Unmarshal(m[key], &list); err != nil {
		return nil, fmt.Errorf("Sequence.%s: %w", key, err)
	}
	var out []T
	for i, r := range list {
		x, err := parse(r)
		if err != nil {
			return nil, fmt.Errorf("Sequence.%s[%d]: %w", key, i, err)
		}
		out = append(out, x)
	}
	return out, nil
}

// parseReplace reads the pattern and content of a Replace normalizer or
// decoder.
func parseReplace(raw json.RawMessage) (pattern, string, error) {
	var v struct {
		Pattern json.RawMessage `json:"pattern"`
		Content *string         `json:"content"`
	}
	if err := strictFields(raw, &v, "pattern", "content"); err != nil {
		return pattern{}, "", fmt.Errorf("Replace: %w", err)
	}
	p, err := parsePattern(v.Pattern)
	if err != nil {
		return pattern{}, "", fmt.Errorf("Replace: %w", err)
	}
	return p, *v.Content, nil
}

// strictFields unmarshals raw into v after checking that the named fields
// are present and not null.
func strictFields(raw json.RawMessage, v any, required ...string) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	for _, k := range required {
		if isNull(m[k]) {
			return fmt.Errorf("missing field %q", k)
		}
	}
	return json.Unmarshal(raw, v)
}

type bpeJSON struct {
	Type                    *string           `json:"type"`
	Dropout                 *float64          `json:"dropout"`
	UnkToken                *string           `json:"unk_token"`
	ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
	FuseUnk                 *bool             `json:"fuse_unk"`
	ByteFallback            *bool             `json:"byte_fallback"`
	IgnoreMerges            *bool             `json:"ignore_merges"`
	Vocab                   map[string]uint32 `json:"vocab"`
	Merges                  json.RawMessage   `json:"merges"`
}

func parseModel(raw json.RawMessage) (*bpe, error) {
	var v bpeJSON
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("BPE model: %w", err)
	}
	if v.Type != nil && *v.Type != "BPE" {
		return nil, fmt.Errorf("%w: model type %q (only BPE is supported)", ErrUnsupported, *v.Type)
	}
	if v.Vocab == nil || isNull(v.Merges) {
		return nil, fmt.Errorf("BPE model needs both vocab and merges")
	}
	if v.Dropout != nil && (*v.Dropout < 0 || *v.Dropout > 1) {
		return nil, fmt.Errorf("dropout %g is outside [0, 1]", *v.Dropout)
	}
	// A dropout above 0 makes HF's BPE random; benchtop always applies
	// every merge, as HF does at dropout 0 (how models are served).
	vocab, err := checkVocab(v.Vocab)
	if err != nil {
		return nil, err
	}
	merges, err := parseMerges(v.Merges)
	if err != nil {
		return nil, err
	}
	m := &bpe{vocab: vocab}
	if v.UnkToken != nil {
		m.unkToken, m.hasUnk = *v.UnkToken, true
	}
	if v.ContinuingSubwordPrefix != nil {
		m.prefix = *v.ContinuingSubwordPrefix
	}
	if v.EndOfWordSuffix != nil {
		m.suffix = *v.EndOfWordSuffix
	}
	m.fuseUnk = v.FuseUnk != nil && *v.FuseUnk
	m.byteFallback = v.ByteFallback != nil && *v.ByteFallback
	m.ignoreMerges = v.IgnoreMerges != nil && *v.IgnoreMerges
	if err := m.build(merges); err != nil {
		return nil, err
	}
	return m, nil
}

// build indexes the vocabulary and the merges.
func (m *bpe) build(merges [][2]string) error {
	m.vocabR = newIDTable(m.vocab)
	m.merges = make(map[uint64]mergeRule, len(merges))
	var sb strings.Builder
	for i, mg := range merges {
		a, b := mg[0], mg[1]
		aID, ok := m.vocab[a]
		if !ok {
			return fmt.Errorf("merge %d (%q %q): %q is not in the vocabulary", i+1, a, b, a)
		}
		bID, ok := m.vocab[b]
		if !ok {
			return fmt.Errorf("merge %d (%q %q): %q is not in the vocabulary", i+1, a, b, b)
		}
		if len(b) < len(m.prefix) {
			return fmt.Errorf("merge %d (%q %q): %q is shorter than the continuing_subword_prefix %q", i+1, a, b, b, m.prefix)
		}
		sb.Reset()
		sb.WriteString(a)
		sb.WriteString(b[len(m.prefix):])
		newID, ok := m.vocab[sb.String()]
		if !ok {
			return fmt.Errorf("merge %d (%q %q): the merged token %q is not in the vocabulary", i+1, a, b, sb.String())
		}
		// A pair listed twice keeps its last rank, as HF's does.
		m.merges[pairKey(aID, bID)] = mergeRule{rank: uint32(i), newID: newID}
	}
	m.initBytes()
	m.cache = newIDCache()
	return nil
}

func parseVocab(raw json.RawMessage) (map[string]int32, error) {
	var v map[string]uint32
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("vocab: %w", err)
	}
	return checkVocab(v)
}

// checkVocab narrows the ids to int32.
func checkVocab(v map[string]uint32) (map[string]int32, error) {
	out := make(map[string]int32, len(v))
	for s, id := range v {
		if id > maxID {
			return nil, fmt.Errorf("vocab: %q has id %d, above %d", s, id, int64(maxID))
		}
		out[s] = int32(id)
	}
	return out, nil
}

// parseMerges reads merges written as "a b" strings or as ["a", "b"] pairs.
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return nil, fmt.Errorf("merges: want a list")
	}
	rest := bytes.TrimLeft(trimmed[1:], " \t\r\n")
	if len(rest) > 0 && rest[0] == '"' {
		var lines []string
		if err := json.Unmarshal(raw, &lines); err != nil {
			return nil, fmt.Errorf("merges: %w (want all \"a b\" strings or all [a, b] pairs)", err)
		}
		out := make([][2]string, len(lines))
		for i, l := range lines {
			parts := strings.Split(l, " ")
			if len(parts) != 2 {
				return nil, fmt.Errorf("merges: merge %d %q is not two tokens separated by one space", i+1, l)
			}
			out[i] = [2]string{parts[0], parts[1]}
		}
		return out, nil
	}
	var pairs [][]string
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, fmt.Errorf("merges: %w (want all \"a b\" strings or all [a, b] pairs)", err)
	}
	out := make([][2]string, len(pairs))
	for i, p := range pairs {
		if len(p) != 2 {
			return nil, fmt.Errorf("merges: merge %d has %d parts, want 2", i+1, len(p))
		}
		out[i] = [2]string{p[0], p[1]}
	}
	return out, nil
}
