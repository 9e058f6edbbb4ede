package server

import (
	"strings"
	"testing"
	"unicode/utf8"

	"benchtop/engine/model"
)

// Token by token, the deltas are whole UTF-8 and add up to the decoding of
// the whole output, including characters split over several tokens.
func TestDetokIncremental(t *testing.T) {
	tok, err := model.NewGPT2Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"héllo wörld", " 世界 🎉🎉 done", "plain ascii text, nothing odd", "ß∂ƒ©˙∆˚¬…æ"} {
		ids, err := tok.Encode(text)
		if err != nil {
			t.Fatal(err)
		}
		prompt := []int32{464, 2068}
		d := newDetok(tok, prompt)
		var got strings.Builder
		for _, id := range ids {
			delta := d.add([]int32{id})
			if !utf8.ValidString(delta) {
				t.Fatalf("%q: delta %q is not whole UTF-8", text, delta)
			}
			got.WriteString(delta)
		}
		got.WriteString(d.flush())
		if got.String() != text {
			t.Fatalf("got %q, want %q", got.String(), text)
		}
		// In one go, the same.
		d2 := newDetok(tok, prompt)
		if s := d2.add(ids) + d2.flush(); s != text {
			t.Fatalf("at once %q", s)
		}
	}
	if s := newDetok(nil, nil).add([]int32{1, 2}); s != "" {
		t.Fatalf("no tokenizer: %q", s)
	}
}
