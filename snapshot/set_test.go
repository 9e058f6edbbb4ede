package snapshot

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"benchtop/report"
)

// A set is the CSV and Markdown, then the JSON that lists them (written
// last); a changed member fails CheckSet; stale temporary files of other
// snapshots' killed writes in the folder are removed by the next one.
func TestSetManifest(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * report.StaleAfter)
	stale := []string{".benchtop-snapshot-20261130-010203.000.json8123", ".benchtop-snapshot-20261130-010203.000.csv.tmp-77"}
	for _, n := range append(stale, ".benchtop-snapshot-young.md5") {
		p := filepath.Join(dir, n)
		os.WriteFile(p, []byte("partial"), 0o600)
		if n != ".benchtop-snapshot-young.md5" {
			os.Chtimes(p, old, old)
		}
	}
	base := filepath.Join(dir, Name(t0))
	files, err := Write(base, sample())
	if err != nil || len(files) != 3 || files[0] != base+".json" {
		t.Fatalf("%v %v", files, err)
	}
	f, err := Read(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Files) != 2 || f.Files[0].Name != filepath.Base(base)+".csv" || f.Files[1].Name != filepath.Base(base)+".md" || f.Files[0].Bytes == 0 {
		t.Fatalf("manifest %+v", f.Files)
	}
	if err := CheckSet(files[0], f); err != nil {
		t.Fatal(err)
	}
	for _, n := range stale {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			t.Errorf("stale %s left", n)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".benchtop-snapshot-young.md5")); err != nil {
		t.Error("a young temporary file (a write under way) was removed")
	}
	os.WriteFile(base+".md", []byte("changed"), 0o644)
	if err := CheckSet(files[0], f); err == nil {
		t.Fatal("a changed member passed")
	}
	os.Remove(base + ".csv")
	if err := CheckSet(files[0], f); err == nil {
		t.Fatal("a missing member passed")
	}
	f.Files = []Member{{Name: "../x"}}
	if err := CheckSet(files[0], f); err == nil {
		t.Fatal("a path outside the folder passed")
	}
}
