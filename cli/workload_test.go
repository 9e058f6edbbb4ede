package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWorkloadCommands(t *testing.T) {
	dir := t.TempDir()
	jsonl := filepath.Join(dir, "trace.jsonl")
	os.WriteFile(jsonl, []byte("{\"prompt\": \"Hello\", \"output_len\": 4, \"arrival_time\": 0}\n{\"prompt\": \"World\", \"output_len\": 6, \"arrival_time\": 0.05}\n"), 0o644)
	share := filepath.Join(dir, "share.json")
	os.WriteFile(share, []byte(`[{"id":"x","conversations":[{"from":"human","value":"What is AI?"},{"from":"gpt","value":"A field of study."}]}]`), 0o644)
	tiny := []string{"--model", "tiny", "--quiet", "--max-num-batched-tokens", "2048", "--cpu-memory", "0.25"}
	// Short prompts where their length is not what a case checks: the
	// ShareGPT-like ones cost seconds of attention each under -race.
	short := []string{"--prompt-len", "fixed:16"}
	cases := []struct {
		args []string
		want []string
	}{
		{append([]string{"run", "--workload", "chat", "--requests", "6", "--arrival", "poisson:50", "--output-len", "fixed:4", "--slo", "ttft=1s"}, short...),
			[]string{"SLO (ttft=1s) met", "Goodput", "Generator lag"}},
		{[]string{"run", "--dataset", jsonl}, []string{"Workload trace", "2 requests from"}},
		{[]string{"run", "--dataset", share, "--requests", "3"}, []string{"Workload share"}},
		{[]string{"run", "--workload", "shared-prefix", "--requests", "1", "--output-len", "fixed:2"}, []string{"Prompt tokens"}},
		{append([]string{"run", "--workload", "clients", "--requests", "6", "--output-len", "fixed:3"}, short...), []string{"Output tokens"}},
		{append([]string{"sweep", "--over", "concurrency", "--values", "1,4", "--requests", "8", "--output-len", "fixed:4", "--report", filepath.Join(dir, "s.html")}, short...),
			[]string{"Sweep over Clients", "Best throughput", "Latency vs throughput"}},
		{[]string{"compare", "--workload", "bench", "--requests", "4", "--config", "a:max-num-seqs=2", "--config", "b:block-size=8"},
			[]string{"Configuration comparison", "\na ", "\nb "}},
	}
	for _, c := range cases {
		args := append(append([]string{}, c.args...), tiny...)
		code, stdout, stderr := runCLI(args...)
		if code != 0 {
			t.Fatalf("benchtop %s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("benchtop %s: output lacks %q:\n%s", strings.Join(c.args, " "), w, stdout)
			}
		}
	}
	for _, f := range []string{"s.html", "s.json", "s.csv"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("report file %s: %v", f, err)
		}
	}
	// diff of two reports.
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	for _, p := range []struct {
		path string
		n    string
	}{{a, "3"}, {b, "5"}} {
		if code, _, stderr := runCLI(append([]string{"run", "--workload", "bench", "--requests", p.n, "--json", p.path}, tiny...)...); code != 0 {
			t.Fatal(stderr)
		}
	}
	code, stdout, _ := runCLI("diff", a, b)
	var ja map[string]any
	raw, _ := os.ReadFile(a)
	if code != 0 || json.Unmarshal(raw, &ja) != nil || !strings.Contains(stdout, "num_requests") || !strings.Contains(stdout, "1.667×") {
		t.Fatalf("diff: exit %d\n%s", code, stdout)
	}
}

func TestWorkloadFlagErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"prompt\": \"a\", \"output_len\": 1}\n{\"prompt\": 3}\n"), 0o644)
	untimed := filepath.Join(dir, "untimed.jsonl")
	os.WriteFile(untimed, []byte("{\"prompt\": \"a\", \"output_len\": 1}\n{\"prompt\": \"b\", \"output_len\": 2}\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--arrival", "poisson"}, "--arrival"},
		{[]string{"run", "--prompt-len", "gaussian:3"}, "--prompt-len"},
		{[]string{"run", "--slo", "ttft=soon"}, "--slo"},
		{[]string{"run", "--dataset", filepath.Join(dir, "none.json")}, "not a readable file"},
		{[]string{"run", "--dataset", bad, "--model", "tiny", "--cpu-memory", "0.25"}, "line 2"},
		{[]string{"run", "--workload", "nope"}, "unknown workload"},
		// trace replays a file's arrival_time: without one it is refused,
		// not run all at once.
		{[]string{"run", "--arrival", "trace", "--model", "tiny"}, "--arrival trace replays a dataset's arrival_time: give --dataset"},
		{[]string{"run", "--arrival", "trace", "--dataset", untimed, "--model", "tiny", "--cpu-memory", "0.25"}, "no request has an arrival_time"},
		{[]string{"sweep", "--over", "rate", "--model", "tiny"}, "--values: required"},
		{[]string{"sweep", "--over", "temperature", "--values", "1", "--model", "tiny"}, "want batch, rate or concurrency"},
		{[]string{"sweep", "--report", filepath.Join(dir, "r.txt")}, "give a .html"},
		{[]string{"compare", "--config", "x:block-size=zero", "--model", "tiny"}, "not a valid value"},
		{[]string{"diff", "only-one.json"}, "expected \"<b>\""},
		{[]string{"diff", bad, bad}, "not JSON"},
	} {
		code, _, stderr := runCLI(c.args...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("benchtop %s: exit %d, stderr %q; want %q", strings.Join(c.args, " "), code, stderr, c.want)
		}
	}
}
