package tokenizer

import (
	"fmt"
	"testing"
)

// BenchmarkEncode encodes the corpus with each real tokenizer: "cold"
// builds a fresh pre-token cache each round (first sight of a workload),
// "warm" reuses it (the thousands of prompts of a run). Bytes/s is over
// the corpus text.
func BenchmarkEncode(b *testing.B) {
	corpus := loadCorpus(b)
	n := 0
	for _, s := range corpus {
		n += len(s)
	}
	for _, name := range realNames {
		for _, mode := range []string{"cold", "warm"} {
			b.Run(fmt.Sprintf("%s/%s", name, mode), func(b *testing.B) {
				tok := realTokenizer(b, name)
				b.SetBytes(int64(n))
				for b.Loop() {
					if mode == "cold" {
						tok.model.cache = newIDCache()
					}
					for _, s := range corpus {
						if _, err := tok.Encode(s, true); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}

// BenchmarkLoad reads each real tokenizer.json.
func BenchmarkLoad(b *testing.B) {
	for _, name := range realNames {
		path := realPath(b, name)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := LoadFile(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
