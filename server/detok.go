package server

import (
	"strings"
	"unicode/utf8"

	"benchtop/engine/model"
)

// detok turns output tokens into text as they come, the way vLLM's
// incremental detokenizer does: it decodes a short window of tokens ending
// at the newest and hands out only what the window added, holding back a
// tail that is not yet whole UTF-8 (a character split over tokens). The
// window starts with a few prompt tokens, for tokenizers whose decoding
// depends on what comes before.
type detok struct {
	tok   model.Tokenizer // nil: the model has no tokenizer; no text
	ids   []int32
	start int // the window's first token
	read  int // tokens already turned into text
}

func newDetok(tok model.Tokenizer, prompt []int32) *detok {
	ctx := prompt[max(0, len(prompt)-5):]
	return &detok{tok: tok, ids: append([]int32(nil), ctx...), read: len(ctx)}
}

// add takes new tokens and returns the text they complete ("" when it is
// held back).
func (d *detok) add(toks []int32) string {
	d.ids = append(d.ids, toks...)
	if d.tok == nil {
		return ""
	}
	before := d.tok.Decode(d.ids[d.start:d.read])
	after := d.tok.Decode(d.ids[d.start:])
	if len(after) <= len(before) || !strings.HasPrefix(after, before) || incomplete(after) {
		return ""
	}
	d.start, d.read = d.read, len(d.ids)
	return after[len(before):]
}

// flush returns whatever is held back, whole or not (the request ended).
func (d *detok) flush() string {
	if d.tok == nil || d.read == len(d.ids) {
		return ""
	}
	before := d.tok.Decode(d.ids[d.start:d.read])
	after := d.tok.Decode(d.ids[d.start:])
	d.start, d.read = d.read, len(d.ids)
	if !strings.HasPrefix(after, before) {
		return ""
	}
	return after[len(before):]
}

// incomplete says whether s ends inside a UTF-8 character (or with the
// replacement character a tokenizer puts there).
func incomplete(s string) bool {
	r, size := utf8.DecodeLastRuneInString(s)
	return (r == utf8.RuneError && size <= 1) || strings.HasSuffix(s, "\uFFFD")
}
