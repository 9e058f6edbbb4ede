package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites text before pre-tokenization (tokenizer.json's
// "normalizer"). Added tokens marked "normalized" are matched after it.
type normalizer interface {
	normalize(s string) (string, error)
}

type normalizerSeq []normalizer

func (q normalizerSeq) normalize(s string) (string, error) {
	var err error
	for _, n := range q {
		if s, err = n.normalize(s); err != nil {
			return "", err
		}
	}
	return s, nil
}

type unicodeForm struct{ form norm.Form }

func (u unicodeForm) normalize(s string) (string, error) { return u.form.String(s), nil }

// prepend adds its text in front of any non-empty string.
type prepend struct{ text string }

func (p prepend) normalize(s string) (string, error) {
	if s == "" {
		return s, nil
	}
	return p.text + s, nil
}

type replaceNorm struct {
	pat     pattern
	content string
}

func (r replaceNorm) normalize(s string) (string, error) { return r.pat.replace(s, r.content) }

// lowercase is Rust's char::to_lowercase, which differs from Go's
// unicode.ToLower only for U+0130 (İ → i̇).
type lowercase struct{}

func (lowercase) normalize(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r == '\u0130' {
			b.WriteString("i\u0307")
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String(), nil
}

type stripNorm struct{ left, right bool }

func (st stripNorm) normalize(s string) (string, error) {
	if st.left {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
	}
	if st.right {
		s = strings.TrimRightFunc(s, unicode.IsSpace)
	}
	return s, nil
}

type stripAccents struct{}

func (stripAccents) normalize(s string) (string, error) {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) || unicode.Is(unicode.Me, r) {
			return -1
		}
		return r
	}, s), nil
}

// byteLevelNorm is the ByteLevel normalizer: every byte to its GPT-2 rune.
type byteLevelNorm struct{}

func (byteLevelNorm) normalize(s string) (string, error) { return byteLevelEncode(s), nil }

// componentJSON reads the "type" of any component.
type componentJSON struct {
	Type string `json:"type"`
}

func componentType(raw json.RawMessage) (string, error) {
	var c componentJSON
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", err
	}
	if c.Type == "" {
		return "", fmt.Errorf("no \"type\"")
	}
	return c.Type, nil
}

// isNull says whether a component is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}

func parseNormalizer(raw json.RawMessage) (normalizer, error) {
	typ, err := componentType(raw)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "Sequence":
		q, err := parseSequence(raw, "normalizers", parseNormalizer)
		if err != nil {
			return nil, err
		}
		return normalizerSeq(q), nil
	case "NFC":
		return unicodeForm{norm.NFC}, nil
	case "NFD":
		return unicodeForm{norm.NFD}, nil
	case "NFKC":
		return unicodeForm{norm.NFKC}, nil
	case "NFKD":
		return unicodeForm{norm.NFKD}, nil
	case "Lowercase":
		return lowercase{}, nil
	case "StripAccents":
		return stripAccents{}, nil
	case "ByteLevel":
		return byteLevelNorm{}, nil
	case "Prepend":
		var v struct {
			Prepend *string `json:"prepend"`
		}
		if err := strictFields(raw, &v, "prepend"); err != nil {
			return nil, fmt.Errorf("Prepend: %w", err)
		}
		return prepend{*v.Prepend}, nil
	case "Replace":
		p, content, err := parseReplace(raw)
		if err != nil {
			return nil, err
		}
		return replaceNorm{p, content}, nil
	case "Strip":
		var v struct {
			Left  *bool `json:"strip_left"`
			Right *bool `json:"strip_right"`
		}
		if err := strictFields(raw, &v, "strip_left", "strip_right"); err != nil {
			return nil, fmt.Errorf("Strip: %w", err)
		}
		return stripNorm{*v.Left, *v.Right}, nil
	}
	return nil, fmt.Errorf("%w: normalizer %q (supported: Sequence, NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, Prepend, Replace, ByteLevel)", ErrUnsupported, typ)
}
