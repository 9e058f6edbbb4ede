package tokenizer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
)

func TestMergesAsStringsOrPairs(t *testing.T) {
	extra := []string{"ab", "abc", "ca"}
	a := toy(t, extra, []string{"a b", "ab c", "c a"}, nil)
	b := toy(t, extra, [][]string{{"a", "b"}, {"ab", "c"}, {"c", "a"}}, nil)
	for _, text := range []string{"abc", "cabc", "abcab", "cab"} {
		x, y := mustEncode(t, a, text, false), mustEncode(t, b, text, false)
		if !slices.Equal(x, y) {
			t.Errorf("%q: strings %v, pairs %v", text, x, y)
		}
	}
	// Lowest rank first: "cab" merges "a b" (rank 0) before "c a" (rank 2).
	if got, want := mustEncode(t, a, "cab", false), ids(t, a, "c", "ab"); !slices.Equal(got, want) {
		t.Errorf("cab: %v, want %v", got, want)
	}
	// Equal ranks merge leftmost first: "aaa" with "a a" gives "aa a".
	c := toy(t, []string{"aa"}, []string{"a a"}, nil)
	if got, want := mustEncode(t, c, "aaa", false), ids(t, c, "aa", "a"); !slices.Equal(got, want) {
		t.Errorf("aaa: %v, want %v", got, want)
	}
}

func TestIgnoreMerges(t *testing.T) {
	extra := []string{"ab", "bc", "abc"}
	merges := []string{"b c", "a b"} // "abc" cannot be reached by merging
	plain := toy(t, extra, merges, nil)
	if got, want := mustEncode(t, plain, "abc", false), ids(t, plain, "a", "bc"); !slices.Equal(got, want) {
		t.Errorf("merges: %v, want %v", got, want)
	}
	ign := toy(t, extra, merges, map[string]any{"model": map[string]any{"ignore_merges": true}})
	if got, want := mustEncode(t, ign, "abc", false), ids(t, ign, "abc"); !slices.Equal(got, want) {
		t.Errorf("ignore_merges: %v, want %v", got, want)
	}
}

func TestUnknownAndByteFallback(t *testing.T) {
	extra := []string{"<unk>", "<0xC3>", "<0xA9>"}
	fused := toy(t, extra, nil, map[string]any{"model": map[string]any{"unk_token": "<unk>", "fuse_unk": true}})
	if got, want := mustEncode(t, fused, "a~%^b", false), ids(t, fused, "a", "<unk>", "b"); !slices.Equal(got, want) {
		t.Errorf("fused: %v, want %v", got, want)
	}
	apart := toy(t, extra, nil, map[string]any{"model": map[string]any{"unk_token": "<unk>"}})
	if got, want := mustEncode(t, apart, "a~%b", false), ids(t, apart, "a", "<unk>", "<unk>", "b"); !slices.Equal(got, want) {
		t.Errorf("not fused: %v, want %v", got, want)
	}
	fb := toy(t, extra, nil, map[string]any{"model": map[string]any{"unk_token": "<unk>", "byte_fallback": true}})
	if got, want := mustEncode(t, fb, "aé€", false), ids(t, fb, "a", "<0xC3>", "<0xA9>", "<unk>"); !slices.Equal(got, want) {
		t.Errorf("byte fallback: %v, want %v", got, want)
	}
	none := toy(t, nil, nil, nil)
	if _, err := none.Encode("a~", false); !errors.Is(err, ErrInvalidText) || !strings.Contains(err.Error(), `"~"`) {
		t.Errorf("no unk: %v", err)
	}
	badUnk := toy(t, nil, nil, map[string]any{"model": map[string]any{"unk_token": "<nope>"}})
	if _, err := badUnk.Encode("~", false); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "<nope>") {
		t.Errorf("unk not in vocab: %v", err)
	}
	if _, err := none.Encode("a\xff", false); !errors.Is(err, ErrInvalidText) {
		t.Errorf("invalid UTF-8: %v", err)
	}
}

func TestSubwordPrefixAndSuffix(t *testing.T) {
	pre := toy(t, []string{"##b", "##c", "ab", "abc"}, []string{"a ##b", "ab ##c"},
		map[string]any{"model": map[string]any{"continuing_subword_prefix": "##"}})
	if got, want := mustEncode(t, pre, "abc", false), ids(t, pre, "abc"); !slices.Equal(got, want) {
		t.Errorf("prefix: %v, want %v", got, want)
	}
	suf := toy(t, []string{"b</w>", "ab</w>"}, []string{"a b</w>"},
		map[string]any{"model": map[string]any{"end_of_word_suffix": "</w>"}, "decoder": map[string]any{"type": "BPEDecoder", "suffix": "</w>"}})
	got := mustEncode(t, suf, "ab", false)
	if want := ids(t, suf, "ab</w>"); !slices.Equal(got, want) {
		t.Errorf("suffix: %v, want %v", got, want)
	}
	if s, err := suf.Decode(append(got, got...)); err != nil || s != "ab ab" {
		t.Errorf("BPEDecoder: %q %v", s, err)
	}
}

func TestAddedTokens(t *testing.T) {
	tok := toy(t, nil, nil, map[string]any{
		"normalizer": map[string]any{"type": "Lowercase"},
		"added_tokens": []any{
			added("[MASK]", "lstrip", "rstrip", "special"),
			added("cat", "single_word"),
			added("DOG", "normalized"),
			added("ab"), added("abc"),
			added("<s>", "special"),
		},
	})
	cases := []struct {
		text string
		want []string
	}{
		{"a [MASK] b", []string{"a", "[MASK]", "b"}},
		{"a  [MASK]", []string{"a", "[MASK]"}},
		{"cat concat cats cat.", []string{"cat", " ", "c", "o", "n", "c", "a", "t", " ", "c", "a", "t", "s", " ", "cat", "."}},
		{"my DOG dog", []string{"m", "y", " ", "DOG", " ", "DOG"}},
		{"xabcd abab", []string{"x", "abc", "d", " ", "ab", "ab"}},
		{"<S><s>", []string{"<", "s", ">", "<s>"}},
	}
	for _, c := range cases {
		var want []int32
		for _, s := range c.want {
			want = append(want, id(t, tok, s))
		}
		if got := mustEncode(t, tok, c.text, false); !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v (%q)", c.text, got, want, c.want)
		}
	}
	// New added tokens take ids after the model's vocabulary, in order.
	if got := id(t, tok, "[MASK]"); got != int32(len([]rune(toyChars))) {
		t.Errorf("[MASK] has id %d", got)
	}
	if !tok.IsSpecial(id(t, tok, "<s>")) || tok.IsSpecial(id(t, tok, "cat")) {
		t.Error("special flags")
	}
	if got, _ := tok.DecodeSkipSpecial(mustEncode(t, tok, "<s>cat", false)); got != "cat" {
		t.Errorf("skip special: %q", got)
	}
	if got, _ := tok.Decode(mustEncode(t, tok, "<s>cat", false)); got != "<s> cat" {
		t.Errorf("no decoder joins with spaces: %q", got)
	}
}

func TestSplitBehaviors(t *testing.T) {
	cases := map[string][]string{
		"Removed":            {"the", "final", "countdown"},
		"Isolated":           {"the", "-", "final", "-", "-", "countdown"},
		"MergedWithPrevious": {"the-", "final-", "-", "countdown"},
		"MergedWithNext":     {"the", "-final", "-", "-countdown"},
		"Contiguous":         {"the", "-", "final", "--", "countdown"},
	}
	for name, want := range cases {
		sp := splitPre{pattern{literal: "-"}, splitBehaviors[name], false}
		got, err := sp.preTokenize(piece{text: "the-final--countdown", id: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, p := range got {
			texts = append(texts, p.text)
		}
		if !slices.Equal(texts, want) {
			t.Errorf("%s: %q, want %q", name, texts, want)
		}
	}
	re, _ := compileRegex(`\w+`)
	inv := splitPre{pattern{re: re}, splitRemoved, true}
	got, _ := inv.preTokenize(piece{text: "ab, cd!", id: -1}, nil)
	if len(got) != 2 || got[0].text != "ab" || got[1].text != "cd" {
		t.Errorf("inverted regex split: %+v", got)
	}
}

func TestDigitsAndWhitespaceSplit(t *testing.T) {
	pre := func(p preTokenizer, text string) []string {
		got, _ := p.preTokenize(piece{text: text, id: -1}, nil)
		var out []string
		for _, x := range got {
			out = append(out, x.text)
		}
		return out
	}
	if got := pre(digitsPre{true}, "ab123c4"); !slices.Equal(got, []string{"ab", "1", "2", "3", "c", "4"}) {
		t.Errorf("individual digits: %q", got)
	}
	if got := pre(digitsPre{false}, "ab123c4"); !slices.Equal(got, []string{"ab", "123", "c", "4"}) {
		t.Errorf("contiguous digits: %q", got)
	}
	if got := pre(whitespaceSplitPre{}, " a  b\tc\n"); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("whitespace split: %q", got)
	}
}

func TestMetaspace(t *testing.T) {
	extra := []string{"▁h", "▁hi", "▁y", "▁yo", "▁you"}
	merges := []string{"▁ h", "▁h i", "▁ y", "▁y o", "▁yo u"}
	for _, c := range []struct {
		scheme string
		split  bool
		text   string
		want   []string
		decode string
	}{
		{"always", true, "hi you", []string{"▁hi", "▁you"}, "hi you"},
		{"always", true, "<s>hi", []string{"<s>", "▁hi"}, "<s> hi"},
		{"first", true, "<s>hi", []string{"<s>", "h", "i"}, "<s>hi"},
		{"first", true, "hi<s>hi", []string{"▁hi", "<s>", "h", "i"}, "hi<s>hi"},
		{"never", true, "hi you", []string{"h", "i", "▁you"}, "hi you"},
		{"always", false, "hi you", []string{"▁hi", "▁you"}, "hi you"},
	} {
		ms := map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": c.scheme, "split": c.split}
		tok := toy(t, extra, merges, map[string]any{
			"pre_tokenizer": ms, "decoder": ms,
			"added_tokens": []any{added("<s>", "special")},
		})
		got := mustEncode(t, tok, c.text, false)
		if want := ids(t, tok, c.want...); !slices.Equal(got, want) {
			t.Errorf("%s split=%v %q: %v, want %v %q", c.scheme, c.split, c.text, got, want, c.want)
		}
		if s, err := tok.Decode(got); err != nil || s != c.decode {
			t.Errorf("%s split=%v decode %q: %q %v", c.scheme, c.split, c.text, s, err)
		}
	}
	legacy := map[string]any{"type": "Metaspace", "replacement": "▁", "add_prefix_space": false}
	tok := toy(t, extra, merges, map[string]any{"pre_tokenizer": legacy})
	if got, want := mustEncode(t, tok, "hi", false), ids(t, tok, "h", "i"); !slices.Equal(got, want) {
		t.Errorf("add_prefix_space false: %v, want %v", got, want)
	}
}

func TestNormalizers(t *testing.T) {
	for _, c := range []struct {
		norm any
		in   string
		want string
	}{
		{map[string]any{"type": "NFC"}, "e\u0301", "é"},
		{map[string]any{"type": "NFD"}, "é", "e\u0301"},
		{map[string]any{"type": "NFKC"}, "ﬁ①", "fi1"},
		{map[string]any{"type": "NFKD"}, "ﬁ", "fi"},
		{map[string]any{"type": "Lowercase"}, "AbİΣ", "abi\u0307σ"},
		{map[string]any{"type": "Strip", "strip_left": true, "strip_right": false}, "  a  ", "a  "},
		{map[string]any{"type": "StripAccents"}, "e\u0301a\u0308", "ea"},
		{map[string]any{"type": "Prepend", "prepend": "▁"}, "a", "▁a"},
		{map[string]any{"type": "Prepend", "prepend": "▁"}, "", ""},
		{map[string]any{"type": "Replace", "pattern": map[string]any{"Regex": `\s+`}, "content": " "}, "a \t\n b", "a b"},
		{map[string]any{"type": "Sequence", "normalizers": []any{
			map[string]any{"type": "Prepend", "prepend": "▁"},
			map[string]any{"type": "Replace", "pattern": map[string]any{"String": " "}, "content": "▁"}}}, "a b", "▁a▁b"},
	} {
		raw := toyJSON(t, nil, nil, map[string]any{"normalizer": c.norm})
		tok, err := Parse(raw)
		if err != nil {
			t.Fatalf("%v: %v", c.norm, err)
		}
		got, err := tok.normalizer.normalize(c.in)
		if err != nil || got != c.want {
			t.Errorf("%v on %q: %q %v, want %q", c.norm, c.in, got, err, c.want)
		}
	}
}

func TestPostProcessors(t *testing.T) {
	specials := []string{"<s>", "</s>", "[CLS]", "[SEP]"}
	base := len([]rune(toyChars)) // the specials' ids follow the characters'
	s, e, cls, sep := base, base+1, base+2, base+3
	for _, c := range []struct {
		post any
		want []string
	}{
		{map[string]any{"type": "TemplateProcessing", "single": "[CLS] $A [SEP]", "pair": "[CLS] $A [SEP] $B:1 [SEP]:1",
			"special_tokens": map[string]any{"[CLS]": map[string]any{"id": "[CLS]", "ids": []int{cls}, "tokens": []string{"[CLS]"}},
				"[SEP]": map[string]any{"id": "[SEP]", "ids": []int{sep}, "tokens": []string{"[SEP]"}}}}, []string{"[CLS]", "a", "[SEP]"}},
		{map[string]any{"type": "RobertaProcessing", "sep": []any{"</s>", e}, "cls": []any{"<s>", s}, "trim_offsets": true, "add_prefix_space": true}, []string{"<s>", "a", "</s>"}},
		{map[string]any{"type": "BertProcessing", "sep": []any{"[SEP]", sep}, "cls": []any{"[CLS]", cls}}, []string{"[CLS]", "a", "[SEP]"}},
		{map[string]any{"type": "Sequence", "processors": []any{
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
			map[string]any{"type": "BertProcessing", "sep": []any{"[SEP]", sep}, "cls": []any{"[CLS]", cls}}}}, []string{"[CLS]", "a", "[SEP]"}},
	} {
		tok := toy(t, specials, nil, map[string]any{"post_processor": c.post})
		if got, want := mustEncode(t, tok, "a", true), ids(t, tok, c.want...); !slices.Equal(got, want) {
			t.Errorf("%v: %v, want %v", c.post, got, want)
		}
		if got, want := mustEncode(t, tok, "a", false), ids(t, tok, "a"); !slices.Equal(got, want) {
			t.Errorf("%v without specials: %v, want %v", c.post, got, want)
		}
	}
}

func TestDecoders(t *testing.T) {
	bf := byteFallbackDec{}
	got, _ := bf.decodeChain([]string{"a", "<0xE2>", "<0x82>", "<0xAC>", "b", "<0xE2>", "<0x82>", "c", "<0x+A>"})
	if want := []string{"a", "€", "b", "\uFFFD", "\uFFFD", "c", "\n"}; !slices.Equal(got, want) {
		t.Errorf("byte fallback: %q, want %q", got, want)
	}
	// Rust's from_utf8_lossy: one U+FFFD per maximal ill-formed subpart.
	for in, want := range map[string]string{
		"a\xe2\x82b":         "a\uFFFDb",
		"\xf0\x9f\x8d":       "\uFFFD",
		"\xc0\xaf":           "\uFFFD\uFFFD",
		"\xed\xa0\x80":       "\uFFFD\uFFFD\uFFFD",
		"\xff€":              "\uFFFD€",
		"\xf4\x90\x80\x80z":  "\uFFFD\uFFFD\uFFFD\uFFFDz",
		"ok\xe2\x82\xac\xe2": "ok€\uFFFD",
	} {
		if got := lossyString([]byte(in)); got != want {
			t.Errorf("lossy %q: %q, want %q", in, got, want)
		}
	}
	st := stripDec{' ', 2, 1}
	if got, _ := st.decodeChain([]string{"   a  ", " ", ""}); !slices.Equal(got, []string{" a ", "", ""}) {
		t.Errorf("strip: %q", got)
	}
	if got, _ := (byteLevelDec{}).decodeChain([]string{"Hello", "Ġworld", "<|x|>", "Ċ"}); got[0] != "Hello world<|x|>\n" {
		t.Errorf("byte level: %q", got)
	}
}

func TestUnknownIDs(t *testing.T) {
	tok := toy(t, nil, nil, nil)
	if _, err := tok.Decode([]int32{0, 999}); !errors.Is(err, ErrUnknownID) || !strings.Contains(err.Error(), "999") {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := tok.Decode([]int32{-1}); !errors.Is(err, ErrUnknownID) {
		t.Errorf("negative id: %v", err)
	}
	if n := tok.VocabSize(); n != len([]rune(toyChars)) {
		t.Errorf("vocab size %d", n)
	}
}

// TestRealRoundTrip: byte-level files give back their (normalized) input.
func TestRealRoundTrip(t *testing.T) {
	corpus := loadCorpus(t)
	for _, name := range []string{"qwen3", "llama3"} {
		t.Run(name, func(t *testing.T) {
			tok := realTokenizer(t, name)
			for _, text := range corpus {
				want := text
				if tok.normalizer != nil {
					want, _ = tok.normalizer.normalize(text)
				}
				ids := mustEncode(t, tok, text, true)
				if got, err := tok.Decode(ids); err != nil || got != want {
					t.Errorf("%s: decode(encode) = %q %v", short(text), got, err)
				}
			}
		})
	}
}

func TestRealFacts(t *testing.T) {
	for _, c := range []struct {
		name      string
		vocab     int
		text      string
		plain     string
		withBOS   string
		specialID int32
	}{
		{"qwen3", 151669, "Hello world<|im_end|>", "[9707 1879 151645]", "[9707 1879 151645]", 151645},
		{"llama3", 128256, "Hello world", "[9906 1917]", "[9906 1917]", 128000},
		{"llama2", 32000, "Hello world</s>", "[22557 1526 2]", "[1 22557 1526 2]", 2},
		{"gemma3", 262145, "Hello world", "[9259 1902]", "[2 9259 1902]", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok := realTokenizer(t, c.name)
			if n := tok.VocabSize(); n != c.vocab {
				t.Errorf("vocab size %d, want %d", n, c.vocab)
			}
			if got := fmt.Sprint(mustEncode(t, tok, c.text, false)); got != c.plain {
				t.Errorf("plain %s, want %s", got, c.plain)
			}
			if got := fmt.Sprint(mustEncode(t, tok, c.text, true)); got != c.withBOS {
				t.Errorf("with specials %s, want %s", got, c.withBOS)
			}
			if !tok.IsSpecial(c.specialID) {
				t.Errorf("%d is not special", c.specialID)
			}
		})
	}
}

func TestHostileRegexFails(t *testing.T) {
	tok := toy(t, nil, nil, map[string]any{"pre_tokenizer": map[string]any{
		"type": "Split", "pattern": map[string]any{"Regex": "(a|aa)*b"}, "behavior": "Isolated", "invert": false}})
	for _, p := range tok.pre {
		p.(splitPre).pat.re.MatchTimeout = 50 * time.Millisecond
	}
	_, err := tok.Encode(strings.Repeat("a", 60)+"c", false)
	if err == nil || !strings.Contains(err.Error(), "pre-tokenize") {
		t.Fatalf("catastrophic backtracking: %v", err)
	}
}

func TestTruncationAndPadding(t *testing.T) {
	bos := map[string]any{"type": "TemplateProcessing", "single": "<s> $A", "pair": "<s> $A $B",
		"special_tokens": map[string]any{"<s>": map[string]any{"id": "<s>", "ids": []int{len([]rune(toyChars))}, "tokens": []string{"<s>"}}}}
	for _, c := range []struct {
		trunc, pad any
		addSpecial bool
		want       string
	}{
		{map[string]any{"max_length": 3, "strategy": "LongestFirst", "stride": 0}, nil, false, "abc"},
		{map[string]any{"max_length": 3, "strategy": "OnlyFirst", "stride": 0, "direction": "Left"}, nil, false, "def"},
		{map[string]any{"max_length": 3, "strategy": "LongestFirst", "stride": 0}, nil, true, "<s>ab"},
		{map[string]any{"max_length": 1, "strategy": "LongestFirst", "stride": 0}, nil, true, "<s>"},
		{map[string]any{"max_length": 0, "strategy": "LongestFirst", "stride": 0}, nil, false, ""},
		{nil, map[string]any{"strategy": map[string]any{"Fixed": 8}, "direction": "Left", "pad_id": 0, "pad_type_id": 0, "pad_token": " "}, false, "  abcdef"},
		{nil, map[string]any{"strategy": "BatchLongest", "direction": "Right", "pad_to_multiple_of": 4, "pad_id": 0, "pad_type_id": 0, "pad_token": " "}, true, "<s>abcdef "},
		{map[string]any{"max_length": 4, "strategy": "LongestFirst", "stride": 0}, map[string]any{"strategy": map[string]any{"Fixed": 6}, "direction": "Right", "pad_id": 0, "pad_type_id": 0, "pad_token": " "}, false, "abcd  "},
	} {
		tok := toy(t, []string{"<s>"}, nil, map[string]any{"truncation": c.trunc, "padding": c.pad, "post_processor": bos,
			"added_tokens": []any{added("<s>", "special")}})
		got := mustEncode(t, tok, "abcdef", c.addSpecial)
		var want []int32
		for _, s := range splitToy(c.want) {
			want = append(want, id(t, tok, s))
		}
		if !slices.Equal(got, want) {
			t.Errorf("truncation %v padding %v special %v: %v, want %v (%q)", c.trunc, c.pad, c.addSpecial, got, want, c.want)
		}
	}
	tok := toy(t, nil, nil, map[string]any{"truncation": map[string]any{"max_length": 2, "strategy": "OnlySecond", "stride": 0}})
	if _, err := tok.Encode("abc", false); !errors.Is(err, ErrUnsupported) {
		t.Errorf("OnlySecond: %v", err)
	}
	tok = toy(t, nil, nil, map[string]any{"truncation": map[string]any{"max_length": 2, "strategy": "LongestFirst", "stride": 2}})
	if _, err := tok.Encode("abc", false); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "stride") {
		t.Errorf("stride: %v", err)
	}
}

// splitToy cuts s into "<s>" and single characters.
func splitToy(s string) []string {
	var out []string
	for s != "" {
		if strings.HasPrefix(s, "<s>") {
			out, s = append(out, "<s>"), s[3:]
			continue
		}
		out, s = append(out, s[:1]), s[1:]
	}
	return out
}

// TestUnicode16: characters Unicode 15.1 and 16.0 added (Garay letters,
// CJK extension I, Kirat Rai digits) are letters and digits to the split
// regex, as in the Oniguruma HF bundles; older ones are unchanged.
func TestUnicode16(t *testing.T) {
	p := pattern{re: gpt2Pattern().re}
	for _, c := range []struct {
		text string
		want []string
	}{
		{"a\U00010D50\U00010D51b", []string{"a\U00010D50\U00010D51b"}},
		{"x \U0002EBF0\U0002EBF1!", []string{"x", " \U0002EBF0\U0002EBF1", "!"}},
		{"n \U00016D70\U00016D71.", []string{"n", " \U00016D70\U00016D71", "."}},
		{"a\U00031350b \U0001D2C0", []string{"a\U00031350b", " \U0001D2C0"}},
	} {
		spans, err := p.find(c.text)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range spans {
			got = append(got, c.text[s.start:s.end])
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%q: %q, want %q", c.text, got, c.want)
		}
	}
	// Each representative is a non-ASCII rune Go's tables assign.
	for _, r := range unicode16 {
		if r.lo > r.hi || r.as < 0x80 || !unicode.In(r.as, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S) {
			t.Errorf("row %U-%U: representative %U", r.lo, r.hi, r.as)
		}
	}
}
