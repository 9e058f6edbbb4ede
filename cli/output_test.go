package cli

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// devFull opens /dev/full, where every write fails with ENOSPC.
func devFull(t *testing.T) *os.File {
	t.Helper()
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// Every command that prints to standard output exits 1 when the output is
// lost, saying so, instead of 0: help, version, lists, tables, JSON.
func TestLostOutputFailsTheCommand(t *testing.T) {
	full := devFull(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	os.WriteFile(a, []byte(`{"x": 1}`), 0o644)
	os.WriteFile(b, []byte(`{"x": 2}`), 0o644)
	srv := httptest.NewServer(http.FileServer(http.Dir("../servermetrics/testdata")))
	defer srv.Close()
	tiny := []string{"--model", "tiny", "--quiet", "--cpu-memory", "0.25"}
	for _, args := range [][]string{
		{"--help"}, {"run", "--help"}, {"--version"},
		{"workloads"},
		{"diff", a, b},
		{"metrics", srv.URL + "/vllm.txt"},
		{"metrics", "--json", srv.URL + "/vllm.txt"},
		{"tokenize", "--model", "tiny", "--text", "hello"},
		{"tokenize", "--model", "tiny", "--decode", "1,2"},
		append([]string{"tokenize", "--workload", "latency"}, tiny[:2]...),
		append([]string{"run", "--workload", "latency", "--output-len", "fixed:2"}, tiny...),
	} {
		var stderr bytes.Buffer
		code := Main(args, full, &stderr)
		want := "writing to standard output: no space left on device"
		if code != 1 || !strings.Contains(stderr.String(), want) || strings.Contains(stderr.String(), "/dev/full") {
			t.Errorf("benchtop %s > /dev/full: exit %d, stderr %q; want exit 1 and %q", strings.Join(args, " "), code, stderr.String(), want)
		}
	}
}

// A reader that went away: the write fails with EPIPE (on a descriptor
// other than 1 and 2 Go returns it rather than dying of SIGPIPE).
func TestClosedPipeFailsTheCommand(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	defer w.Close()
	var stderr bytes.Buffer
	if code := Main([]string{"workloads"}, w, &stderr); code != 1 || !strings.Contains(stderr.String(), "benchtop workloads: writing to standard output: broken pipe") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

// The real thing: benchtop (this test binary in its child mode) with its
// file descriptor 1 on /dev/full.
func TestWorkloadsToDevFull(t *testing.T) {
	full := devFull(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "BENCHTOP_CLI_CHILD=workloads")
	cmd.Stdout = full
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || stderr.String() != "benchtop workloads: writing to standard output: no space left on device\n" {
		t.Fatalf("benchtop workloads > /dev/full: %v, stderr %q", err, stderr.String())
	}
}

// A command's own error stays; a lost write is added to it, or replaces
// it when it only reports that write.
func TestWithOutput(t *testing.T) {
	boom := errors.New("boom")
	ok := &checkedWriter{w: &bytes.Buffer{}}
	ok.Write([]byte("x"))
	if ok.withOutput(nil) != nil || ok.withOutput(boom) != boom {
		t.Fatal("a writer that worked changed the result")
	}
	full := &checkedWriter{w: devFull(t)}
	_, werr := full.Write([]byte("x"))
	if _, again := full.Write([]byte("y")); again != werr {
		t.Fatalf("a second write: %v", again)
	}
	if got := full.withOutput(nil); got == nil || got.Error() != "writing to standard output: no space left on device" {
		t.Fatalf("nil: %v", got)
	}
	if got := full.withOutput(werr); got.Error() != "writing to standard output: no space left on device" {
		t.Fatalf("the same write: %v", got)
	}
	if got := full.withOutput(boom); !errors.Is(got, boom) || !strings.Contains(got.Error(), "boom\nwriting to standard output") {
		t.Fatalf("another error: %v", got)
	}
}
