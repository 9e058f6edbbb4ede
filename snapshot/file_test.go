package snapshot

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"benchtop/engine"
	"benchtop/gpumon"
	"benchtop/metrics"
	"benchtop/report"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func sample() *File {
	m := &metrics.Snapshot{Start: t0, Elapsed: 3 * time.Second, Finished: 2, OutputTokens: 20,
		Series:  []metrics.Point{{T: 0, OutputTPS: 1}, {T: time.Second, OutputTPS: 10}, {T: 2 * time.Second, OutputTPS: 12}},
		Markers: []metrics.Marker{{Time: t0.Add(time.Second), What: "max_num_seqs=5"}}}
	recs := []metrics.RequestRecord{{ID: "a", OutputTokens: 10, TTFT: time.Millisecond, Segment: 0}, {ID: "b", OutputTokens: 10, TTFT: 3 * time.Millisecond, Segment: 1}}
	gpu := &gpumon.State{Available: true, Driver: "580", History: []gpumon.Sample{{Time: t0, GPUs: []gpumon.GPU{{Name: "X", UtilPct: 50, MemUsedBytes: 7, PowerW: 100}}}}}
	st := report.StatusOf(&engine.Status{Model: "tiny", Config: engine.DefaultConfig(), State: engine.StatePaused})
	return &File{Schema: Schema, Created: t0.Add(3 * time.Second), Workload: "bench", Status: st, Changes: m.Markers, Metrics: m,
		GPU: gpu, Segments: []Segment{{Index: 0, What: "start", Requests: 1}, {Index: 1, What: "max_num_seqs=5", Requests: 1}}, Requests: recs}
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
		back.GPU.Driver != "580" || len(back.Segments) != 2 || back.Segments[1].Requests != 1 || back.Status.State != "paused" {
		t.Fatalf("read back %+v", back)
	}
	if st := back.Status.Engine(); st.State != engine.StatePaused || st.Config.MaxNumSeqs != 256 {
		t.Fatalf("status %+v", st)
	}
	raw := mustRead(t, files[0])
	for _, want := range []string{`"max_num_seqs": 256`, `"state": "paused"`, `"schema": "benchtop.snapshot/v2"`} {
		if !strings.Contains(raw, want) {
			t.Errorf("JSON lacks %s", want)
		}
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

func TestEmptyListsAreArrays(t *testing.T) {
	f := &File{Schema: Schema, Status: &report.Status{}, Metrics: &metrics.Snapshot{}, GPU: &gpumon.State{Reason: "no NVML"}}
	files, err := Write(filepath.Join(t.TempDir(), "e"), f)
	if err != nil {
		t.Fatal(err)
	}
	raw := mustRead(t, files[0])
	if strings.Contains(raw, "null") {
		t.Fatalf("null in:\n%s", raw)
	}
	if f.Changes != nil || f.Metrics.Series != nil {
		t.Fatal("Write changed the file it was given")
	}
}

// A v1 file (Go field names in the status, the state as a string) still opens.
func TestReadsV1(t *testing.T) {
	v1 := `{"schema":"benchtop.snapshot/v1","created":"2026-11-27T12:00:00Z","workload":"bench",
"status":{"Config":{"MaxNumSeqs":50,"BlockSize":16},"Plan":{"NumBlocks":99,"KVDType":1},"Device":{"Backend":"cuda","Name":"H100"},
"Model":"opt-125m","Synthetic":true,"State":"running","Err":""},
"changes":null,"metrics":{"finished":3,"series":[{"t_ns":0,"output_tps":5}]},"gpu":{"available":false,"reason":"no NVML","history":null},
"segments":null,"requests":[{"id":"a","output_tokens":4}]}`
	p := filepath.Join(t.TempDir(), "v1.json")
	os.WriteFile(p, []byte(v1), 0o644)
	f, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	st := f.Status.Engine()
	if st.Config.MaxNumSeqs != 50 || st.Plan.NumBlocks != 99 || st.Device.Name != "H100" || st.State != engine.StateRunning ||
		f.Metrics.Finished != 3 || len(f.Requests) != 1 || st.Plan.KVDType.String() != "fp16" {
		t.Fatalf("v1 read as %+v / %+v", f, st)
	}
}

func TestReadRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"garbage": "nope", "schema": `{"schema":"other/v9"}`, "empty": `{"schema":"benchtop.snapshot/v2"}`} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := Read(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
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
