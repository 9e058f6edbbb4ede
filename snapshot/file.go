package snapshot

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"benchtop/engine"
	"benchtop/metrics"
)

// Schema names the JSON layout; a reader refuses any other.
const Schema = "benchtop.snapshot/v1"

// File is a whole session as exported. Durations are nanoseconds, times
// RFC 3339; the layout is documented in README.md ("Snapshots").
type File struct {
	Schema   string                  `json:"schema"`
	Created  time.Time               `json:"created"`
	Workload string                  `json:"workload"`
	Status   *engine.Status          `json:"status"`  // model, device, settings, memory plan
	Changes  []metrics.Marker        `json:"changes"` // settings and workload changes, in order
	Metrics  *metrics.Snapshot       `json:"metrics"` // final numbers and every time series
	GPU      *GPUState               `json:"gpu"`
	Segments []Segment               `json:"segments"`
	Requests []metrics.RequestRecord `json:"requests"`
}

// FromFrame builds a File from a frame and the finished requests.
func FromFrame(f Frame, reqs []metrics.RequestRecord, at time.Time) *File {
	out := &File{Schema: Schema, Created: at.UTC(), Workload: f.Workload, Status: f.Status, Metrics: f.Metrics,
		GPU: f.GPU, Segments: f.Segments, Requests: reqs}
	if f.Metrics != nil {
		out.Changes = f.Metrics.Markers
	}
	return out
}

// Frame reopens the file as a read-only dashboard frame.
func (f *File) Frame(source string) Frame {
	return Frame{Metrics: f.Metrics, Status: f.Status, GPU: f.GPU, Segments: f.Segments, Workload: f.Workload,
		ReadOnly: true, Source: source}
}

// Write writes base.json, base.csv and base.md, each atomically, and
// returns their paths.
func Write(base string, f *File) ([]string, error) {
	js, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return nil, fmt.Errorf("encode snapshot: %w", err)
	}
	files := []struct {
		path string
		data []byte
	}{{base + ".json", append(js, '\n')}, {base + ".csv", seriesCSV(f)}, {base + ".md", markdown(f)}}
	var out []string
	for _, x := range files {
		if err := WriteFileAtomic(x.path, x.data); err != nil {
			return out, err
		}
		out = append(out, x.path)
	}
	return out, nil
}

// Read loads a snapshot JSON file, refusing other schemas.
func Read(path string) (*File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("%s is not a benchtop snapshot: %w", path, err)
	}
	if f.Schema != Schema {
		return nil, fmt.Errorf("%s has schema %q; this benchtop reads %q", path, f.Schema, Schema)
	}
	if f.Metrics == nil || f.Status == nil {
		return nil, fmt.Errorf("%s lacks its metrics or status", path)
	}
	return &f, nil
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) }

func seriesCSV(f *File) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"t_s", "output_tps", "rps", "ttft_p50_ms", "ttft_p99_ms", "batch_occupancy", "kv_usage",
		"running", "waiting", "preemptions_total", "gpu_util_pct", "gpu_mem_used_bytes", "gpu_power_w"})
	var hist []GPUSample
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
		fmt.Fprintf(&b, "- Memory: weights %s, activations %s, KV cache %s (%d blocks)\n",
			engine.FormatBytes(st.Plan.WeightBytes), engine.FormatBytes(st.Plan.ActivationBytes), engine.FormatBytes(st.Plan.KVBytes), st.Plan.NumBlocks)
	}
	if f.GPU != nil && f.GPU.Driver != "" {
		fmt.Fprintf(&b, "- Driver: %s\n", f.GPU.Driver)
	}
	if m != nil {
		fmt.Fprintf(&b, "\n## Totals after %s\n\n| metric | value |\n| --- | --- |\n", m.Elapsed.Round(time.Second))
		fmt.Fprintf(&b, "| requests finished | %d |\n| output tokens | %d |\n| preemptions | %d |\n", m.Finished, m.OutputTokens, m.Preemptions)
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
