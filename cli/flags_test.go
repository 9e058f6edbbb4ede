package cli

import (
	"strings"
	"testing"
)

// Unset engine flags are auto (sized for the CPU here, and memory says
// why); a given one wins; a given 0 and impossible --cpu-memory values are
// refused.
func TestEngineFlagsAutoWhenUnset(t *testing.T) {
	code, stdout, stderr := runCLI("memory", "--model", "tiny", "--cpu-memory", "0.25")
	if code != 0 || !strings.Contains(stdout, "Sizing: ") || !strings.Contains(stdout, "max_num_seqs") || !strings.Contains(stdout, "steps near 200 ms") {
		t.Fatalf("unset flags: exit %d, %s\n%s", code, stderr, stdout)
	}
	code, stdout, stderr = runCLI("memory", "--model", "tiny", "--cpu-memory", "0.25", "--max-num-seqs", "8", "--max-num-batched-tokens", "64",
		"--gpu-memory-utilization", "0.5")
	// Given settings are not re-sized; the CPU's pool is still capped at
	// what 8 sequences can use, and says so.
	if code != 0 || !strings.Contains(stdout, "max_num_seqs=8") || strings.Contains(stdout, "steps near") || !strings.Contains(stdout, "0.50") ||
		!strings.Contains(stdout, "Sizing: KV pool capped at 8 sequences") {
		t.Fatalf("given flags: exit %d, %s\n%s", code, stderr, stdout)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-num-seqs", "0"}, "--max-num-seqs 0: must be at least 1 (leave it out for auto)"},
		{[]string{"--max-num-batched-tokens", "0"}, "--max-num-batched-tokens 0: must be at least 1"},
		{[]string{"--gpu-memory-utilization", "0"}, "--gpu-memory-utilization 0: must be in (0, 1]"},
		{[]string{"--cpu-memory", "NaN"}, "--cpu-memory NaN: must be a number of GiB above 0"},
		{[]string{"--cpu-memory", "+Inf"}, "--cpu-memory +Inf"},
		{[]string{"--cpu-memory", "1e300"}, "at most 65536"},
		{[]string{"--cpu-memory", "0"}, "--cpu-memory 0"},
	} {
		code, _, stderr := runCLI(append([]string{"memory", "--model", "tiny"}, c.args...)...)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("memory %v: exit %d, %q; want %q", c.args, code, stderr, c.want)
		}
	}
}
