package cli

import (
	"os"
	"strings"
	"testing"
)

// --help exits 0 for every command and lists the commands at the top.
func TestHelpAndVersion(t *testing.T) {
	code, out, _ := runCLI("--help")
	if code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	for _, c := range []string{"dash", "view", "bench", "throughput", "latency", "ttft", "run", "sweep", "memory", "compare", "diff", "workloads", "logits", "tokenize"} {
		if !strings.Contains(out, "\n  "+c+" ") {
			t.Errorf("--help does not list %s:\n%s", c, out)
		}
		if code, out, errOut := runCLI(c, "--help"); code != 0 || !strings.Contains(out, "Usage: benchtop "+c) {
			t.Errorf("%s --help: exit %d\n%s%s", c, code, out, errOut)
		}
	}
	if code, out, _ := runCLI("bench", "--help"); code != 0 || !strings.Contains(out, "--max-num-batched-tokens") || !strings.Contains(out, "--[no-]chunked-prefill") {
		t.Errorf("bench --help lacks the engine flags:\n%s", out)
	}
	if code, out, _ := runCLI("--version"); code != 0 || !strings.HasPrefix(out, "benchtop ") {
		t.Errorf("--version: exit %d %q", code, out)
	}
}

// The child mode: the test binary runs Main, for the signal tests.
func init() {
	if args := os.Getenv("BENCHTOP_CLI_CHILD"); args != "" {
		os.Exit(Main(strings.Fields(args), os.Stdout, os.Stderr))
	}
}
