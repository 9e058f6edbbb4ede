package cli

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
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

// A headless run stopped by SIGINT exits 130 and by SIGTERM 143, saying so.
func TestSignalsExitCodes(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "BENCHTOP_CLI_CHILD=run --model tiny --cpu-memory 0.25 --workload bench --requests 100000 --arrival constant:20 --output-len fixed:4 --max-num-seqs 4")
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		var lines []string
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.Contains(sc.Text(), "benchtop: model") {
				break
			}
		}
		cmd.Process.Signal(c.sig)
		done := make(chan struct{})
		go func() {
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			close(done)
		}()
		err := cmd.Wait()
		<-done
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != c.code {
			t.Fatalf("%v: %v, want exit %d\n%s", c.sig, err, c.code, strings.Join(lines, "\n"))
		}
		if last := lines[len(lines)-1]; !strings.Contains(last, "stopped by") {
			t.Errorf("%v: last line %q", c.sig, last)
		}
	}
}
