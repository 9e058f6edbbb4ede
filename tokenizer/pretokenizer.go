package tokenizer

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// piece is a part of the text on its way through the pipeline: either an
// added token already resolved (id >= 0) or text still to split and encode.
type piece struct {
	text  string
	id    int32
	first bool // starts at byte 0 of the input (Metaspace's "first" scheme)
}

// preTokenizer splits one text piece into the pre-tokens that BPE encodes
// one by one (tokenizer.json's "pre_tokenizer"). A Sequence is flattened
// into its stages when the file is read.
type preTokenizer interface {
	preTokenize(p piece, out []piece) ([]piece, error)
}

// appendSpans appends the non-empty spans of p as pieces.
func appendSpans(out []piece, p piece, spans []span) []piece {
	for _, s := range spans {
		if s.end > s.start {
			out = append(out, piece{text: p.text[s.start:s.end], id: -1, first: p.first && s.start == 0})
		}
	}
	return out
}

type splitPre struct {
	pat      pattern
	behavior splitBehavior
	invert   bool
}

func (sp splitPre) preTokenize(p piece, out []piece) ([]piece, error) {
	spans, err := sp.pat.find(p.text)
	if err != nil {
		return out, err
	}
	if sp.invert {
		for i := range spans {
			spans[i].match = !spans[i].match
		}
	}
	return appendSpans(out, p, applyBehavior(spans, sp.behavior)), nil
}

// gpt2Split is the split regex of GPT-2, which the ByteLevel pre-tokenizer
// applies when use_regex is set.
const gpt2Split = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

var gpt2Pattern = sync.OnceValue(func() pattern {
	re, err := compileRegex(gpt2Split)
	if err != nil {
		panic(err) // a constant that compiles; a failure is a bug here
	}
	return pattern{re: re}
})

type byteLevelPre struct {
	addPrefixSpace bool
	useRegex       bool
}

func (b byteLevelPre) preTokenize(p piece, out []piece) ([]piece, error) {
	if b.addPrefixSpace && !strings.HasPrefix(p.text, " ") {
		p.text = " " + p.text
	}
	start := len(out)
	if b.useRegex {
		spans, err := gpt2Pattern().find(p.text)
		if err != nil {
			return out, err
		}
		out = appendSpans(out, p, spans)
	} else if p.text != "" {
		out = append(out, p)
	}
	for i := start; i < len(out); i++ {
		out[i].text = byteLevelEncode(out[i].text)
	}
	return out, nil
}

type digitsPre struct{ individual bool }

func (d digitsPre) preTokenize(p piece, out []piece) ([]piece, error) {
	b := splitContiguous
	if d.individual {
		b = splitIsolated
	}
	return appendSpans(out, p, applyBehavior(charSpans(p.text, unicode.IsNumber), b)), nil
}

type whitespaceSplitPre struct{}

func (whitespaceSplitPre) preTokenize(p piece, out []piece) ([]piece, error) {
	return appendSpans(out, p, applyBehavior(charSpans(p.text, unicode.IsSpace), splitRemoved)), nil
}

// Metaspace prepend schemes.
const (
	prependAlways = "always"
	prependFirst  = "first"
	prependNever  = "never"
)

type metaspacePre struct {
	replacement rune
	scheme      string
	split       bool
}

func (m metaspacePre) preTokenize(p piece, out []piece) ([]piece, error) {
	rep := string(m.replacement)
	p.text = strings.ReplaceAll(p.text, " ", rep)
	if !strings.HasPrefix(p.text, rep) && (m.scheme == prependAlways || m.scheme == prependFirst && p.first) {
		p.text = rep + p.text
	}
	if !m.split {
		if p.text != "" {
			out = append(out, p)
		}
		return out, nil
	}
	spans := charSpans(p.text, func(r rune) bool { return r == m.replacement })
	return appendSpans(out, p, applyBehavior(spans, splitMergedWithNext)), nil
}

// metaspaceJSON is the Metaspace pre-tokenizer and decoder's fields.
type metaspaceJSON struct {
	Replacement    *string `json:"replacement"`
	PrependScheme  *string `json:"prepend_scheme"`
	Split          *bool   `json:"split"`
	AddPrefixSpace *bool   `json:"add_prefix_space"`
}

func parseMetaspace(raw json.RawMessage) (metaspacePre, error) {
	var v metaspaceJSON
	if err := strictFields(raw, &v, "replacement"); err != nil {
		return metaspacePre{}, fmt.Errorf("Metaspace: %w", err)
	}
	r, n := utf8.DecodeRuneInString(*v.Replacement)
	if n == 0 || n != len(*v.Replacement) || r == utf8.RuneError {
		return metaspacePre{}, fmt.Errorf("Metaspace: replacement %q is not one character", *v.Replacement)
	}
	m := metaspacePre{replacement: r, scheme: prependAlways, split: true}
	if v.PrependScheme != nil {
		switch *v.PrependScheme {
		case prependAlways, prependFirst, prependNever:
			m.scheme = *v.PrependScheme
		default:
			return m, fmt.Errorf("Metaspace: prepend_scheme %q (want always, first or never)", *v.PrependScheme)
		}
	}
	if v.AddPrefixSpace != nil && !*v.AddPrefixSpace {
		if m.scheme != prependNever && v.PrependScheme != nil {
			return m, fmt.Errorf("Metaspace: add_prefix_space false does not match prepend_scheme %q", m.scheme)
		}
		m.scheme = prependNever
	}
	if v.Split != nil {
		m.split = *v.Split
	}
	return m, nil
}

type byteLevelJSON struct {
	AddPrefixSpace *bool `json:"add_prefix_space"`
	TrimOffsets    *bool `json:"trim_offsets"`
	UseRegex       *bool `json:"use_regex"`
}

func parseByteLevel(raw json.RawMessage) (byteLevelPre, error) {
	var v byteLevelJSON
	if err := strictFields(raw, &v, "add_prefix_space", "trim_offsets"); err != nil {
		return byteLevelPre{}, fmt.Errorf("ByteLevel: %w", err)
	}
	b := byteLevelPre{addPrefixSpace: *v.AddPrefixSpace, useRegex: true}
	if v.UseRegex != nil {
		b.useRegex = *v.UseRegex
	}
	return b, nil
}

// parsePreTokenizer returns the stages of a pre-tokenizer, a Sequence
// flattened.
func parsePreTokenizer(raw json.RawMessage) ([]preTokenizer, error) {
	typ, err := componentType(raw)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "Sequence":
		nested, err := parseSequence(raw, "pretokenizers", parsePreTokenizer)
		if err != nil {
			return nil, err
		}
		return slices.Concat(nested...), nil
	case "Split":
		var v struct {
			Pattern  json.RawMessage `json:"pattern"`
			Behavior *string         `json:"behavior"`
			Invert   *bool           `json:"invert"`
		}
		if err := strictFields(raw, &v, "pattern", "behavior", "invert"); err != nil {
			return nil, fmt.Errorf("Split: %w", err)
		}
		p, err := parsePattern(v.Pattern)
		if err != nil {
			return nil, fmt.Errorf("Split: %w", err)
		}
		b, ok := splitBehaviors[*v.Behavior]
		if !ok {
			return nil, fmt.Errorf("Split: behavior %q (want Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)", *v.Behavior)
		}
		return []preTokenizer{splitPre{p, b, *v.Invert}}, nil
	case "ByteLevel":
		b, err := parseByteLevel(raw)
		if err != nil {
			return nil, err
		}
		return []preTokenizer{b}, nil
	case "Digits":
		var v struct {
			Individual *bool `json:"individual_digits"`
		}
		if err := strictFields(raw, &v, "individual_digits"); err != nil {
			return nil, fmt.Errorf("Digits: %w", err)
		}
		return []preTokenizer{digitsPre{*v.Individual}}, nil
	case "Metaspace":
		m, err := parseMetaspace(raw)
		if err != nil {
			return nil, err
		}
		return []preTokenizer{m}, nil
	case "WhitespaceSplit":
		return []preTokenizer{whitespaceSplitPre{}}, nil
	}
	return nil, fmt.Errorf("%w: pre-tokenizer %q (supported: Sequence, Split, ByteLevel, Digits, Metaspace, WhitespaceSplit)", ErrUnsupported, typ)
}
