package cli

import (
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"benchtop/engine"
	"benchtop/metrics"
	"benchtop/report"
	"benchtop/session"
	"benchtop/snapshot"
	"benchtop/tui"
)

// The --config parser never panics, and what it accepts is a named
// configuration the engine validates. Seeds: issue 13's sizes and
// malformed specs.
func FuzzParseVariant(f *testing.F) {
	for _, s := range []string{"big:max-num-seqs=64,gpu-memory-utilization=0.95", "x:max-num-batched-tokens=288230376151711745",
		"x:max-num-seqs=99999999999999999999", "x:gpu-memory-utilization=NaN", "x:gpu-memory-utilization=1e308", "x:block-size=-1",
		"x:enforce-eager=maybe", ":max-num-seqs=4", "a:b", "x:max-model-len=1e18", "x:--chunked-prefill=false,", "x:=,=,", "x"} {
		f.Add(s)
	}
	base := engine.DefaultConfig()
	f.Fuzz(func(t *testing.T, spec string) {
		v, err := parseVariant(spec, base)
		if err != nil {
			return
		}
		if v.Name == "" {
			t.Fatalf("%q: accepted without a name", spec)
		}
		if err := v.Config.Validate(); err != nil {
			t.Fatalf("%q: accepted an invalid configuration: %v", spec, err)
		}
	})
}

// The --values parser never panics, and what it accepts is within the
// knob's bounds.
func FuzzParseSweepValues(f *testing.F) {
	for _, s := range []string{"1,5,10,20,50,100", "1e15", "inf", "NaN", "-1", "0x10", "1e-300", "25,50,,100", "4096.5", "1_000"} {
		for _, over := range []string{"batch", "rate", "concurrency"} {
			f.Add(over, s)
		}
	}
	f.Fuzz(func(t *testing.T, over, s string) {
		vals, err := parseSweepValues(over, s)
		if err != nil {
			return
		}
		for _, v := range vals {
			if !(v > 0) || math.IsInf(v, 0) || over != "rate" && v != math.Trunc(v) || v > session.MaxRequests && over != "rate" {
				t.Fatalf("%s %q: accepted %g", over, s, v)
			}
		}
	})
}

// diff reads any two JSON documents (reports, snapshots) without a panic.
// Seeds: a run report as written, a snapshot, and issue 13's null-to-40.
func FuzzDiff(f *testing.F) {
	util := 40.0
	run := report.Run{Header: report.Header{SchemaVersion: report.SchemaVersion, GPUUtilizationPct: &util},
		Measures: report.MeasuresOf(metrics.Summary{Requests: 3, Finishes: map[string]int{"length": 2, "rejected": 1}}, 1e9,
			[]report.Failure{{Finish: "rejected", Count: 1, Example: "r-1: too long"}}, nil)}
	doc, _ := json.Marshal(run)
	for _, p := range [][2]string{
		{`{"gpu_utilization_pct": null}`, `{"gpu_utilization_pct": 40}`},
		{string(doc), `{"schema_version": 2, "results": [{"value": 1}], "partial": true}`},
		{`{"schema":"benchtop.snapshot/v2","metrics":{"finished":3}}`, `{"schema":"benchtop.snapshot/v2","metrics":{"series":[1,2,3]}}`},
		{`[1, [2, [3]]]`, `{"a": {"b": {"c": null}}}`},
		{`{"": 1, ".": 2}`, `{"a.b": 1, "a": {"b": 2}}`},
	} {
		f.Add([]byte(p[0]), []byte(p[1]))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		da, err := flattenJSON(a)
		if err != nil {
			return
		}
		db, err := flattenJSON(b)
		if err != nil {
			return
		}
		writeDiff(io.Discard, da, db, true)
	})
}

// view reopens any snapshot the reader accepts without a panic, at a wide
// and a narrow size. Seeds: a snapshot written by the session and the
// snapshot reader's hostile ones.
func FuzzView(f *testing.F) {
	for _, s := range []string{
		`{"schema":"benchtop.snapshot/v2","status":{},"metrics":{}}`,
		`{"schema":"benchtop.snapshot/v2","status":{"state":"exploded","memory":{"kv_blocks":-1,"block_size":0}},"metrics":{"elapsed_ns":-9223372036854775808,"window_ns":9223372036854775807,"finished":-5,"running":-3,"kv_usage":-1e308,"batch_occupancy":1e308,"series":[{"t_ns":-1,"output_tps":1e308,"kv_usage":-5}],"finishes":{"":-1}},"segments":[{"index":-1,"requests":-9}]}`,
		`{"schema":"benchtop.snapshot/v1","status":{"Plan":{"KVDType":99,"BlockSize":-3},"State":"nope"},"metrics":{"series":null}}`,
	} {
		f.Add([]byte(s))
	}
	if seeds, _ := filepath.Glob(filepath.Join("testdata", "snapshots", "*.json")); len(seeds) > 0 {
		for _, p := range seeds {
			raw, _ := os.ReadFile(p)
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		sf, err := snapshot.Parse(raw)
		if err != nil {
			return
		}
		done := make(chan string, 1)
		go func() {
			var m tea.Model = tui.NewViewer(session.FrameOf(sf, "fuzz.json"))
			for _, size := range [][2]int{{132, 43}, {80, 24}} {
				m, _ = m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				if v := m.View(); strings.Contains(v.Content, "\x00") {
					done <- "a NUL in the view"
					return
				}
			}
			done <- ""
		}()
		select {
		case msg := <-done:
			if msg != "" {
				t.Fatal(msg)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the view did not draw within 10 s")
		}
	})
}
