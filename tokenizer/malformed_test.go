package tokenizer

import (
	"errors"
	"strings"
	"testing"
)

type malformedCase struct {
	name string
	doc  []byte
	kind error
	want string
}

// malformedCases breaks a valid file one way at a time.
func malformedCases(t testing.TB) []malformedCase {
	good := string(toyJSON(t, []string{"ab"}, []string{"a b"}, nil))
	sub := func(old, new string) []byte {
		if !strings.Contains(good, old) {
			t.Fatalf("toy file lacks %q", old)
		}
		return []byte(strings.Replace(good, old, new, 1))
	}
	part := func(k string, v string) []byte {
		return sub(`"`+k+`":null`, `"`+k+`":`+v)
	}
	return []malformedCase{
		{"not json", []byte("{"), ErrMalformed, "unexpected end"},
		{"empty", []byte(""), ErrMalformed, "unexpected end"},
		{"array", []byte("[]"), ErrMalformed, "cannot unmarshal"},
		{"version", sub(`"version":"1.0"`, `"version":"2.0"`), ErrUnsupported, `version "2.0"`},
		{"no model", sub(`"model":`, `"nomodel":`), ErrMalformed, "no model"},
		{"model type", sub(`"type":"BPE"`, `"type":"Unigram"`), ErrUnsupported, `"Unigram"`},
		{"no merges", sub(`"merges":`, `"nomerges":`), ErrMalformed, "vocab and merges"},
		{"vocab id", sub(`"ab":`, `"ab":-`), ErrMalformed, "vocab"},
		{"vocab huge id", sub(`"ab":`, `"ab":4294967295`+`,"x":`), ErrMalformed, "above"},
		{"merge token", sub(`"a b"`, `"a ~"`), ErrMalformed, `"~" is not in the vocabulary`},
		{"merged token", sub(`"a b"`, `"b a"`), ErrMalformed, `the merged token "ba"`},
		{"merge parts", sub(`"a b"`, `"a b c"`), ErrMalformed, "not two tokens"},
		{"merge pair", sub(`["a b"]`, `[["a","b","c"]]`), ErrMalformed, "3 parts"},
		{"merge mixed", sub(`["a b"]`, `["a b",["a","b"]]`), ErrMalformed, "merges"},
		{"dropout", sub(`"type":"BPE"`, `"type":"BPE","dropout":2`), ErrMalformed, "dropout"},
		{"truncation field", part("truncation", `{"max_length":5}`), ErrMalformed, `truncation: malformed tokenizer: missing field "strategy"`},
		{"truncation strategy", part("truncation", `{"max_length":5,"strategy":"Middle","stride":0}`), ErrMalformed, `"Middle"`},
		{"padding field", part("padding", `{"strategy":"BatchLongest"}`), ErrMalformed, `padding: malformed tokenizer: missing field "direction"`},
		{"padding strategy", part("padding", `{"strategy":{"Fixed":-1},"direction":"Right","pad_id":0}`), ErrMalformed, "strategy"},
		{"normalizer type", part("normalizer", `{"type":"Precompiled"}`), ErrUnsupported, `normalizer "Precompiled"`},
		{"normalizer no type", part("normalizer", `{}`), ErrMalformed, `no "type"`},
		{"prepend field", part("normalizer", `{"type":"Prepend"}`), ErrMalformed, `missing field "prepend"`},
		{"replace pattern", part("normalizer", `{"type":"Replace","pattern":{"Glob":"x"},"content":""}`), ErrMalformed, "pattern"},
		{"bad regex", part("pre_tokenizer", `{"type":"Split","pattern":{"Regex":"(?<"},"behavior":"Isolated","invert":false}`), ErrMalformed, "regex"},
		{"split behavior", part("pre_tokenizer", `{"type":"Split","pattern":{"String":" "},"behavior":"Sideways","invert":false}`), ErrMalformed, `"Sideways"`},
		{"sequence item", part("pre_tokenizer", `{"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":true},{"type":"Bert"}]}`), ErrUnsupported, "pretokenizers[1]"},
		{"bytelevel field", part("pre_tokenizer", `{"type":"ByteLevel","add_prefix_space":true}`), ErrMalformed, `"trim_offsets"`},
		{"metaspace replacement", part("pre_tokenizer", `{"type":"Metaspace","replacement":"ab"}`), ErrMalformed, "one character"},
		{"metaspace scheme", part("pre_tokenizer", `{"type":"Metaspace","replacement":"▁","prepend_scheme":"sometimes"}`), ErrMalformed, `"sometimes"`},
		{"metaspace conflict", part("pre_tokenizer", `{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","add_prefix_space":false}`), ErrMalformed, "add_prefix_space"},
		{"template token", part("post_processor", `{"type":"TemplateProcessing","single":"<s> $A","pair":"$A $B","special_tokens":{}}`), ErrMalformed, `"<s>"`},
		{"template B", part("post_processor", `{"type":"TemplateProcessing","single":"$B","pair":"$A $B","special_tokens":{}}`), ErrMalformed, "sequence B"},
		{"template ids", part("post_processor", `{"type":"TemplateProcessing","single":"<s> $A","pair":"$A","special_tokens":{"<s>":{"id":"<s>","ids":[1,2],"tokens":["<s>"]}}}`), ErrMalformed, "2 ids but 1 tokens"},
		{"roberta", part("post_processor", `{"type":"RobertaProcessing","sep":["</s>"],"cls":["<s>",0]}`), ErrMalformed, "sep"},
		{"processor type", part("post_processor", `{"type":"Whatever"}`), ErrUnsupported, `"Whatever"`},
		{"decoder type", part("decoder", `{"type":"CTC"}`), ErrUnsupported, `decoder "CTC"`},
		{"strip decoder", part("decoder", `{"type":"Strip","content":" ","start":-1,"stop":0}`), ErrMalformed, "start -1"},
		{"added content", sub(`"added_tokens":[]`, `"added_tokens":[{"id":1}]`), ErrMalformed, `added_tokens[0]: malformed tokenizer: missing field "content"`},
		{"added id", sub(`"added_tokens":[]`, `"added_tokens":[{"id":-4,"content":"x"}]`), ErrMalformed, "out of range"},
		{"added type", sub(`"added_tokens":[]`, `"added_tokens":[{"content":3}]`), ErrMalformed, "added_tokens[0]"},
	}
}

func TestMalformedFiles(t *testing.T) {
	if _, err := Parse(toyJSON(t, []string{"ab"}, []string{"a b"}, nil)); err != nil {
		t.Fatalf("the unbroken file: %v", err)
	}
	for _, c := range malformedCases(t) {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.doc)
			if err == nil || !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one wrapping %v and containing %q", err, c.kind, c.want)
			}
		})
	}
	if _, err := LoadFile("testdata/no-such-file.json"); err == nil || !strings.Contains(err.Error(), "no-such-file") {
		t.Fatalf("missing file: %v", err)
	}
}
