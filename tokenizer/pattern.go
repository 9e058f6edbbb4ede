package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/dlclark/regexp2/v2"
)

// pattern finds what Split, Replace and their decoders act on: a literal
// string or a regular expression. Hugging Face compiles both with
// Oniguruma; regexp2 is a backtracking engine with the same look-around,
// Unicode classes (\p{L}, \p{N}, \s) and leftmost-first alternation.
type pattern struct {
	literal string
	re      *regexp2.Regexp // nil for a literal
}

// patternJSON is {"String": "..."} or {"Regex": "..."}.
type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

func parsePattern(raw json.RawMessage) (pattern, error) {
	var pj patternJSON
	if err := json.Unmarshal(raw, &pj); err != nil {
		return pattern{}, fmt.Errorf("pattern: %w", err)
	}
	switch {
	case pj.String != nil && pj.Regex == nil:
		return pattern{literal: *pj.String}, nil
	case pj.Regex != nil && pj.String == nil:
		re, err := compileRegex(*pj.Regex)
		if err != nil {
			return pattern{}, err
		}
		return pattern{re: re}, nil
	}
	return pattern{}, fmt.Errorf("pattern %s: want {\"String\": ...} or {\"Regex\": ...}", raw)
}

func compileRegex(expr string) (*regexp2.Regexp, error) {
	// No backtracking-stack cap: the split patterns of real files backtrack
	// over whole whitespace runs, and the input is one bounded string.
	re, err := regexp2.Compile(expr, regexp2.None, regexp2.OptionMaxBacktrackingStackSize(-1))
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", expr, err)
	}
	// A pattern that backtracks without end (a hostile file) fails a
	// match with an error instead of hanging Encode.
	re.MatchTimeout = regexTimeout
	return re, nil
}

// regexTimeout bounds one regex match; real split patterns take
// microseconds.
const regexTimeout = 5 * time.Second

// span is a piece of a string: [start, end) bytes, and whether the pattern
// matched it.
type span struct {
	start, end int
	match      bool
}

// find cuts s into spans that cover it, matches and the text between them.
// An empty s gives no spans.
func (p pattern) find(s string) ([]span, error) {
	if s == "" {
		return nil, nil
	}
	var out []span
	prev := 0
	emit := func(a, b int) {
		if prev != a {
			out = append(out, span{prev, a, false})
		}
		out = append(out, span{a, b, true})
		prev = b
	}
	if p.re == nil {
		if p.literal == "" {
			return []span{{0, len(s), false}}, nil
		}
		for i := 0; ; {
			k := strings.Index(s[i:], p.literal)
			if k < 0 {
				break
			}
			emit(i+k, i+k+len(p.literal))
			i += k + len(p.literal)
		}
	} else {
		idx, err := p.regexIndex(s)
		if err != nil {
			return nil, fmt.Errorf("regex %q: %w", p.re.String(), err)
		}
		for _, m := range idx {
			emit(m[0], m[1])
		}
	}
	if prev != len(s) {
		out = append(out, span{prev, len(s), false})
	}
	return out, nil
}

// regexIndex returns the byte ranges of the regex's matches in s, with the
// characters of Unicode 15.1 and 16.0 seen as HF's Oniguruma sees them.
func (p pattern) regexIndex(s string) ([][]int, error) {
	runes, ok := asUnicode16(s)
	if !ok {
		return p.re.FindAllStringIndex(s, -1)
	}
	idx, err := p.re.FindAllRunesIndex(runes, -1)
	if err != nil {
		return nil, err
	}
	offset := make([]int, len(runes)+1) // byte offset of each rune index
	i := 0
	for k := range s {
		offset[i] = k
		i++
	}
	offset[len(runes)] = len(s)
	for _, m := range idx {
		m[0], m[1] = offset[m[0]], offset[m[1]]
	}
	return idx, nil
}

// replace replaces every match of p in s by content.
func (p pattern) replace(s, content string) (string, error) {
	if p.re == nil {
		if p.literal == "" {
			return s, nil
		}
		return strings.ReplaceAll(s, p.literal, content), nil
	}
	spans, err := p.find(s)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, sp := range spans {
		if sp.match {
			b.WriteString(content)
		} else {
			b.WriteString(s[sp.start:sp.end])
		}
	}
	return b.String(), nil
}

// charSpans cuts s into spans where each rune for which f is true is a
// match of its own.
func charSpans(s string, f func(rune) bool) []span {
	var out []span
	prev := 0
	for i, r := range s {
		if f(r) {
			if prev < i {
				out = append(out, span{prev, i, false})
			}
			n := len(string(r))
			out = append(out, span{i, i + n, true})
			prev = i + n
		}
	}
	if prev < len(s) {
		out = append(out, span{prev, len(s), false})
	}
	return out
}

// Split behaviours (tokenizers' SplitDelimiterBehavior).
type splitBehavior int

const (
	splitRemoved splitBehavior = iota
	splitIsolated
	splitMergedWithPrevious
	splitMergedWithNext
	splitContiguous
)

var splitBehaviors = map[string]splitBehavior{
	"Removed":            splitRemoved,
	"Isolated":           splitIsolated,
	"MergedWithPrevious": splitMergedWithPrevious,
	"MergedWithNext":     splitMergedWithNext,
	"Contiguous":         splitContiguous,
}

// applyBehavior turns the spans of a match into the pieces to keep.
func applyBehavior(spans []span, b splitBehavior) []span {
	switch b {
	case splitRemoved:
		out := spans[:0:0]
		for _, s := range spans {
			if !s.match {
				out = append(out, s)
			}
		}
		return out
	case splitIsolated:
		return spans
	case splitContiguous:
		var out []span
		prevMatch := false
		for _, s := range spans {
			if s.match == prevMatch && len(out) > 0 {
				out[len(out)-1].end = s.end
			} else {
				out = append(out, span{s.start, s.end, false})
			}
			prevMatch = s.match
		}
		return out
	case splitMergedWithPrevious:
		var out []span
		prevMatch := false
		for _, s := range spans {
			if s.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].end = s.end
			} else {
				out = append(out, span{s.start, s.end, false})
			}
			prevMatch = s.match
		}
		return out
	case splitMergedWithNext:
		var rev []span
		prevMatch := false
		for i := len(spans) - 1; i >= 0; i-- {
			s := spans[i]
			if s.match && !prevMatch && len(rev) > 0 {
				rev[len(rev)-1].start = s.start
			} else {
				rev = append(rev, span{s.start, s.end, false})
			}
			prevMatch = s.match
		}
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		return rev
	}
	return spans
}

// isWordRune is Rust regex's Unicode \w: Alphabetic, marks, decimal
// digits, connector punctuation and the joiners.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r) ||
		unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r) ||
		r == '\u200C' || r == '\u200D'
}
