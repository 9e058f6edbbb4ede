package tokenizer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// hfRecord is what scripts/hf_tokenize.py records for one tokenizer.
type hfRecord struct {
	SHA256            string    `json:"sha256"`
	Encode            [][]int32 `json:"encode"`
	EncodeSpecial     [][]int32 `json:"encode_special"`
	Decode            []string  `json:"decode"`
	DecodeSkipSpecial []string  `json:"decode_skip_special"`
}

type hfFile struct {
	Tool         string              `json:"tool"`
	CorpusSHA256 string              `json:"corpus_sha256"`
	Tokenizers   map[string]hfRecord `json:"tokenizers"`
}

func fileSHA256(t testing.TB, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

func loadCorpus(t testing.TB) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "corpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var corpus []string
	if err := json.Unmarshal(raw, &corpus); err != nil {
		t.Fatalf("testdata/corpus.json: %v", err)
	}
	return corpus
}

func short(s string) string {
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// firstDiff describes where two id lists part.
func firstDiff(want, got []int32) string {
	for i := 0; i < len(want) && i < len(got); i++ {
		if want[i] != got[i] {
			return fmt.Sprintf("first difference at id %d: HF %d, ours %d", i, want[i], got[i])
		}
	}
	if len(want) != len(got) {
		return fmt.Sprintf("HF has %d ids, ours %d (equal up to there)", len(want), len(got))
	}
	return ""
}

// TestReference compares our ids and decodes with those Hugging Face
// tokenizers recorded (testdata/hf_ids.json, made by
// scripts/hf_tokenize.py) on every corpus string, for each real file.
// BENCHTOP_HF_IDS points it at another recording (e.g. transformers.js').
func TestReference(t *testing.T) {
	path := os.Getenv("BENCHTOP_HF_IDS")
	if path == "" {
		path = filepath.Join("testdata", "hf_ids.json")
	}
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("%s is not recorded yet: run scripts/hf_tokenize.py where Python tokenizers is installed", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	var ref hfFile
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	corpus := loadCorpus(t)
	if got := fileSHA256(t, filepath.Join("testdata", "corpus.json")); got != ref.CorpusSHA256 {
		t.Fatalf("testdata/corpus.json changed since %s was recorded: record it again with scripts/hf_tokenize.py", path)
	}
	for _, name := range realNames {
		t.Run(name, func(t *testing.T) {
			rec, ok := ref.Tokenizers[name]
			if !ok {
				t.Fatalf("%s has no ids for %s", path, name)
			}
			if got := fileSHA256(t, realPath(t, name)); got != rec.SHA256 {
				t.Fatalf("the cached %s tokenizer.json is not the file %s was recorded on (sha256 %s, recorded %s)", name, path, got, rec.SHA256)
			}
			tok := realTokenizer(t, name)
			if len(rec.Encode) != len(corpus) || len(rec.EncodeSpecial) != len(corpus) || len(rec.Decode) != len(corpus) || len(rec.DecodeSkipSpecial) != len(corpus) {
				t.Fatalf("%s has ids for another corpus than testdata/corpus.json's %d strings", path, len(corpus))
			}
			for i, text := range corpus {
				if t.Failed() && countFailures(t) {
					return
				}
				for _, c := range []struct {
					addSpecial bool
					want       []int32
				}{{false, rec.Encode[i]}, {true, rec.EncodeSpecial[i]}} {
					got, err := tok.Encode(text, c.addSpecial)
					if err != nil {
						t.Errorf("string %d %s (addSpecial %v): %v", i, short(text), c.addSpecial, err)
						continue
					}
					if d := firstDiff(c.want, got); d != "" {
						t.Errorf("string %d %s (addSpecial %v): %s\n  HF:   %v\n  ours: %v", i, short(text), c.addSpecial, d, c.want, got)
					}
				}
				for _, c := range []struct {
					skip bool
					want string
				}{{false, rec.Decode[i]}, {true, rec.DecodeSkipSpecial[i]}} {
					got, err := tok.decode(rec.EncodeSpecial[i], c.skip)
					if err != nil {
						t.Errorf("decode string %d %s (skip special %v): %v", i, short(text), c.skip, err)
					} else if got != c.want {
						t.Errorf("decode string %d %s (skip special %v):\n  HF:   %q\n  ours: %q", i, short(text), c.skip, c.want, got)
					}
				}
			}
		})
	}
}

// countFailures stops a subtest after many mismatches: the first ones say
// what is wrong, hundreds more only bury them.
func countFailures(t *testing.T) bool {
	failures[t.Name()]++
	if failures[t.Name()] > 20 {
		t.Errorf("stopping after 20 strings with mismatches")
		return true
	}
	return false
}

var failures = map[string]int{}
