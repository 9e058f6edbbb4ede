package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"benchtop/engine"
	"benchtop/gpumon"
	"benchtop/metrics"
	"benchtop/report"
)

// Schema names the JSON layout written; SchemaV1 is the older one, still
// read.
const (
	Schema   = "benchtop.snapshot/v2"
	SchemaV1 = "benchtop.snapshot/v1"
)

// ErrNotSnapshot is returned for a file that is not a benchtop snapshot.
var ErrNotSnapshot = errors.New("not a benchtop snapshot")

// Segment summarises the requests that arrived between two changes.
type Segment struct {
	Index     int           `json:"index"`
	What      string        `json:"what"` // the change that started it
	Start     time.Time     `json:"start"`
	Requests  int           `json:"requests"`
	OutputTPS float64       `json:"output_tps"`
	TTFTP50   time.Duration `json:"ttft_p50_ns"`
	TTFTP99   time.Duration `json:"ttft_p99_ns"`
	TPOTP50   time.Duration `json:"tpot_p50_ns"`
	E2EP50    time.Duration `json:"e2e_p50_ns"`
}

// File is a whole session as exported. Durations are nanoseconds (fields
// ending in _ns), times RFC 3339, empty lists []; the layout is documented
// in README.md ("Snapshots").
type File struct {
	Schema   string                  `json:"schema"`
	Created  time.Time               `json:"created"`
	Workload string                  `json:"workload"`
	Status   *report.Status          `json:"status"`  // model, device, settings, memory plan
	Changes  []metrics.Marker        `json:"changes"` // settings and workload changes, in order
	Metrics  *metrics.Snapshot       `json:"metrics"` // final numbers and every time series
	GPU      *gpumon.State           `json:"gpu"`
	Segments []Segment               `json:"segments"`
	Requests []metrics.RequestRecord `json:"requests"`
	// With several sources (data-parallel replicas, a fleet) or remote
	// targets: a row per source, their imbalance, the dispatch policy, and
	// each server as found (its model, each gauge's source, its scrapes).
	Sources   []report.Source `json:"sources,omitempty"`
	Imbalance float64         `json:"imbalance,omitempty"`
	Policy    string          `json:"dispatch_policy,omitempty"`
	Targets   []report.Target `json:"targets,omitempty"`
	// Files are the set's other files, beside the JSON: it is written
	// last, so they are whole whenever it exists (the set's manifest).
	Files []Member `json:"files"`
}

// Member is one file of a snapshot set other than its JSON.
type Member struct {
	Name   string `json:"name"` // the file's name, in the JSON's folder
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"` // hex
}

// NamePrefix starts the name of every snapshot set (Name).
const NamePrefix = "benchtop-snapshot-"

// Name is the base name of a snapshot set created at t (local time, to the
// millisecond), without an extension.
func Name(t time.Time) string { return NamePrefix + t.Local().Format("20060102-150405.000") }

// normalized is f with every list non-nil, so that JSON says [] and not
// null; f itself is not changed (its parts may be shared and immutable).
func (f *File) normalized() *File {
	out := *f
	out.Changes = orEmpty(out.Changes)
	out.Segments = orEmpty(out.Segments)
	out.Requests = orEmpty(out.Requests)
	out.Files = orEmpty(out.Files)
	if out.Metrics != nil {
		m := *out.Metrics
		m.Series, m.Markers, m.Sources = orEmpty(m.Series), orEmpty(m.Markers), orEmpty(m.Sources)
		if m.Finishes == nil {
			m.Finishes = map[string]int{}
		}
		out.Metrics = &m
	}
	if out.GPU != nil {
		g := *out.GPU
		g.History = orEmpty(g.History)
		out.GPU = &g
	}
	return &out
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Write writes the set base.csv, base.md and base.json (report.WriteSet:
// none appears before all are whole, the JSON last, listing the other two
// with their sizes and SHA-256) and returns the paths, the JSON first.
// Stale temporary files that killed writes of snapshots left in the folder
// are removed first.
func Write(base string, f *File) ([]string, error) {
	dir := filepath.Dir(base)
	report.CleanStale(dir, func(t string) bool {
		return strings.HasPrefix(t, NamePrefix) || strings.HasPrefix(t, filepath.Base(base)+".")
	})
	f = f.normalized()
	parts := []report.Part{{Path: base + ".csv", Data: seriesCSV(f)}, {Path: base + ".md", Data: markdown(f)}}
	f.Files = make([]Member, len(parts))
	for i, p := range parts {
		sum := sha256.Sum256(p.Data)
		f.Files[i] = Member{Name: filepath.Base(p.Path), Bytes: len(p.Data), SHA256: hex.EncodeToString(sum[:])}
	}
	js, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return nil, fmt.Errorf("encode snapshot: %w", err)
	}
	parts = append(parts, report.Part{Path: base + ".json", Data: append(js, '\n')})
	out, err := report.WriteSet(parts)
	if len(out) == len(parts) {
		out = append(out[2:], out[:2]...) // the JSON first
	}
	return out, err
}

// CheckSet says whether the files the snapshot at jsonPath lists are
// beside it, whole and unchanged (nil for a v1 snapshot, which lists none).
func CheckSet(jsonPath string, f *File) error {
	dir := filepath.Dir(jsonPath)
	for _, m := range f.Files {
		if m.Name == "" || m.Name != filepath.Base(m.Name) {
			return fmt.Errorf("%s: the set lists %q, not a file name", jsonPath, m.Name)
		}
		raw, err := os.ReadFile(filepath.Join(dir, m.Name))
		if err != nil {
			return fmt.Errorf("%s: the set's %w", jsonPath, err)
		}
		if sum := sha256.Sum256(raw); len(raw) != m.Bytes || hex.EncodeToString(sum[:]) != m.SHA256 {
			return fmt.Errorf("%s: the set's %s is not the file written (%d bytes, want %d)", jsonPath, m.Name, len(raw), m.Bytes)
		}
	}
	return nil
}

// Read loads a snapshot JSON file of schema v2 or v1 (converted to v2),
// refusing anything else.
func Read(path string) (*File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse reads a snapshot document of schema v2 or v1 (converted to v2);
// anything else is ErrNotSnapshot.
func Parse(raw []byte) (*File, error) {
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotSnapshot, err)
	}
	var f *File
	var err error
	switch head.Schema {
	case Schema:
		f = &File{}
		err = json.Unmarshal(raw, f)
	case SchemaV1:
		f, err = readV1(raw)
	default:
		return nil, fmt.Errorf("%w: schema %q; this benchtop reads %q and %q", ErrNotSnapshot, head.Schema, Schema, SchemaV1)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotSnapshot, err)
	}
	if f.Metrics == nil || f.Status == nil {
		return nil, fmt.Errorf("%w: it lacks its metrics or status", ErrNotSnapshot)
	}
	return f, nil
}

// fileV1 is the v1 layout: the engine's status with Go field names and the
// run state and error as strings.
type fileV1 struct {
	Created  time.Time               `json:"created"`
	Workload string                  `json:"workload"`
	Status   *statusV1               `json:"status"`
	Changes  []metrics.Marker        `json:"changes"`
	Metrics  *metrics.Snapshot       `json:"metrics"`
	GPU      *gpumon.State           `json:"gpu"`
	Segments []Segment               `json:"segments"`
	Requests []metrics.RequestRecord `json:"requests"`
}

type statusV1 struct {
	Config engine.Config
	Plan   engine.MemoryPlan
	Device struct {
		Backend, Name string
		MemoryBytes   int64
		CUDAGraphs    bool
	}
	Model                         string
	Synthetic                     bool
	Params                        int64
	State, Err                    string
	Ceilings                      struct{ BandwidthBytesPerSec, MatmulFlopsPerSec float64 }
	MatmulFLOPsPerToken           float64
	AttentionFLOPsPerContextToken float64
}

func readV1(raw []byte) (*File, error) {
	var v fileV1
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	f := &File{Schema: Schema, Created: v.Created, Workload: v.Workload, Changes: v.Changes, Metrics: v.Metrics,
		GPU: v.GPU, Segments: v.Segments, Requests: v.Requests}
	if s := v.Status; s != nil {
		f.Status = &report.Status{Model: s.Model, Synthetic: s.Synthetic, Params: s.Params, State: s.State, Err: s.Err,
			Device: report.Device{Backend: s.Device.Backend, Name: s.Device.Name, MemoryBytes: s.Device.MemoryBytes, CUDAGraphs: s.Device.CUDAGraphs},
			Config: report.ConfigOf(s.Config), Memory: report.MemoryOf(s.Plan),
			BandwidthBytesPerSec: s.Ceilings.BandwidthBytesPerSec, MatmulFlopsPerSec: s.Ceilings.MatmulFlopsPerSec,
			MatmulFLOPsPerToken: s.MatmulFLOPsPerToken, AttentionFLOPsPerContextToken: s.AttentionFLOPsPerContextToken}
	}
	return f, nil
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) }

func seriesCSV(f *File) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"t_s", "output_tps", "rps", "ttft_p50_ms", "ttft_p99_ms", "batch_occupancy", "kv_usage",
		"running", "waiting", "preemptions_total", "gpu_util_pct", "gpu_mem_used_bytes", "gpu_power_w"})
	var hist []gpumon.Sample
	if f.GPU != nil {
		hist = f.GPU.History
	}
	gi := 0
	if f.Metrics != nil {
		for _, p := range f.Metrics.Series {
			at := f.Metrics.Start.Add(p.T)
			for gi+1 < len(hist) && !hist[gi+1].Time.After(at) {
				gi++
			}
			util, mem, pow := "", "", ""
			if gi < len(hist) && len(hist[gi].GPUs) > 0 {
				g := hist[gi].GPUs[0]
				util, mem, pow = fmt.Sprint(g.UtilPct), fmt.Sprint(g.MemUsedBytes), fmt.Sprint(g.PowerW)
			}
			w.Write([]string{strconv.FormatFloat(p.T.Seconds(), 'f', 3, 64), strconv.FormatFloat(p.OutputTPS, 'f', 2, 64),
				strconv.FormatFloat(p.RPS, 'f', 3, 64), ms(p.TTFTP50), ms(p.TTFTP99), strconv.FormatFloat(p.Occupancy, 'f', 4, 64),
				strconv.FormatFloat(p.KVUsage, 'f', 4, 64), strconv.Itoa(p.Running), strconv.Itoa(p.Waiting),
				strconv.Itoa(p.Preempts), util, mem, pow})
		}
	}
	w.Flush()
	return b.Bytes()
}

func markdown(f *File) []byte {
	var b strings.Builder
	st, m := f.Status, f.Metrics
	fmt.Fprintf(&b, "# benchtop session, %s\n\n", f.Created.Format(time.RFC3339))
	if st != nil {
		syn := ""
		if st.ModelNote != "" {
			syn = " (" + st.ModelNote + ")"
		} else if st.Synthetic {
			syn = " (synthetic weights)"
		}
		c := st.Config
		fmt.Fprintf(&b, "- Model: %s%s\n- Device: %s (%s)\n- Workload: %s\n", st.Model, syn, st.Device.Name, st.Device.Backend, f.Workload)
		fmt.Fprintf(&b, "- Settings: max_num_seqs %d, max_num_batched_tokens %d, gpu_memory_utilization %.2f, block size %d, enforce_eager %v\n",
			c.MaxNumSeqs, c.MaxNumBatchedTokens, c.GPUMemoryUtilization, c.BlockSize, c.EnforceEager)
		fmt.Fprintf(&b, "- Memory budget: weights %s, activations %s, KV cache %s (%d blocks)\n",
			engine.FormatBytes(st.Memory.WeightBytes), engine.FormatBytes(st.Memory.ActivationBytes), engine.FormatBytes(st.Memory.KVBytes), st.Memory.NumBlocks)
	}
	if f.GPU != nil && f.GPU.Driver != "" {
		fmt.Fprintf(&b, "- Driver: %s\n", f.GPU.Driver)
	}
	if m != nil {
		fmt.Fprintf(&b, "\n## Totals after %s\n\n| metric | value |\n| --- | --- |\n", m.Elapsed.Round(time.Second))
		fmt.Fprintf(&b, "| requests finished | %d |\n| output tokens | %d |\n| preemptions | %d |\n", m.Finished, m.OutputTokens, m.Preemptions)
		for _, x := range report.FailuresOf(m.Finishes, nil) {
			what := "failed (" + x.Finish + ")"
			if x.Finish == report.Truncated {
				what = "truncated (output cut at max_model_len)"
			}
			fmt.Fprintf(&b, "| %s | %d |\n", what, x.Count)
		}
		fmt.Fprintf(&b, "| output tok/s (last %s) | %.1f |\n", m.Window.Round(time.Second), m.OutputTPS)
		for _, d := range []struct {
			n string
			d metrics.Dist
		}{{"TTFT", m.TTFT}, {"TPOT", m.TPOT}, {"ITL", m.ITL}, {"E2E", m.E2E}} {
			fmt.Fprintf(&b, "| %s p50 / p90 / p99 (ms, n=%d) | %s / %s / %s |\n", d.n, d.d.Count, ms(d.d.P50), ms(d.d.P90), ms(d.d.P99))
		}
	}
	if len(f.Segments) > 0 {
		b.WriteString("\n## Segments\n\n| # | change | requests | output tok/s | TTFT p50 ms | TTFT p99 ms | TPOT p50 ms | E2E p50 ms |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
		for _, s := range f.Segments {
			fmt.Fprintf(&b, "| %d | %s | %d | %.1f | %s | %s | %s | %s |\n", s.Index, s.What, s.Requests, s.OutputTPS,
				ms(s.TTFTP50), ms(s.TTFTP99), ms(s.TPOTP50), ms(s.E2EP50))
		}
	}
	return []byte(b.String())
}
