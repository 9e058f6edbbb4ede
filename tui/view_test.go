package tui

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"benchtop/engine"
	"benchtop/gpumon"
	"benchtop/metrics"
	"benchtop/session"
	"benchtop/snapshot"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, got string) {
	t.Helper()
	path := filepath.Join("testdata", t.Name()+".golden") // testdata/<Test>/<case>.golden
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -update)", err)
	}
	if string(want) != got {
		t.Errorf("differs from %s:\n%s", path, got)
	}
}

// viewCase is a screen: a model over a frame, prepared.
type viewCase struct {
	name string
	make func() Model
}

func live(f *session.Frame, prep func(*Model)) func() Model {
	return func() Model {
		m := New(&recorder{frame: f})
		if prep != nil {
			prep(&m)
		}
		return m
	}
}

func viewCases() []viewCase {
	return []viewCase{
		{"gpu", live(fixedFrame(), nil)},
		{"no-gpu", live(cpuFrame(), nil)},
		{"help", live(fixedFrame(), func(m *Model) { m.setMode(true, false) })},
		{"picker", live(fixedFrame(), func(m *Model) { m.setMode(false, true); m.pick = 9 })},
		{"engine-error", live(func() *session.Frame {
			f := fixedFrame()
			st := *f.Status
			st.State, st.Err = engine.StateFailed, errors.New("execute step 12 (8192 tokens, 256 sequences): CUDA error 700 (an illegal memory access was encountered) in kernel paged_attention_v2 grid (256,32,1)")
			f.Status = &st
			return f
		}(), nil)},
	}
}

// extraCases are drawn at 80×24 only.
func extraCases() []viewCase {
	return []viewCase{
		{"long-step", live(func() *session.Frame {
			f := cpuFrame()
			f.Progress = session.Progress{InStep: true, Since: f.Time.Add(-47 * time.Second)}
			return f
		}(), func(m *Model) { m.status = "max_num_seqs=20… (after the step in progress)" })},
		{"switching", live(func() *session.Frame {
			f := cpuFrame()
			st := *f.Status
			st.State = engine.StateSwitching
			f.Status = &st
			f.Progress = session.Progress{Switching: true, Since: f.Time.Add(-12 * time.Second)}
			return f
		}(), nil)},
		{"missing", live(func() *session.Frame {
			f := fixedFrame()
			s := *f.Metrics
			s.TTFT, s.TPOT, s.ITL, s.E2E, s.Queue, s.StepTime, s.StepPhases = metrics.Dist{}, metrics.Dist{}, metrics.Dist{}, metrics.Dist{}, metrics.Dist{}, metrics.Dist{}, metrics.StepPhases{}
			s.Steps, s.LastStep, s.Series = 0, metrics.Step{}, nil
			f.Metrics = &s
			g := gpumon.GPU{Index: 0, UtilPct: -1, MemUsedBytes: -1, MemTotalBytes: -1, PowerW: -1, TempC: -1, SMClockMHz: -1, EnergyJ: -1}
			f.GPU = &gpumon.State{Available: true, Interval: 250 * time.Millisecond, History: []gpumon.Sample{{Time: t0, GPUs: []gpumon.GPU{g}}}}
			f.Segments = []snapshot.Segment{{Index: 0, What: "start"}, {Index: 1, What: "workload=chat"}}
			return f
		}(), nil)},
		{"no-nvml", live(func() *session.Frame {
			f := cpuFrame()
			f.GPU = &gpumon.State{Reason: "no NVML: this benchtop was built with CGO_ENABLED=0 and go-nvml needs cgo"}
			return f
		}(), nil)},
		{"viewer", func() Model { return NewViewer(fixedFrame()) }},
		{"viewer-help", func() Model { m := NewViewer(fixedFrame()); m.setMode(true, false); return m }},
		{"remote", live(func() *session.Frame {
			f := fixedFrame()
			f.Caps = session.Caps{}
			return f
		}(), nil)},
		{"long-folder", live(func() *session.Frame {
			f := fixedFrame()
			st := *f.Status
			st.Model, st.Synthetic, st.ModelNote = "/data/checkpoints/Qwen3-0.6B-Instruct-2507-long-context-finetune-v3", false, ""
			f.Status = &st
			return f
		}(), func(m *Model) {
			m.status = "wrote /tmp/snaps/benchtop-snapshot-20261127-120000.000.json, .csv, .md"
		})},
	}
}

var sizes = [][2]int{{80, 24}, {100, 30}, {120, 40}}

func TestView(t *testing.T) {
	type run struct {
		c    viewCase
		w, h int
	}
	var runs []run
	for _, c := range viewCases() {
		for _, s := range sizes {
			runs = append(runs, run{c, s[0], s[1]})
		}
	}
	for _, c := range extraCases() {
		runs = append(runs, run{c, 80, 24})
	}
	runs = append(runs, run{viewCases()[0], 200, 50}, run{viewCases()[0], 60, 20})
	wide := map[string]string{} // each case drawn wide once: its words
	for _, r := range runs {
		t.Run(fmt.Sprintf("%s-%dx%d", r.c.name, r.w, r.h), func(t *testing.T) {
			m := r.c.make()
			m.SetSize(r.w, r.h)
			plain := ansi.Strip(m.Render())
			lines := strings.Split(plain, "\n")
			if r.w >= MinWidth && len(lines) != r.h {
				t.Errorf("%d lines for a terminal of %d", len(lines), r.h)
			}
			for i, l := range lines {
				if lipgloss.Width(l) > r.w {
					t.Errorf("line %d is %d wide in %d: %q", i, lipgloss.Width(l), r.w, l)
				}
			}
			if r.w >= MinWidth {
				if _, ok := wide[r.c.name]; !ok {
					w := r.c.make()
					w.SetSize(400, 40)
					wide[r.c.name] = ansi.Strip(w.Render())
				}
				checkWholeWords(t, plain, wide[r.c.name])
			}
			golden(t, plain)
		})
	}
}

// glyphs are the charts' and boxes' characters: tokens of them only are
// drawings, not words.
const glyphs = "▁▂▃▄▅▆▇█▲─│═║╔╗╚╝▸•·…←→"

// shortForms are the words that only the narrow layouts' shorter forms
// use (the wide render has the long ones).
var shortForms = map[string]bool{"(synthetic)": true, "sched": true, "fwd": true, "dev": true, "(n=1190)": true, "(n=0)": true,
	"cuda": true, "cpu": true, "tokens": true, "memory": true, "+1": true, "GPUs": true, "step": true, "see": true}

// checkWholeWords fails when a word of got is not a word of the same
// screen drawn 400 columns wide: a word cut in two at the edge.
func checkWholeWords(t *testing.T, got, wide string) {
	t.Helper()
	vocab := map[string]bool{}
	for _, w := range strings.Fields(wide) {
		vocab[strings.TrimRight(strings.TrimSuffix(w, "…"), ",;:")] = true
	}
	for i, l := range strings.Split(got, "\n") {
		for _, w := range strings.Fields(l) {
			cut := strings.HasSuffix(w, "…")
			w = strings.TrimRight(strings.TrimSuffix(w, "…"), ",;:") // a part cut at a word boundary
			if w == "" || strings.Trim(w, glyphs) == "" || vocab[w] || shortForms[w] || cut && namePrefix(vocab, w) {
				continue
			}
			t.Errorf("line %d: %q is not a whole word: %q", i, w, l)
		}
	}
}

// namePrefix says whether w is a name of vocab cut after one of its "-" or
// "_" (the words of a name).
func namePrefix(vocab map[string]bool, w string) bool {
	if !strings.HasSuffix(w, "-") && !strings.HasSuffix(w, "_") {
		return false
	}
	for v := range vocab {
		if strings.HasPrefix(v, w) {
			return true
		}
	}
	return false
}

// TestFooterFitsEveryWidth draws the footer with and without a status line
// at every width from the minimum to 200: bubbles' own legend truncation
// let the legend run past the edge at some widths (120 with a short status)
// when its "…" did not fit.
func TestFooterFitsEveryWidth(t *testing.T) {
	for _, status := range []string{"", "max_num_seqs=10", "paused", "wrote /tmp/snaps/benchtop-snapshot-20261127-120000.000.json, .csv, .md"} {
		for w := MinWidth; w <= 200; w++ {
			m := New(&recorder{frame: cpuFrame()})
			m.SetSize(w, 30)
			m.status = status
			got := ansi.Strip(m.footer())
			if lipgloss.Width(got) != w {
				t.Errorf("status %q, width %d: footer is %d wide: %q", status, w, lipgloss.Width(got), got)
			}
			if !strings.Contains(got, "? help • q quit") {
				t.Errorf("status %q, width %d: footer lost help and quit: %q", status, w, got)
			}
		}
	}
}

// The segment before the latest gives way whole: a piece of it left
// without its "← before:" read as the latest segment's ("TTFT p50 —, TPOT
// p50 —, TTFT p50 —" at 80 columns).
func TestSegmentLineKeepsTheSegmentBeforeWhole(t *testing.T) {
	f := cpuFrame()
	f.Segments = []snapshot.Segment{{Index: 0, What: "start", Requests: 5, OutputTPS: 190, TTFTP50: 14 * time.Second, TPOTP50: 145 * time.Millisecond},
		{Index: 1, What: "max_num_seqs=50", OutputTPS: 117.1}, {Index: 2, What: "gpu_memory_utilization=0.95", OutputTPS: 14.4}}
	for w := MinWidth; w <= 200; w++ {
		m := New(&recorder{frame: f})
		m.SetSize(w, 24)
		got := strings.TrimRight(ansi.Strip(m.segmentLine()), " ")
		latest, before, hasBefore := strings.Cut(got, "  ← before: ")
		if strings.Count(latest, "TTFT p50") > 1 || strings.Count(latest, "#") != 1 || !strings.HasPrefix(latest, "#2 gpu_memory_utilization=0.95: 14.4 tok/s") {
			t.Errorf("width %d: the latest segment is %q", w, latest)
		}
		if hasBefore && !strings.HasPrefix(before, "#1 max_num_seqs=50: ") {
			t.Errorf("width %d: the segment before is %q", w, before)
		}
	}
}
