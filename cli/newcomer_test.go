package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run --requests N reports N in the workload's description, on screen and
// in the JSON document, for a built-in and for a dataset.
func TestRunDescriptionSaysTheCount(t *testing.T) {
	dir := t.TempDir()
	share := filepath.Join(dir, "share.json")
	os.WriteFile(share, []byte(`[{"id":"x","conversations":[{"from":"human","value":"What is AI?"},{"from":"gpt","value":"A field."}]}]`), 0o644)
	tiny := []string{"--model", "tiny", "--quiet", "--cpu-memory", "0.25", "--output-len", "fixed:2"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--workload", "chat", "--requests", "3", "--prompt-len", "fixed:8"}, "3 chat requests, ShareGPT-like lengths, Poisson 8 req/s; prompts fixed:8; outputs fixed:2"},
		{[]string{"--workload", "throughput", "--requests", "2", "--arrival", "constant:40"}, `the tutorial's throughput test: 2 × "Test prompt", 50 tokens each, constant 40 req/s; outputs fixed:2`},
		{[]string{"--dataset", share, "--requests", "3"}, "3 requests cycling through the 1 in " + share + "; outputs fixed:2"},
	} {
		out := filepath.Join(dir, "run.json")
		args := append(append([]string{"run", "--json", out}, c.args...), tiny...)
		code, stdout, stderr := runCLI(args...)
		if code != 0 {
			t.Fatalf("benchtop %s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		if !strings.Contains(stdout, c.want+"\n") {
			t.Errorf("benchtop %s: output lacks %q:\n%s", strings.Join(args, " "), c.want, stdout)
		}
		var doc struct {
			Description string `json:"description"`
		}
		raw, _ := os.ReadFile(out)
		if err := json.Unmarshal(raw, &doc); err != nil || doc.Description != c.want {
			t.Errorf("benchtop %s: JSON description %q (%v), want %q", strings.Join(args, " "), doc.Description, err, c.want)
		}
	}
}

// A dataset with nothing to run is named as such, before any request runs.
func TestEmptyDatasetSaysSo(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"zero.json": "", "blank.json": " \n\t\n", "none.json": "[]\n", "zero.jsonl": "", "blank.jsonl": "\n\n",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		want := "--dataset: " + p + " is empty"
		if name == "none.json" {
			want = "--dataset: " + p + " holds no conversations (an empty JSON array)"
		}
		for _, args := range [][]string{{"run", "--quiet", "--cpu-memory", "0.25"}, {"tokenize"}} {
			code, stdout, stderr := runCLI(append(args, "--model", "tiny", "--dataset", p)...)
			if code != 1 || stdout != "" || !strings.Contains(stderr, want) || strings.Contains(stderr, "EOF") || strings.Contains(stderr, "skipped") {
				t.Errorf("%s %s: exit %d, stdout %q, stderr %q; want %q", args[0], name, code, stdout, stderr, want)
			}
		}
	}
}
