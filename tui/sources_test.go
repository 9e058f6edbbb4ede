package tui

import (
	"math"
	"strings"
	"testing"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"benchtop/engine"
	"benchtop/kernels"
	"benchtop/report"
	"benchtop/servermetrics"
	"benchtop/session"
)

func f64(x float64) *float64 { return &x }

// replicaFrame is the fixed frame as two data-parallel replicas.
func replicaFrame() *session.Frame {
	f := fixedFrame()
	f.Policy = "least-outstanding"
	f.Sources = []report.Source{
		{Index: 0, Name: "replica 0 (GPU 0)", Kind: "replica", Up: true, OutputTPS: 34000, Running: f64(50), Waiting: f64(0), KVUsage: f64(0.011),
			StepP50: 790 * time.Microsecond, Finished: 6000, FailedByKind: map[string]int{}},
		{Index: 1, Name: "replica 1 (GPU 1)", Kind: "replica", Up: true, OutputTPS: 32606.5, Running: f64(50), Waiting: f64(2), KVUsage: f64(0.009),
			StepP50: 810 * time.Microsecond, Finished: 5900, Failed: 1, FailedByKind: map[string]int{"rejected": 1}},
	}
	f.Imbalance = report.Imbalance(f.Sources)
	return f
}

// fleetFrame is two servers, one of them down.
func fleetFrame() *session.Frame {
	f := fixedFrame()
	f.Caps = session.Caps{}
	f.Policy = "least-outstanding"
	f.Status = &engine.Status{Model: "tiny", Device: kernels.DeviceInfo{Backend: "remote", Name: "http://127.0.0.1:8000"}, State: engine.StateRunning}
	smp := &servermetrics.Sample{At: t0, Server: servermetrics.VLLM}
	smp.Values[servermetrics.Running] = servermetrics.Value{Exposed: true, Source: "vllm:num_requests_running", Value: 16}
	smp.Values[servermetrics.Waiting] = servermetrics.Value{Exposed: true, Source: "vllm:num_requests_waiting", Value: 3}
	smp.Values[servermetrics.KVUsage] = servermetrics.Value{Exposed: true, Source: "vllm:kv_cache_usage_perc", Value: 0.25}
	smp.Values[servermetrics.Preemptions] = servermetrics.Value{Exposed: true, Source: "vllm:num_preemptions_total"}
	f.Targets = []report.Target{
		{URL: "http://127.0.0.1:8000", API: "completions", Model: "tiny", Listed: []string{"tiny"}, Answered: "tiny", ContinuousUsage: true,
			Gauges: report.ServerGauges{MetricsURL: "http://127.0.0.1:8000/metrics", Interval: time.Second, Scrapes: 120, Latest: smp}},
		{URL: "http://127.0.0.1:8001", API: "completions", Model: "tiny", Listed: []string{"tiny"},
			Gauges: report.ServerGauges{MetricsURL: "http://127.0.0.1:8001/metrics", Interval: time.Second, Error: "connection refused"}},
	}
	for i := range 120 {
		x := float64(i)
		f.Targets[0].Gauges.Series = append(f.Targets[0].Gauges.Series, report.ServerPoint{At: t0.Add(time.Duration(i) * time.Second),
			Running: f64(16), Waiting: f64(float64(i % 7)), KVUsage: f64(0.2 + 0.1*math.Sin(x/10))})
	}
	f.Sources = []report.Source{
		{Index: 0, Name: "http://127.0.0.1:8000", Kind: "server", Up: true, OutputTPS: 1366, Running: f64(16), Waiting: f64(3), KVUsage: f64(0.25),
			ServerTTFTP50: 25 * time.Millisecond, ServerITLP50: 10400 * time.Microsecond, Finished: 118, Outstanding: 19, FailedByKind: map[string]int{}},
		{Index: 1, Name: "http://127.0.0.1:8001", Kind: "server", Up: false, Why: "dropped: unexpected EOF", Finished: 40, Failed: 3,
			FailedByKind: map[string]int{"dropped": 2, "connect": 1}},
	}
	f.Imbalance = report.Imbalance(f.Sources)
	return f
}

func TestSourcesView(t *testing.T) {
	cases := []struct {
		name  string
		frame func() *session.Frame
		w, h  int
		help  bool
	}{
		{"replicas-80x24", replicaFrame, 80, 24, false},
		{"replicas-160x45", replicaFrame, 160, 45, false},
		{"fleet-80x24", fleetFrame, 80, 24, false},
		{"fleet-160x45", fleetFrame, 160, 45, false},
		{"fleet-help-120x50", fleetFrame, 120, 50, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := New(&recorder{frame: c.frame()})
			m.showHelp = c.help
			m.SetSize(c.w, c.h)
			plain := ansi.Strip(m.Render())
			lines := strings.Split(plain, "\n")
			if len(lines) > c.h {
				t.Errorf("%d lines for a terminal of %d", len(lines), c.h)
			}
			for i, l := range lines {
				if lipgloss.Width(l) > c.w {
					t.Errorf("line %d is %d wide in %d: %q", i, lipgloss.Width(l), c.w, l)
				}
				// The panel's title: its rule runs to the edge, never cut
				// with "…" (which read as a cut imbalance).
				if strings.HasPrefix(l, "── ") && (strings.Contains(l, "…") || !strings.HasSuffix(l, "─")) {
					t.Errorf("title line %d is cut: %q", i, l)
				}
			}
			golden(t, plain)
		})
	}
}

// Against servers the settings keys do nothing and the header says why;
// one in-process engine has no sources panel.
func TestSourcesKeysAndPanel(t *testing.T) {
	r := &recorder{frame: fleetFrame()}
	m := New(r)
	m.SetSize(220, 40)
	for _, k := range []string{"+", "-", "m", "g", "p"} {
		next, cmd := m.Update(press(k))
		if cmd != nil {
			cmd()
		}
		m = next.(Model)
	}
	if len(r.calls) != 0 {
		t.Fatalf("settings keys against a server called %v", r.calls)
	}
	if out := ansi.Strip(m.Render()); !strings.Contains(out, "settings keys (+ - m g p) are off") || !strings.Contains(out, "DOWN") ||
		!strings.Contains(out, "3 (connect 1, dropped 2)") || !strings.Contains(out, "prefix cache ← not exposed by this server") {
		t.Fatalf("fleet view:\n%s", out)
	}
	// A client sees no engine steps, batch or memory plan: the numbers say
	// what it does see, and the bottleneck is the servers' (session's remote
	// rules), never an engine's.
	out := ansi.Strip(m.Render())
	for _, bad := range []string{"budget: weights", "step p50", "last step", "preempted", "batch-bound", "engine-bound", "no step"} {
		if strings.Contains(out, bad) {
			t.Errorf("the fleet's numbers show %q:\n%s", bad, out)
		}
	}
	for _, want := range []string{"19 in flight", "servers: 16 running · 3 waiting", "▸ server queue-bound: 3 waiting", "steps: the servers' own"} {
		if !strings.Contains(out, want) {
			t.Errorf("the fleet's numbers lack %q:\n%s", want, out)
		}
	}
	one := New(&recorder{frame: fixedFrame()})
	one.SetSize(120, 40)
	if p, _ := one.sourcesBlock(30); p != "" {
		t.Fatalf("one engine drew a sources panel: %q", p)
	}
}
