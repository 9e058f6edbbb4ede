package report

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestTempOf(t *testing.T) {
	for name, want := range map[string]string{
		".out.json123456789":                               "out.json",
		".benchtop-snapshot-20261130-010203.000.csv42":     "benchtop-snapshot-20261130-010203.000.csv",
		".out.json.tmp-123":                                "out.json",
		".benchtop-snapshot-20261130-010203.000.md.tmp-x9": "benchtop-snapshot-20261130-010203.000.md",
	} {
		if got, ok := TempOf(name); !ok || got != want {
			t.Errorf("TempOf(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"out.json", ".bashrc", ".123", ".x" + strings.Repeat("1", 20), "."} {
		if got, ok := TempOf(name); ok {
			t.Errorf("TempOf(%q) = %q: not ours", name, got)
		}
	}
}

// Stale temporary files of ours are removed by the next write; young ones
// (a write under way elsewhere) and other files are left.
func TestWriteRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * StaleAfter)
	var stale []string
	for i := range 20 {
		p := filepath.Join(dir, ".out.json"+strings.Repeat("7", i%5+1)+string(rune('0'+i%10)))
		if i%2 == 1 {
			p = filepath.Join(dir, ".out.json.tmp-"+string(rune('a'+i)))
		}
		os.WriteFile(p, []byte("partial"), 0o600)
		os.Chtimes(p, old, old)
		stale = append(stale, p)
	}
	young := filepath.Join(dir, ".out.json99")
	other := filepath.Join(dir, ".other.json11")
	keep := filepath.Join(dir, ".bashrc")
	for _, p := range []string{young, other, keep} {
		os.WriteFile(p, nil, 0o600)
	}
	os.Chtimes(other, old, old)
	if err := WriteFile(filepath.Join(dir, "out.json"), []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	for _, p := range stale {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("stale %s left", filepath.Base(p))
		}
	}
	for _, p := range []string{young, other, keep, filepath.Join(dir, "out.json")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed", filepath.Base(p))
		}
	}
}

// A set whose write fails midway leaves none of its files.
func TestWriteSetFailureLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	parts := []Part{{filepath.Join(dir, "a.csv"), []byte("x")}, {filepath.Join(dir, "missing", "b.json"), []byte("{}")}}
	if _, err := WriteSet(parts); err == nil {
		t.Fatal("a set into a missing folder was written")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("left %v", names)
	}
}

// A process killed (SIGKILL) while writing a set, after every part is
// staged and before any rename, leaves no file of the set; its temporary
// files are removed by the next write in the folder once stale.
func TestKilledWriteLeavesNoPartialSet(t *testing.T) {
	if dir := os.Getenv("BENCHTOP_KILLED_WRITE"); dir != "" {
		beforeRename = func() { syscall.Kill(os.Getpid(), syscall.SIGKILL); time.Sleep(time.Minute) }
		WriteSet([]Part{{filepath.Join(dir, "r.csv"), []byte("a,b\n")}, {filepath.Join(dir, "r.html"), []byte("<p>")}, {filepath.Join(dir, "r.json"), []byte("{}")}})
		os.Exit(0) // not reached
	}
	dir := t.TempDir()
	for range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriteLeavesNoPartialSet$")
		cmd.Env = append(os.Environ(), "BENCHTOP_KILLED_WRITE="+dir)
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("the writer was not killed: %v", err)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 9 {
		t.Fatalf("%d files after 3 killed writes; want 9 temporary ones", len(ents))
	}
	old := time.Now().Add(-2 * StaleAfter)
	for _, e := range ents {
		if _, ok := TempOf(e.Name()); !ok {
			t.Fatalf("%s is visible after a killed write", e.Name())
		}
		os.Chtimes(filepath.Join(dir, e.Name()), old, old)
	}
	files, err := WriteSet([]Part{{filepath.Join(dir, "r.csv"), []byte("a,b\n")}, {filepath.Join(dir, "r.json"), []byte("{}")}})
	if err != nil || len(files) != 2 {
		t.Fatal(files, err)
	}
	// r.html's temporaries are another file's: r.csv and r.json's writes
	// cleaned their own.
	ents, _ = os.ReadDir(dir)
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	if len(ents) != 5 {
		t.Fatalf("left %v; want r.csv, r.json and r.html's three temporaries", left)
	}
}

// CheckWritableDir says whether a folder is missing or refuses writes,
// naming the folder and not its probe file.
func TestCheckWritableDirSaysWhy(t *testing.T) {
	dir := t.TempDir()
	if err := CheckWritableDir(dir); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "f")
	os.WriteFile(file, []byte("x"), 0o644)
	for path, want := range map[string]string{
		filepath.Join(dir, "missing"): "folder " + filepath.Join(dir, "missing") + " does not exist",
		file:                          "folder " + file + " is not writable: not a directory",
	} {
		err := CheckWritableDir(path)
		if err == nil || err.Error() != want {
			t.Errorf("CheckWritableDir(%s) = %v; want %q", path, err, want)
		}
	}
	if err := CheckWritable(filepath.Join(file, "out.json")); err == nil || strings.Contains(err.Error(), "benchtop-check") {
		t.Errorf("CheckWritable under a file: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("the probe was left behind: %v", left)
	}
}
