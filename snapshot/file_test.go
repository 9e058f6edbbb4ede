package snapshot

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"benchtop/engine"
	"benchtop/metrics"
)

func sample() *File {
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	m := &metrics.Snapshot{Start: t0, Elapsed: 3 * time.Second, Finished: 2, OutputTokens: 20,
		Series:  []metrics.Point{{T: 0, OutputTPS: 1}, {T: time.Second, OutputTPS: 10}, {T: 2 * time.Second, OutputTPS: 12}},
		Markers: []metrics.Marker{{Time: t0.Add(time.Second), What: "max_num_seqs=5"}}}
	recs := []metrics.RequestRecord{{ID: "a", OutputTokens: 10, TTFT: time.Millisecond, Segment: 0}, {ID: "b", OutputTokens: 10, TTFT: 3 * time.Millisecond, Segment: 1}}
	gpu := &GPUState{Available: true, Driver: "580", History: []GPUSample{{Time: t0, GPUs: []GPU{{Name: "X", UtilPct: 50, MemUsedBytes: 7, PowerW: 100}}}}}
	f := Frame{Metrics: m, Status: &engine.Status{Model: "tiny", Config: engine.DefaultConfig()}, GPU: gpu, Workload: "bench",
		Segments: Segments(recs, m.Markers, t0, t0.Add(3*time.Second))}
	return FromFrame(f, recs, t0.Add(3*time.Second))
}

func TestWriteReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	files, err := Write(filepath.Join(dir, "s"), sample())
	if err != nil || len(files) != 3 {
		t.Fatalf("%v %v", files, err)
	}
	back, err := Read(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if back.Schema != Schema || len(back.Requests) != 2 || len(back.Changes) != 1 || len(back.Metrics.Series) != 3 ||
		back.GPU.Driver != "580" || len(back.Segments) != 2 || back.Segments[1].Requests != 1 {
		t.Fatalf("read back %+v", back)
	}
	if fr := back.Frame(files[0]); !fr.ReadOnly || fr.Workload != "bench" {
		t.Fatalf("frame %+v", fr)
	}
	rows, err := csv.NewReader(strings.NewReader(mustRead(t, files[1]))).ReadAll()
	if err != nil || len(rows) != 4 || rows[1][10] != "50" {
		t.Fatalf("csv: %v %v", rows, err)
	}
	if md := mustRead(t, files[2]); !strings.Contains(md, "max_num_seqs=5") || !strings.Contains(md, "| 1 |") {
		t.Fatalf("markdown:\n%s", md)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestReadRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"garbage": "nope", "schema": `{"schema":"other/v9"}`, "empty": `{"schema":"benchtop.snapshot/v1"}`} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := Read(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := WriteFileAtomic(filepath.Join(dir, "no-such-dir", "x"), []byte("x")); err == nil {
		t.Fatal("write into a missing folder succeeded")
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
