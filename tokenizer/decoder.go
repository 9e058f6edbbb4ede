package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// decoder turns the token strings of some ids back into text pieces
// (tokenizer.json's "decoder"); Decode joins what the chain returns.
type decoder interface {
	decodeChain(toks []string) ([]string, error)
}

type decoderSeq []decoder

func (q decoderSeq) decodeChain(toks []string) ([]string, error) {
	var err error
	for _, d := range q {
		if toks, err = d.decodeChain(toks); err != nil {
			return nil, err
		}
	}
	return toks, nil
}

// byteLevelDec maps GPT-2 runes back to bytes over all tokens at once (a
// character may span tokens), then reads them as UTF-8, lossily.
type byteLevelDec struct{}

func (byteLevelDec) decodeChain(toks []string) ([]string, error) {
	var b []byte
	for _, t := range toks {
		b = byteLevelDecode(b, t)
	}
	return []string{lossyString(b)}, nil
}

type replaceDec struct {
	pat     pattern
	content string
}

func (r replaceDec) decodeChain(toks []string) ([]string, error) {
	out := make([]string, len(toks))
	for i, t := range toks {
		s, err := r.pat.replace(t, r.content)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// byteFallbackDec turns runs of <0xNN> tokens into the text their bytes
// spell, or one U+FFFD per byte when they are not valid UTF-8.
type byteFallbackDec struct{}

func (byteFallbackDec) decodeChain(toks []string) ([]string, error) {
	out := make([]string, 0, len(toks))
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			for range pending {
				out = append(out, "\uFFFD")
			}
		}
		pending = pending[:0]
	}
	for _, t := range toks {
		if b, ok := byteToken(t); ok {
			pending = append(pending, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out, nil
}

// byteToken reads "<0xNN>" as Rust's u8::from_str_radix(NN, 16) does (which
// also takes "+N").
func byteToken(t string) (byte, bool) {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return 0, false
	}
	h := t[3:5]
	if h[0] == '+' {
		h = h[1:]
	}
	var v byte
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + c - '0'
		case c >= 'a' && c <= 'f':
			v = v*16 + c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = v*16 + c - 'A' + 10
		default:
			return 0, false
		}
	}
	return v, true
}

type fuseDec struct{}

func (fuseDec) decodeChain(toks []string) ([]string, error) {
	return []string{strings.Join(toks, "")}, nil
}

// stripDec removes up to start leading and stop trailing content runes
// from every token.
type stripDec struct {
	content     rune
	start, stop int
}

func (s stripDec) decodeChain(toks []string) ([]string, error) {
	out := make([]string, len(toks))
	for i, t := range toks {
		rs := []rune(t)
		lo := 0
		for lo < len(rs) && lo < s.start && rs[lo] == s.content {
			lo++
		}
		hi := len(rs)
		for k := 0; k < s.stop && hi > lo && rs[hi-1] == s.content; k++ {
			hi--
		}
		out[i] = string(rs[lo:hi])
	}
	return out, nil
}

// metaspaceDec turns the replacement rune back into a space, dropping it
// from the first token when the pre-tokenizer prepends one.
type metaspaceDec struct{ m metaspacePre }

func (d metaspaceDec) decodeChain(toks []string) ([]string, error) {
	out := make([]string, len(toks))
	for i, t := range toks {
		var b strings.Builder
		for _, r := range t {
			switch {
			case r != d.m.replacement:
				b.WriteRune(r)
			case i == 0 && d.m.scheme != prependNever:
			default:
				b.WriteByte(' ')
			}
		}
		out[i] = b.String()
	}
	return out, nil
}

// bpeDec is the BPEDecoder: the end-of-word suffix becomes a space (none
// after the last token).
type bpeDec struct{ suffix string }

func (d bpeDec) decodeChain(toks []string) ([]string, error) {
	out := make([]string, len(toks))
	for i, t := range toks {
		rep := " "
		if i == len(toks)-1 {
			rep = ""
		}
		out[i] = strings.ReplaceAll(t, d.suffix, rep)
	}
	return out, nil
}

func parseDecoder(raw json.RawMessage) (decoder, error) {
	typ, err := componentType(raw)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "Sequence":
		q, err := parseSequence(raw, "decoders", parseDecoder)
		if err != nil {
			return nil, err
		}
		return decoderSeq(q), nil
	case "ByteLevel":
		if _, err := parseByteLevel(raw); err != nil {
			return nil, err
		}
		return byteLevelDec{}, nil
	case "Replace":
		p, content, err := parseReplace(raw)
		if err != nil {
			return nil, err
		}
		return replaceDec{p, content}, nil
	case "ByteFallback":
		return byteFallbackDec{}, nil
	case "Fuse":
		return fuseDec{}, nil
	case "Strip":
		var v struct {
			Content *string `json:"content"`
			Start   *int    `json:"start"`
			Stop    *int    `json:"stop"`
		}
		if err := strictFields(raw, &v, "content", "start", "stop"); err != nil {
			return nil, fmt.Errorf("Strip: %w", err)
		}
		r, n := utf8.DecodeRuneInString(*v.Content)
		if n == 0 || n != len(*v.Content) || *v.Start < 0 || *v.Stop < 0 {
			return nil, fmt.Errorf("Strip: content %q, start %d, stop %d: want one character and counts >= 0", *v.Content, *v.Start, *v.Stop)
		}
		return stripDec{r, *v.Start, *v.Stop}, nil
	case "Metaspace":
		m, err := parseMetaspace(raw)
		if err != nil {
			return nil, err
		}
		return metaspaceDec{m}, nil
	case "BPEDecoder":
		var v struct {
			Suffix *string `json:"suffix"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("BPEDecoder: %w", err)
		}
		d := bpeDec{"</w>"}
		if v.Suffix != nil {
			d.suffix = *v.Suffix
		}
		return d, nil
	}
	return nil, fmt.Errorf("%w: decoder %q (supported: Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, BPEDecoder)", ErrUnsupported, typ)
}
