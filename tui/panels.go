package tui

import (
	"fmt"
	"math"
	"time"

	"benchtop/gpumon"
	"benchtop/metrics"
)

func num(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.1f", v)
}

func pct(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }

func pct100(v float64) string { return fmt.Sprintf("%.0f%%", v) }

func msec(v float64) string { return fmt.Sprintf("%.1fms", v) }

func gb(v float64) string { return fmt.Sprintf("%.1fGB", v/1e9) }

func mib(v float64) string {
	if v >= 1<<30 {
		return fmt.Sprintf("%.2fGiB", v/(1<<30))
	}
	return fmt.Sprintf("%.0fMiB", v/(1<<20))
}

// known is v, or NaN where a counter says -1 (not offered).
func known(v float64) float64 {
	if v < 0 {
		return math.NaN()
	}
	return v
}

// field is a counter with its unit, "—" when unknown.
func field(v float64, format string) string {
	if v < 0 || math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf(format, v)
}

// buildPanels is the charts: engine series from the metrics, then
// utilization and memory for up to maxGPUs GPUs from NVML — or, without
// NVML, the process's CPU use and resident memory.
func (m Model) buildPanels(maxGPUs int) []series {
	f := m.frame
	var pts []metrics.Point
	var marks []int
	window := ""
	if f.Metrics != nil {
		pts = f.Metrics.Series
		for _, mk := range f.Metrics.Markers {
			at := mk.Time.Sub(f.Metrics.Start)
			for i, p := range pts {
				if p.T >= at {
					marks = append(marks, i)
					break
				}
			}
		}
		if len(pts) > 0 {
			window = (pts[len(pts)-1].T - pts[0].T).Round(time.Second).String()
		}
	}
	pick := func(f func(metrics.Point) float64) []float64 {
		out := make([]float64, len(pts))
		for i, p := range pts {
			out[i] = f(p)
		}
		return out
	}
	tps := series{title: "Output tok/s", unit: num, values: pick(func(p metrics.Point) float64 { return p.OutputTPS }), markers: marks, window: window}
	ttft := series{title: "TTFT p50", unit: msec, markers: marks, window: window,
		values: pick(func(p metrics.Point) float64 {
			if p.TTFTP50 == 0 { // no first token in the window
				return math.NaN()
			}
			return metrics.Ms(p.TTFTP50)
		})}
	occ := series{title: "Batch occupancy", unit: pct, values: pick(func(p metrics.Point) float64 { return p.Occupancy }), markers: marks, window: window}
	kv := series{title: "KV usage", unit: pct, values: pick(func(p metrics.Point) float64 { return p.KVUsage }), markers: marks, window: window}
	if s := f.Metrics; s != nil && s.Steps > 0 {
		occ.title = fmt.Sprintf("Batch %d/%d", s.LastStep.NumSeqs, s.LastStep.MaxNumSeqs)
		kv.title = fmt.Sprintf("KV %d/%d", s.KVUsed, s.KVTotal)
	}
	var pre []int
	for i := 1; i < len(pts); i++ {
		if pts[i].Preempts > pts[i-1].Preempts {
			pre = append(pre, i)
		}
	}
	kv.markers = append(append([]int(nil), marks...), pre...)
	if q, k, ok := m.serverCharts(); ok { // tui/sources.go: against servers, their queue and KV usage
		occ, kv = q, k
	}
	return append([]series{tps, ttft, occ, kv}, m.devicePanels(maxGPUs)...)
}

// devicePanels is two panels per GPU from NVML, or the process's CPU and
// memory where NVML has no data.
func (m Model) devicePanels(maxGPUs int) []series {
	g := m.frame.GPU
	if m.remote() {
		// This machine's GPUs are not the servers': against a remote target
		// the panels are the client's own CPU and memory.
		if g.HasProcess() {
			return processPanels(g, "Client CPU of %d cores", "Client memory (RSS, in use)")
		}
		return []series{{title: "GPU utilization", unit: pct100, note: "n/a (remote target: the servers' GPUs are their own)"},
			{title: "Client memory", unit: mib, note: "no process counters on this system"}}
	}
	if g == nil || !g.Available {
		if g.HasProcess() {
			return processPanels(g, "Process CPU of %d cores (no NVML)", "Process memory (RSS, in use)")
		}
		reason := "NVML: no data"
		if g != nil && g.Reason != "" {
			reason = "NVML: " + g.Reason
		}
		return []series{{title: "GPU utilization", unit: pct100, note: reason},
			{title: "GPU memory", unit: gb, note: "GPU panels need NVML (an NVIDIA driver)"}}
	}
	last := g.Latest()
	n := len(last.GPUs)
	window := historySpan(g)
	var out []series
	for i := 0; i < min(n, maxGPUs); i++ {
		util := series{unit: pct100, window: window}
		mem := series{unit: gb, window: window}
		for _, s := range g.History {
			if i < len(s.GPUs) {
				util.values = append(util.values, known(s.GPUs[i].UtilPct))
				mem.values = append(mem.values, known(float64(s.GPUs[i].MemUsedBytes)))
			}
		}
		x := last.GPUs[i]
		util.title = fmt.Sprintf("GPU%d %s %s %s util", x.Index, field(x.PowerW, "%.0fW"), field(x.TempC, "%.0f°C"), field(x.SMClockMHz, "%.0fMHz"))
		mem.title = fmt.Sprintf("GPU%d memory of —", x.Index)
		if x.MemTotalBytes >= 0 {
			mem.title = fmt.Sprintf("GPU%d memory of %.0fGB", x.Index, float64(x.MemTotalBytes)/1e9)
		}
		out = append(out, util, mem)
	}
	if n > maxGPUs { // first in the title, which gives way from its end
		last := &out[len(out)-2]
		last.title = fmt.Sprintf("+%d GPUs · ", n-maxGPUs) + last.title
	}
	return out
}

// processPanels is this process's CPU use (in percent of every core) and
// resident memory, from the samples that carry them; cpuTitle takes the
// number of cores.
func processPanels(g *gpumon.State, cpuTitle, rssTitle string) []series {
	window := historySpan(g)
	cpu := series{unit: pct100, window: window}
	rss := series{unit: mib, window: window, title: rssTitle}
	cores := 0
	for _, s := range g.History {
		if s.Process == nil {
			continue
		}
		cpu.values = append(cpu.values, known(s.Process.Share()))
		rss.values = append(rss.values, known(float64(s.Process.RSSBytes)))
		cores = s.Process.Cores
	}
	cpu.title = fmt.Sprintf(cpuTitle, cores)
	return []series{cpu, rss}
}

func historySpan(g *gpumon.State) string {
	if h := len(g.History); h > 1 {
		return g.History[h-1].Time.Sub(g.History[0].Time).Round(time.Second).String()
	}
	return ""
}
