package tokenizer

import "unicode/utf8"

// GPT-2's reversible map between bytes and printable runes: byte-level BPE
// works on these runes so that every vocabulary entry is printable text.
// The printable Latin-1 bytes map to themselves; the other 68 bytes map, in
// order, to U+0100, U+0101, ...
var (
	byteToRune [256]rune
	// byteToRuneStr holds each byte's rune already encoded as UTF-8.
	byteToRuneStr [256]string
	runeToByte    = map[rune]byte{}
)

func init() {
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = rune(256 + n)
			n++
		}
		byteToRuneStr[b] = string(byteToRune[b])
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// byteLevelEncode maps every byte of s to its printable rune.
func byteLevelEncode(s string) string {
	buf := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		buf = append(buf, byteToRuneStr[s[i]]...)
	}
	return string(buf)
}

// byteLevelDecode appends the bytes a byte-level token stands for. A token
// holding any rune outside the byte map (an added token such as
// "<|im_start|>" written with other runes) is appended as it is.
func byteLevelDecode(dst []byte, tok string) []byte {
	start := len(dst)
	for _, r := range tok {
		b, ok := runeToByte[r]
		if !ok {
			return append(dst[:start], tok...)
		}
		dst = append(dst, b)
	}
	return dst
}

// lossyString converts bytes to a string the way Rust's
// String::from_utf8_lossy does: each maximal ill-formed subsequence (Unicode
// §3.9, "substitution of maximal subparts") becomes one U+FFFD. Go's own
// conversions differ (one U+FFFD per byte, or per run).
func lossyString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			out = append(out, b[i:i+size]...)
			i += size
			continue
		}
		out = append(out, "\uFFFD"...)
		i += maximalSubpart(b[i:])
	}
	return string(out)
}

// maximalSubpart is the length (at least 1) of the longest prefix of b that
// starts a well-formed UTF-8 sequence without completing one.
func maximalSubpart(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(b); k++ {
		x := b[n]
		if k > 0 {
			lo, hi = 0x80, 0xBF
		}
		if x < lo || x > hi {
			break
		}
		n++
	}
	return n
}
