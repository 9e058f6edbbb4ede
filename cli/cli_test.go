package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Main(args, &o, &e)
	return code, o.String(), e.String()
}

func TestBadInputGetsClearErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file") // a file where a folder should be
	os.WriteFile(file, []byte("x"), 0o644)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"frobnicate"}, 2, `unexpected argument frobnicate`},
		{[]string{"bench", "--no-such-flag"}, 2, "unknown flag --no-such-flag"},
		{[]string{"bench", "--no-such-flag"}, 2, "Run 'benchtop bench --help' for usage."},
		{[]string{"--no-such-flag"}, 2, "Run 'benchtop --help' for usage."}, // not "benchtop x --help"
		{[]string{"bench", "--max-num-seqs", "0"}, 1, "--max-num-seqs 0: must be at least 1"},
		{[]string{"bench", "--gpu-memory-utilization", "1.5"}, 1, "gpu-memory-utilization 1.5"},
		{[]string{"bench", "--block-size=-1"}, 1, "block-size -1"},
		{[]string{"bench", "--device", "tpu", "--model", "tiny"}, 1, `--device "tpu"`},
		{[]string{"bench", "--device", "cuda", "--model", "tiny"}, 1, "--device cuda"},
		{[]string{"bench", "--model", filepath.Join(dir, "missing")}, 1, "neither a preset"},
		{[]string{"bench", "--model", dir}, 1, "config.json"},
		{[]string{"bench", "--model", "tiny", "--json", "/proc/benchtop/out.json"}, 1, "output /proc/benchtop/out.json: folder /proc/benchtop does not exist"},
		{[]string{"bench", "--model", "tiny", "--json", filepath.Join(file, "out.json")}, 1, "output " + filepath.Join(file, "out.json") + ": folder " + file + " is not writable: not a directory"},
		{[]string{"bench", "--model", "tiny", "--json", dir}, 1, "is a directory"},
		{[]string{"sweep", "--model", "tiny", "--batch-sizes", "1,x"}, 1, `"x" is not a positive number`},
		{[]string{"memory", "--model", "tiny", "--cpu-memory", "0.25", "--workload", "nope"}, 1, `unknown workload "nope"`},
		{[]string{"logits", "--model", "tiny", "--cpu-memory", "0.25"}, 1, "--ids: no token ids given"},
		{[]string{"logits", "--model", "tiny", "--cpu-memory", "0.25", "--ids", "1,99999999"}, 1, "outside the vocabulary"},
		{[]string{"bench", "--model", "tiny", "--cpu-memory", "0.001"}, 1, "alloc"},
		{[]string{"bench", "extra"}, 2, "unexpected argument extra"},
		{[]string{"compare", "--model", "tiny", "--cpu-memory", "0.25", "--config", "a:max-num-seqs=0"}, 1, "max-num-seqs=0: must be above 0"},
		{[]string{"compare", "--model", "tiny", "--cpu-memory", "0.25", "--config", "a:gpu-memory-utilization=0.0"}, 1, "gpu-memory-utilization=0.0: must be above 0"},
		// An engine flag a command has no use for is refused, not ignored.
		{[]string{"dash", "--model", "tiny", "--headless", "--duration", "1s", "--json", filepath.Join(dir, "d.json")}, 1, "--json: dash does not use it"},
		{[]string{"dash", "--model", "tiny", "--headless", "--duration", "1s", "--requests", "5"}, 1, "--requests: dash does not use it"},
		{[]string{"serve", "--model", "tiny", "--port", "99999", "--json", filepath.Join(dir, "s.json")}, 1, "--json: serve does not use it"},
		{[]string{"serve", "--model", "tiny", "--port", "99999", "--requests", "5"}, 1, "--requests: serve does not use it"},
		{[]string{"logits", "--model", "tiny", "--ids", "1", "--requests", "5"}, 1, "--requests: logits does not use it"},
		{[]string{"sweep", "--repeats", "0", "--model", "tiny"}, 1, "--repeats 0"},
		{[]string{"dash", "--arrival", "closed:300000"}, 1, "from 1 to 4096"},
		{[]string{"run", "--requests", "100000000000"}, 1, "--requests 100000000000: must be from 0 to 1048576"},
		{[]string{"sweep", "--over", "rate", "--values", "inf"}, 1, `"inf" is not a positive number`},
		{[]string{"sweep", "--values", "1e15"}, 1, "at most 1048576 for --over batch"},
		{[]string{"sweep", "--over", "concurrency", "--values", "2.5"}, 1, "takes whole numbers"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("benchtop %s: exit %d, stderr %q; want exit %d and %q", strings.Join(c.args, " "), code, stderr, c.code, c.want)
		}
	}
}

func TestSubcommandsRunOnTiny(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"bench", "--requests", "6", "--warmup", "2"}, []string{"Comprehensive benchmark", "Output tokens/s", "TTFT", "ITL", "GPU utilization (%)"}},
		{[]string{"throughput", "--requests", "5"}, []string{"Throughput (requests/s)"}},
		{[]string{"latency"}, []string{"End-to-end latency (ms)"}},
		{[]string{"ttft", "--requests", "3"}, []string{"Time to first token", "p99"}},
		{[]string{"sweep", "--batch-sizes", "1,3"}, []string{"Sweep over Batch size", "Best throughput"}},
		{[]string{"memory"}, []string{"KV blocks", "Est. max concurrent sequences"}},
		{[]string{"compare", "--requests", "4"}, []string{"gpu_memory_utilization=0.7", "not applicable"}},
	}
	for _, c := range cases {
		out := filepath.Join(dir, c.args[0]+".json")
		args := append(append([]string{}, c.args...), "--model", "tiny", "--max-num-batched-tokens", "512", "--cpu-memory", "0.25", "--json", out)
		code, stdout, stderr := runCLI(args...)
		if code != 0 {
			t.Fatalf("benchtop %s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%s output lacks %q:\n%s", c.args[0], w, stdout)
			}
		}
		raw, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var j map[string]any
		if err := json.Unmarshal(raw, &j); err != nil {
			t.Fatalf("%s JSON: %v", c.args[0], err)
		}
		for _, k := range []string{"timestamp", "gpu_memory_gb", "gpu_utilization_pct", "model", "config", "memory"} {
			if _, ok := j[k]; !ok {
				t.Errorf("%s JSON lacks %s", c.args[0], k)
			}
		}
		if c.args[0] == "bench" || c.args[0] == "throughput" {
			for _, k := range []string{"num_requests", "throughput_rps", "throughput_tps", "avg_latency_ms", "ttft", "tpot", "itl", "e2e", "wall_ns"} {
				if _, ok := j[k]; !ok {
					t.Errorf("%s JSON lacks %s", c.args[0], k)
				}
			}
		}
	}
	code, stdout, _ := runCLI("workloads")
	if code != 0 || !strings.Contains(stdout, "bench") {
		t.Fatalf("workloads: %d %s", code, stdout)
	}
	code, stdout, _ = runCLI("logits", "--model", "tiny", "--cpu-memory", "0.25", "--ids", "50256,15496,995", "--steps", "4")
	var lj struct {
		Greedy []int32
		Logits []float32 `json:"last_logits"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &lj) != nil || len(lj.Greedy) != 4 || len(lj.Logits) != 50272 {
		t.Fatalf("logits: exit %d, %d greedy, %d logits", code, len(lj.Greedy), len(lj.Logits))
	}
}
