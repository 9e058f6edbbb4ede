package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Requests that do not fit max_model_len are rejected and those whose
// output reaches it are cut short; the run goes on and reports both by
// reason beside the rest, in the table and in the JSON.
func TestRunReportsFailuresBesideSuccesses(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run.json")
	code, stdout, stderr := runCLI("run", "--model", "tiny", "--cpu-memory", "0.25", "--max-num-batched-tokens", "512", "--workload", "bench",
		"--requests", "12", "--prompt-len", "uniform:4:60", "--output-len", "fixed:20", "--max-model-len", "48", "--quiet", "--json", out)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	for _, want := range []string{"Failed (rejected)", "Truncated (output cut at max_model_len)", "does not fit max_model_len 48", "output cut at max_model_len 48"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the table lacks %q:\n%s", want, stdout)
		}
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		NumRequests int            `json:"num_requests"`
		Failed      int            `json:"failed_requests"`
		Truncated   int            `json:"truncated_requests"`
		Finishes    map[string]int `json:"finishes"`
		Failures    []struct {
			Finish  string `json:"finish"`
			Count   int    `json:"count"`
			Example string `json:"example"`
		} `json:"failures"`
		Partial bool `json:"partial"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Failed == 0 || doc.Truncated == 0 || doc.NumRequests+doc.Failed != 12 || doc.Finishes["rejected"] != doc.Failed ||
		doc.Finishes["max_model_len"] != doc.Truncated || len(doc.Failures) != 2 || doc.Failures[0].Finish != "rejected" ||
		doc.Failures[0].Example == "" || doc.Partial {
		t.Fatalf("JSON %+v", doc)
	}
}

// A dataset line too long for the model is named before anything runs.
func TestDatasetCheckedAgainstTheModelLength(t *testing.T) {
	p := filepath.Join(t.TempDir(), "d.jsonl")
	long := strings.Repeat("tell me more about the weather ", 20)
	os.WriteFile(p, []byte(`{"prompt": "hello", "output_len": 4}
{"prompt": "hi there", "output_len": 4}
{"prompt": "`+long+`", "output_len": 4}
{"prompt": "`+long+`", "output_len": 4}
`), 0o644)
	code, stdout, stderr := runCLI("run", "--model", "tiny", "--cpu-memory", "0.25", "--dataset", p, "--max-model-len", "64", "--quiet")
	if code != 1 || !strings.Contains(stderr, "line 3") || !strings.Contains(stderr, "max_model_len 64") || !strings.Contains(stderr, "1 more") || stdout != "" {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

// diff lists every field that differs, one null or missing on one side
// included, and nothing else.
func TestDiffListsEveryDifference(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	os.WriteFile(a, []byte(`{"gpu_utilization_pct": null, "throughput_tps": 100, "model": "tiny", "only_a": 1, "same": 5,
"results": [{"value": 1, "x": 2}], "series": [`+strings.TrimSuffix(strings.Repeat("1,", 20), ",")+`], "slo": null, "tags": []}`), 0o644)
	os.WriteFile(b, []byte(`{"gpu_utilization_pct": 40, "throughput_tps": 150, "model": "opt-125m", "only_b": true, "same": 5,
"results": [{"value": 1, "x": 3}, {"value": 2}], "series": [`+strings.TrimSuffix(strings.Repeat("1,", 30), ",")+`], "slo": {"ttft_ns": 5}, "tags": ["a"]}`), 0o644)
	code, out, stderr := runCLI("diff", a, b)
	if code != 0 {
		t.Fatal(stderr)
	}
	for _, want := range []*struct{ key, line string }{
		{"gpu_utilization_pct", "null  40"},
		{"throughput_tps", "100  150  50  1.500×"},
		{"model", `"tiny"  "opt-125m"`},
		{"only_a", "1  (missing)"},
		{"only_b", "(missing)  true"},
		{"results.0.x", "2  3  1"},
		{"results.1.value", "(missing)  2"},
		{"series.length", "20  30"},
		{"slo", "null  (missing)"},
		{"slo.ttft_ns", "(missing)  5"},
		{"tags", "[]  (missing)"},
	} {
		found := false
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), want.key+" ") && strings.Contains(strings.Join(strings.Fields(l), "  "), want.line) {
				found = true
			}
		}
		if !found {
			t.Errorf("no line %s … %s in:\n%s", want.key, want.line, out)
		}
	}
	if strings.Contains(out, "same") || strings.Contains(out, "results.0.value") {
		t.Errorf("unchanged fields listed:\n%s", out)
	}
	// The field names read from the left (each starts where "field" does),
	// the numbers from the right.
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	col := strings.Index(lines[0], "field")
	for _, l := range lines[1:] {
		if len(l) <= col || l[col] == ' ' || col > 0 && l[col-1] != ' ' {
			t.Errorf("field name not left-aligned under %q: %q", lines[0], l)
		}
	}
	if code, out, _ := runCLI("diff", a, a); code != 0 || strings.TrimSpace(out) != "no differences among 10 fields" {
		t.Errorf("a file against itself (one line, no table header): %q", out)
	}
}

// diff refuses JSON that is not an object (no snapshot or report is), with
// one line naming the file.
func TestDiffRefusesWhatIsNoDocument(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{"throughput_tps": 1}`), 0o644)
	for name, body := range map[string]string{"array": "[1,2]", "null": "null", "number": "7", "string": `"x"`, "empty": "", "garbage": "garbage{"} {
		p := filepath.Join(dir, name+".json")
		os.WriteFile(p, []byte(body), 0o644)
		for _, args := range [][]string{{"diff", p, good}, {"diff", good, p}} {
			code, out, stderr := runCLI(args...)
			if code != 1 || out != "" || !strings.Contains(stderr, p+": not ") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("benchtop %s: exit %d\nstdout %q\nstderr %q", strings.Join(args, " "), code, out, stderr)
			}
		}
	}
}
