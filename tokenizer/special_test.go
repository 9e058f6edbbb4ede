package tokenizer

import (
	"fmt"
	"slices"
	"testing"
)

// SpecialAround says what Encode's addSpecial adds, and MaxID is at least
// every id Encode returns.
func TestSpecialAroundAndMaxID(t *testing.T) {
	rob := seedTokenizer(t, "roberta.json")
	before, after, ok := rob.SpecialAround()
	if !ok || fmt.Sprint(before, after) != "[268] [269]" {
		t.Fatalf("roberta: %v %v %v", before, after, ok)
	}
	if m := rob.MaxID(); m != 270 {
		t.Fatalf("roberta MaxID %d", m)
	}
	for name := range seedFiles(t) {
		tok := seedTokenizer(t, name)
		before, after, ok := tok.SpecialAround()
		for _, text := range fuzzTexts {
			plain := mustEncode(t, tok, text, false)
			special := mustEncode(t, tok, text, true)
			if ok && tok.trunc == nil && tok.pad == nil && !slices.Equal(special, slices.Concat(before, plain, after)) {
				t.Errorf("%s %q: %v is not %v + %v + %v", name, text, special, before, plain, after)
			}
			for _, id := range special {
				if id > tok.MaxID() {
					t.Errorf("%s %q: id %d above MaxID %d", name, text, id, tok.MaxID())
				}
			}
		}
	}
	vm, err := FromVocabMerges([]byte(`{"a": 0, "b": 1, "ab": 7}`), []byte("a b\n"), "</s>")
	if err != nil {
		t.Fatal(err)
	}
	if before, after, ok := vm.SpecialAround(); !ok || len(before)+len(after) != 0 || vm.MaxID() != 7 {
		t.Fatalf("vocab+merges: %v %v %v, MaxID %d", before, after, ok, vm.MaxID())
	}
}
