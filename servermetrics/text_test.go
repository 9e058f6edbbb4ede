package servermetrics

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestWriteText")

// WriteText's tables: every server's testdata, and vLLM scraped twice (so
// counters have rates, one of them fractional). Golden files in
// testdata/TestWriteText (regenerate with -update), and the rule they
// must keep: each column of numbers (the three quantiles together) is all
// whole or all with two decimals, right-aligned.
func TestWriteText(t *testing.T) {
	at := time.Unix(1_700_000_000, 0)
	vllm, err := os.ReadFile("testdata/vllm.txt")
	if err != nil {
		t.Fatal(err)
	}
	first := mapText(t, Unknown, string(vllm), at)
	later := strings.Replace(string(vllm), `vllm:generation_tokens_total{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 5000.0`,
		`vllm:generation_tokens_total{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 5005.0`, 1)
	later = strings.Replace(later, `vllm:prompt_tokens_total{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 1200.0`,
		`vllm:prompt_tokens_total{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 1206.0`, 1)
	second := mapText(t, Unknown, later, at.Add(2*time.Second))
	second.Since(first)
	if !second.Get(GenerationTokens).HasRate || second.Get(GenerationTokens).Rate != 2.5 {
		t.Fatalf("the fixture has no fractional rate: %+v", second.Get(GenerationTokens))
	}
	cases := map[string]*Sample{"vllm-rates": second}
	for _, f := range []string{"vllm.txt", "sglang.txt", "tgi.txt", "llamacpp.txt"} {
		cases[strings.TrimSuffix(f, ".txt")] = Map(Unknown, load(t, f), at)
	}
	for name, s := range cases {
		var out bytes.Buffer
		if err := s.WriteText(&out); err != nil {
			t.Fatal(err)
		}
		checkColumns(t, name, out.String())
		golden := filepath.Join("testdata", "TestWriteText", name+".golden")
		if *update {
			os.MkdirAll(filepath.Dir(golden), 0o755)
			if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update to write it)", err)
		}
		if out.String() != string(want) {
			t.Errorf("%s: got\n%s\nwant\n%s", name, out.String(), want)
		}
	}
}

var (
	cellSep = regexp.MustCompile(`\s{2,}`)
	numCell = regexp.MustCompile(`^-?[0-9]+(\.([0-9]+))?$`)
)

// checkColumns checks each table of text (blocks between blank lines):
// in a column, every number has the same count of decimals (p50, p90 and
// p99 all alike) and ends where the header does.
func checkColumns(t *testing.T, name, text string) {
	t.Helper()
	for _, block := range strings.Split(strings.TrimSpace(text), "\n\n") {
		lines := strings.Split(block, "\n")
		header := lines[0]
		decimals := map[string]int{} // column header → decimals of its numbers
		for _, line := range lines[1:] {
			cells := cellSep.Split(line, -1)
			heads := cellSep.Split(header, -1)
			if len(cells) > len(heads) {
				t.Errorf("%s: %q has more cells than %q", name, line, header)
				continue
			}
			for j, c := range cells {
				m := numCell.FindStringSubmatch(c)
				if m == nil || j == 0 {
					continue
				}
				group := heads[j]
				if group == "p90" || group == "p99" {
					group = "p50"
				}
				if d, seen := decimals[group]; seen && d != len(m[2]) {
					t.Errorf("%s: column %s mixes %d and %d decimals:\n%s", name, heads[j], d, len(m[2]), block)
				}
				decimals[group] = len(m[2])
				if end := strings.Index(header, heads[j]) + len(heads[j]); strings.Index(line, c) > end || !strings.HasPrefix(line[end-len(c):], c) {
					t.Errorf("%s: %q is not right-aligned under %q:\n%s", name, c, heads[j], block)
				}
			}
		}
	}
}
