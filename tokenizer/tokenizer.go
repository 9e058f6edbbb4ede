package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"
)

// Tokenizer is a tokenizer read from a tokenizer.json (or vocab.json +
// merges.txt). It is immutable once built and safe for concurrent use.
type Tokenizer struct {
	model      *bpe
	normalizer normalizer     // nil: none
	pre        []preTokenizer // stages in order; none: the whole text is one pre-token
	post       processor      // nil: adds nothing
	dec        decoder        // nil: tokens joined by spaces
	trunc      *truncation    // nil: none
	pad        *padding       // nil: none
	added      *addedVocab
}

// Encode turns text into token ids exactly as Hugging Face tokenizers'
// Tokenizer.encode(text, add_special_tokens=addSpecial).ids does: added
// and special tokens written in the text are matched first, the rest is
// normalized, pre-tokenized and BPE-encoded, and with addSpecial the
// post-processor adds its special tokens (e.g. Llama's <s>).
//
// Errors wrap ErrInvalidText: text that is not UTF-8, or a character the
// vocabulary cannot express (where HF silently drops it).
func (t *Tokenizer) Encode(text string, addSpecial bool) ([]int32, error) {
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrInvalidText)
	}
	pieces := t.added.split(t.added.raw, piece{text: text, id: -1, first: true}, nil)
	var next []piece
	for _, p := range pieces {
		if p.id >= 0 {
			next = append(next, p)
			continue
		}
		if t.normalizer != nil {
			s, err := t.normalizer.normalize(p.text)
			if err != nil {
				return nil, fmt.Errorf("normalize: %w", err)
			}
			p.text = s
		}
		next = t.added.split(t.added.norm, p, next)
	}
	pieces = next
	for _, stage := range t.pre {
		next = make([]piece, 0, len(pieces)*2)
		for _, p := range pieces {
			if p.id >= 0 {
				next = append(next, p)
				continue
			}
			var err error
			if next, err = stage.preTokenize(p, next); err != nil {
				return nil, fmt.Errorf("pre-tokenize: %w", err)
			}
		}
		pieces = next
	}
	ids := make([]int32, 0, len(text)/3+4)
	for _, p := range pieces {
		if p.id >= 0 {
			ids = append(ids, p.id)
			continue
		}
		var err error
		if ids, err = t.model.tokenize(ids, p.text); err != nil {
			return nil, err
		}
	}
	if t.trunc != nil {
		added := 0
		if addSpecial && t.post != nil {
			added = t.post.added()
		}
		var err error
		if ids, err = t.trunc.apply(ids, added); err != nil {
			return nil, err
		}
	}
	if t.post != nil {
		ids = t.post.process(ids, addSpecial)
	}
	if t.pad != nil {
		ids = t.pad.apply(ids)
	}
	return ids, nil
}

// Decode turns ids back into text, special tokens included, as Hugging
// Face's decode(ids, skip_special_tokens=False). An id that is neither in
// the vocabulary nor an added token is an error wrapping ErrUnknownID
// (HF skips it).
func (t *Tokenizer) Decode(ids []int32) (string, error) { return t.decode(ids, false) }

// DecodeSkipSpecial is Decode without the special tokens, as Hugging
// Face's decode(ids, skip_special_tokens=True).
func (t *Tokenizer) DecodeSkipSpecial(ids []int32) (string, error) { return t.decode(ids, true) }

func (t *Tokenizer) decode(ids []int32, skipSpecial bool) (string, error) {
	toks := make([]string, 0, len(ids))
	for i, id := range ids {
		s, ok := t.Token(id)
		if !ok {
			return "", fmt.Errorf("%w: %d (position %d)", ErrUnknownID, id, i)
		}
		if skipSpecial && t.added.special[s] {
			continue
		}
		toks = append(toks, s)
	}
	if t.dec == nil {
		return strings.Join(toks, " "), nil
	}
	parts, err := t.dec.decodeChain(toks)
	if err != nil {
		return "", fmt.Errorf("decode: %w", err)
	}
	return strings.Join(parts, ""), nil
}

// Token is the vocabulary entry of an id (an added token's normalized form
// where it has one), as HF's id_to_token.
func (t *Tokenizer) Token(id int32) (string, bool) {
	if s, ok := t.added.tokenString(id); ok {
		return s, true
	}
	return t.model.vocabR.get(id)
}

// ID is the id of a vocabulary entry or added token, as HF's token_to_id.
func (t *Tokenizer) ID(token string) (int32, bool) {
	if id, ok := t.added.byContent[token]; ok {
		return id, true
	}
	id, ok := t.model.vocab[token]
	return id, ok
}

// VocabSize is the number of ids: the model's vocabulary and the added
// tokens it lacks (HF's get_vocab_size(with_added_tokens=True)).
func (t *Tokenizer) VocabSize() int {
	n := len(t.model.vocab)
	for s := range t.added.byContent {
		if _, ok := t.model.vocab[s]; !ok {
			n++
		}
	}
	return n
}

// IsSpecial says whether id is a special added token (<s>, <|im_end|>...).
func (t *Tokenizer) IsSpecial(id int32) bool {
	tok, ok := t.added.byID[id]
	return ok && tok.Special
}

// LoadVocabMerges reads a GPT-2 style folder tokenizer: vocab.json and
// merges.txt, byte-level with GPT-2's split regex and no prefix space, as
// transformers' GPT2TokenizerFast builds it. specials are registered as
// special tokens, matched in text before splitting (e.g. OPT's "</s>").
func LoadVocabMerges(vocabPath, mergesPath string, specials ...string) (*Tokenizer, error) {
	vraw, err := os.ReadFile(vocabPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	mraw, err := os.ReadFile(mergesPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := FromVocabMerges(vraw, mraw, specials...)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", vocabPath, mergesPath, err)
	}
	return t, nil
}

// FromVocabMerges is LoadVocabMerges on the files' contents.
func FromVocabMerges(vocabJSON, mergesTxt []byte, specials ...string) (*Tokenizer, error) {
	vocab, err := parseVocab(json.RawMessage(vocabJSON))
	if err != nil {
		return nil, fmt.Errorf("%w: vocab.json: %w", ErrMalformed, err)
	}
	var merges [][2]string
	lines := strings.Split(string(mergesTxt), "\n")
	for i, line := range lines {
		line = strings.TrimSuffix(line, "\r")
		if line == "" || strings.HasPrefix(line, "#version") {
			continue
		}
		parts := strings.Split(line, " ")
		if len(parts) != 2 {
			return nil, fmt.Errorf("%w: merges.txt line %d %q is not two tokens separated by one space", ErrMalformed, i+1, line)
		}
		merges = append(merges, [2]string{parts[0], parts[1]})
	}
	m := &bpe{vocab: vocab}
	if err := m.build(merges); err != nil {
		return nil, fmt.Errorf("%w: merges.txt: %w", ErrMalformed, err)
	}
	t := &Tokenizer{
		model: m,
		pre:   []preTokenizer{byteLevelPre{addPrefixSpace: false, useRegex: true}},
		dec:   byteLevelDec{},
		post:  byteLevelProc{},
	}
	var tokens []addedToken
	for _, s := range specials {
		tokens = append(tokens, addedToken{Content: s, Special: true})
	}
	if t.added, err = newAddedVocab(tokens, m, nil); err != nil {
		return nil, err
	}
	return t, nil
}

// isKind says whether err already wraps one of the package's sentinels.
func isKind(err error) bool {
	return errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnsupported) ||
		errors.Is(err, ErrInvalidText) || errors.Is(err, ErrUnknownID)
}
