package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"benchtop/engine"
	"benchtop/session"
	"benchtop/snapshot"
	"benchtop/tui"
	"benchtop/workloads"
)

func key(s string) tea.KeyPressMsg { return tea.KeyPressMsg{Code: []rune(s)[0], Text: s} }

// The real dashboard on the CPU backend: start, switch workload, change the
// batch size, export a snapshot, quit; the snapshot must be whole.
func TestDashboardEndToEnd(t *testing.T) {
	cfg := engine.DefaultConfig()
	cfg.MaxNumBatchedTokens = 512
	s, err := session.Open(session.Options{Model: "tiny", Device: "cpu", CPUMemoryBytes: 1 << 28, Engine: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, _ := workloads.Lookup("bench")
	if err := s.Start(w.WithCount(4)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m := tui.New(s)
	m.SnapshotDir = dir
	var out bytes.Buffer
	p := tea.NewProgram(m, tea.WithInput(nil), tea.WithOutput(&out), tea.WithWindowSize(100, 30))
	waitFor := func(what string, ok func() bool) {
		deadline := time.Now().Add(120 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				p.Kill()
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	go func() {
		waitFor("first finished requests", func() bool { f := s.Frame(); return f.Metrics != nil && f.Metrics.Finished > 0 })
		p.Send(key("2"))
		waitFor("the workload switch", func() bool { return s.Frame().Workload == "latency" })
		p.Send(key("-"))
		waitFor("the batch size change", func() bool { return s.Frame().Status.Config.MaxNumSeqs == 100 })
		p.Send(key("s"))
		waitFor("the snapshot", func() bool { m, _ := filepath.Glob(filepath.Join(dir, "*.json")); return len(m) == 1 })
		p.Send(key("q"))
	}()
	final, err := p.Run()
	if err != nil {
		t.Fatal(err)
	}
	if f := final.(tui.Model).Frame(); f.Workload != "latency" {
		t.Fatalf("final frame shows workload %q", f.Workload)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "benchtop-snapshot-*"))
	if len(files) != 3 {
		t.Fatalf("snapshot files: %v", files)
	}
	jsonPath, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	f, err := snapshot.Read(jsonPath[0])
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, c := range f.Changes {
		changes = append(changes, c.What)
	}
	if got := strings.Join(changes, ","); got != "workload=latency,max_num_seqs=100" {
		t.Fatalf("changes %q", got)
	}
	if len(f.Requests) == 0 || len(f.Metrics.Series) == 0 || f.Status.Model != "tiny" || len(f.Segments) != 3 {
		t.Fatalf("snapshot incomplete: %d requests, %d points, model %q, %d segments", len(f.Requests), len(f.Metrics.Series), f.Status.Model, len(f.Segments))
	}
	for _, ext := range []string{".csv", ".md"} {
		raw, err := os.ReadFile(strings.TrimSuffix(jsonPath[0], ".json") + ext)
		if err != nil || len(raw) < 100 {
			t.Fatalf("%s: %v (%d bytes)", ext, err, len(raw))
		}
	}
	if !strings.Contains(out.String(), "benchtop") {
		t.Fatal("the program drew nothing")
	}
}

func TestDashAndViewBadInput(t *testing.T) {
	arr := filepath.Join(t.TempDir(), "array.json")
	os.WriteFile(arr, []byte("[1, 2]"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"dash", "--snapshot-dir", "/nonexistent/dir"}, "is not a folder"},
		{[]string{"dash", "--workload", "nope"}, `unknown workload "nope"`},
		{[]string{"view"}, "expected \"<path>\""},
		{[]string{"view", "/nonexistent.json"}, "no such file"},
		{[]string{"view", arr}, "not a benchtop snapshot: a snapshot is a JSON object {…}; this is an array"},
	} {
		code, _, stderr := runCLI(c.args...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("benchtop %v: exit %d, stderr %q; want %q", c.args, code, stderr, c.want)
		}
	}
}

// view on a --json report (a real one, written by latency) says what the
// file is and what reads it, instead of "schema \"\"".
func TestViewOnAReportSaysWhatItIs(t *testing.T) {
	p := filepath.Join(t.TempDir(), "latency.json")
	if code, _, stderr := runCLI("latency", "--model", "tiny", "--cpu-memory", "0.25", "--requests", "1", "--quiet", "--json", p); code != 0 {
		t.Fatal(stderr)
	}
	code, _, stderr := runCLI("view", p)
	if code != 1 || !strings.Contains(stderr, "is the --json report of benchtop latency, not a snapshot") ||
		!strings.Contains(stderr, "benchtop diff") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// Without a terminal (as under go test), the dashboard says what to run instead.
func TestDashNeedsATerminal(t *testing.T) {
	code, _, stderr := runCLI("dash", "--model", "tiny")
	if code != 1 || !strings.Contains(stderr, "needs a terminal") || !strings.Contains(stderr, "--headless") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}
