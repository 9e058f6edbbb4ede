package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"benchtop/gpumon"
	"benchtop/report"
)

// The header shows the whole fleet, not only its first server: the count,
// how many are up, and the first one up, in the forms each width allows.
func TestHeaderShowsTheFleet(t *testing.T) {
	three := func(up ...bool) func() *Model {
		return func() *Model {
			f := fleetFrame()
			f.Targets = append(f.Targets, report.Target{URL: "http://10.1.2.3:30000", API: "completions", Model: "tiny"})
			f.Sources = append(f.Sources, report.Source{Index: 2, Name: "http://10.1.2.3:30000", Kind: "server"})
			for i := range f.Sources {
				f.Sources[i].Up = up[i]
			}
			m := New(&recorder{frame: f})
			return &m
		}
	}
	for _, c := range []struct {
		name  string
		model func() *Model
		w     int
		want  string
	}{
		{"all up, wide", three(true, true, true), 160, "│ remote: 3 servers: http://127.0.0.1:8000 +2"},
		{"all up, 80 columns", three(true, true, true), 80, "│ 3 servers"},
		{"one down, wide", three(true, false, true), 160, "│ remote: 3 servers (2 up): http://127.0.0.1:8000 +2"},
		{"one down, 80 columns", three(true, false, true), 80, "│ 3 servers, 2 up"},
		{"the first down: the first one up is named", three(false, true, true), 160, "(2 up): http://127.0.0.1:8001 +2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := c.model()
			m.SetSize(c.w, 40)
			head := strings.SplitN(ansi.Strip(m.Render()), "\n", 2)[0]
			if !strings.Contains(head, c.want) || ansi.StringWidth(head) > c.w {
				t.Fatalf("header %q (%d cells of %d) lacks %q", head, ansi.StringWidth(head), c.w, c.want)
			}
		})
	}
}

// Against servers this machine's GPU utilization means nothing: with NVML
// present the panels are the client's CPU and memory, never GPU0's.
func TestRemotePanelsAreTheClients(t *testing.T) {
	f := fleetFrame()
	hist := append([]gpumon.Sample(nil), f.GPU.History...)
	for i := range hist {
		hist[i].Process = &gpumon.Process{CPUPct: 30, Cores: 2, RSSBytes: 300 << 20}
	}
	f.GPU = &gpumon.State{Available: true, Driver: f.GPU.Driver, Interval: f.GPU.Interval, History: hist}
	m := New(&recorder{frame: f})
	m.SetSize(160, 45)
	out := ansi.Strip(m.Render())
	if strings.Contains(out, "GPU0") || strings.Contains(out, "util") || !strings.Contains(out, "Client CPU of 2 cores") ||
		!strings.Contains(out, "Client memory (RSS, in use)") {
		t.Fatalf("remote panels:\n%s", out)
	}
	// Without the process's counters: the GPU panel says why it has none.
	f.GPU = &gpumon.State{Available: true, Interval: f.GPU.Interval, History: fleetFrame().GPU.History}
	m = New(&recorder{frame: f})
	m.SetSize(160, 45)
	if out := ansi.Strip(m.Render()); strings.Contains(out, "GPU0") || !strings.Contains(out, "n/a (remote target") {
		t.Fatalf("remote panels without process counters:\n%s", out)
	}
}
