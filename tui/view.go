package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"benchtop/engine"
	"benchtop/metrics"
	"benchtop/snapshot"
)

// layout is how the chart area splits: its height, the panels' column
// width, and how many GPUs get panels.
func (m Model) layout() (bodyH, colW, maxGPUs int) {
	bodyH = m.height - 2 - 6 - 1 // header, numbers, footer
	return bodyH, (m.width - 1) / 2, max(1, bodyH/4-2)
}

// derive builds the charts' series from the frame for the current size:
// on the tick and on resize only, so View just reads them.
func (m *Model) derive() {
	if m.frame == nil {
		m.panels = nil
		return
	}
	_, colW, maxGPUs := m.layout()
	ps := m.buildPanels(maxGPUs)
	for i := range ps {
		ps[i] = ps[i].fitTo(colW)
	}
	m.panels = ps
}

// MinWidth and MinHeight are the smallest terminal the dashboard draws in.
const (
	MinWidth  = 80
	MinHeight = 24
)

// Definitions are the metric definitions the help overlay shows.
const Definitions = `TTFT: arrival → first output token (queueing included).
E2E: arrival → last token.  TPOT: (E2E − TTFT) / (output tokens − 1).
ITL: every gap between consecutive tokens of a request.
Throughput: over the sliding window shown; total counts prompt tokens too.
Batch occupancy: sequences in the step / max sequences per step.
KV usage: blocks in use / blocks allocated.  ▲ marks a change of settings.`

func (m Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	return v
}

// Render is the frame as text; View wraps it.
func (m Model) Render() string {
	if m.width < MinWidth || m.height < MinHeight {
		msg := fmt.Sprintf("benchtop needs a terminal of at least %d×%d; this one is %d×%d. Enlarge it, or press q to quit.",
			MinWidth, MinHeight, m.width, m.height)
		return lipgloss.NewStyle().Width(max(m.width, 10)).Render(msg)
	}
	header := m.header()
	footer := m.footer()
	numbers := m.numbers()
	bodyH := m.height - lipgloss.Height(header) - lipgloss.Height(numbers) - lipgloss.Height(footer)
	sources, bodyH := m.sourcesPanel(bodyH) // tui/sources.go: "" for one in-process engine
	var body string
	switch {
	case m.showHelp:
		body = m.overlay(m.helpText(), bodyH)
	case m.picking:
		body = m.overlay(m.pickerText(), bodyH)
	default:
		body = m.charts(bodyH)
	}
	return lipgloss.JoinVertical(lipgloss.Left, header, body+sources, numbers, footer)
}

func (m Model) header() string {
	f, st := m.frame, m.styles
	var parts []string
	state := "starting"
	if s := f.Status; s != nil {
		name := s.Model
		if s.ModelNote != "" {
			name += " (" + s.ModelNote + ")"
		} else if s.Synthetic {
			name += " (synthetic weights)"
		}
		parts = append(parts, name, s.Device.Backend+": "+s.Device.Name)
		state = s.State.String()
	}
	parts = append(parts, "workload "+f.Workload)
	var elapsed time.Duration
	if f.Metrics != nil {
		elapsed = f.Metrics.Elapsed
	}
	stateStyle := st.State
	if state != "running" {
		stateStyle = st.Paused
	}
	if f.ReadOnly {
		state = "snapshot"
	}
	// State and clock first: a narrow terminal cuts the device name, not them.
	line := st.Header.Render("benchtop") + " " + stateStyle.Render("● "+state) + " " + clock(elapsed) + " │ " +
		strings.Join(parts, " │ ")
	settings := m.remoteSettings() // tui/sources.go: "" unless the target is a server
	if s := f.Status; s != nil && settings == "" {
		c := s.Config
		mode := "CUDA graphs"
		if c.EnforceEager || !s.Device.CUDAGraphs {
			mode = "eager"
		}
		settings = fmt.Sprintf("max_num_seqs %d · gpu_memory_utilization %.2f · block %d · %s · KV %d blocks (%s)",
			c.MaxNumSeqs, c.GPUMemoryUtilization, c.BlockSize, mode, s.Plan.NumBlocks, engine.FormatBytes(s.Plan.KVBytes))
		if s.Err != nil {
			settings = st.Error.Render("engine error: " + s.Err.Error())
		}
	}
	return fit(line, m.width) + "\n" + fit(st.Settings.Render(settings), m.width)
}

func clock(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

func (m Model) charts(h int) string {
	_, colW, _ := m.layout()
	// Two rows of engine charts, then a row per GPU while each row keeps at
	// least four lines; GPUs beyond that are named in the last one's title.
	panels := m.panels
	if len(panels) == 0 {
		return strings.Repeat("\n", max(0, h-1))
	}
	rows := (len(panels) + 1) / 2
	ph := max(3, h/rows)
	var lines []string
	for r := 0; r < rows; r++ {
		left := panels[2*r].render(m.styles, colW, ph)
		right := ""
		if 2*r+1 < len(panels) {
			right = panels[2*r+1].render(m.styles, colW, ph)
		}
		lines = append(lines, lipgloss.JoinHorizontal(lipgloss.Top, left, " ", right))
	}
	out := lipgloss.JoinVertical(lipgloss.Left, lines...)
	for lipgloss.Height(out) < h {
		out += "\n"
	}
	return out
}

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

func msec(v float64) string { return fmt.Sprintf("%.1fms", v) }

// panels are the charts: engine series from the metrics, then utilization
// and memory for up to maxGPUs GPUs from NVML.
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
	ttft := series{title: "TTFT p50", unit: msec, values: pick(func(p metrics.Point) float64 { return metrics.Ms(p.TTFTP50) }), markers: marks, window: window}
	occ := series{title: "Batch occupancy", unit: pct, values: pick(func(p metrics.Point) float64 { return p.Occupancy }), markers: marks, window: window}
	kv := series{title: "KV usage", unit: pct, values: pick(func(p metrics.Point) float64 { return p.KVUsage }), markers: marks, window: window}
	if f.Metrics != nil {
		occ.title = fmt.Sprintf("Batch %d/%d", f.Metrics.LastStep.NumSeqs, f.Metrics.LastStep.MaxNumSeqs)
		kv.title = fmt.Sprintf("KV %d/%d", f.Metrics.KVUsed, f.Metrics.KVTotal)
		var pre []int
		for i := 1; i < len(pts); i++ {
			if pts[i].Preempts > pts[i-1].Preempts {
				pre = append(pre, i)
			}
		}
		kv.markers = append(append([]int(nil), marks...), pre...)
	}
	if q, k, ok := m.serverCharts(); ok { // tui/sources.go: against servers, their queue and KV usage
		occ, kv = q, k
	}
	return append([]series{tps, ttft, occ, kv}, m.gpuPanels(maxGPUs)...)
}

func (m Model) gpuPanels(maxGPUs int) []series {
	g := m.frame.GPU
	pct := func(v float64) string { return fmt.Sprintf("%.0f%%", v) }
	gb := func(v float64) string { return fmt.Sprintf("%.1fGB", v/1e9) }
	if g == nil || !g.Available {
		reason := "NVML: no data"
		if g != nil && g.Reason != "" {
			reason = "NVML: " + g.Reason
		}
		return []series{{title: "GPU utilization", unit: pct, note: reason},
			{title: "GPU memory", unit: gb, note: "GPU panels need NVML (an NVIDIA driver)"}}
	}
	last := g.Latest()
	n := len(last.GPUs)
	window := ""
	if h := len(g.History); h > 1 {
		window = g.History[h-1].Time.Sub(g.History[0].Time).Round(time.Second).String()
	}
	var out []series
	for i := 0; i < min(n, maxGPUs); i++ {
		util := series{unit: pct, window: window}
		mem := series{unit: gb, window: window}
		for _, s := range g.History {
			if i < len(s.GPUs) {
				util.values = append(util.values, s.GPUs[i].UtilPct)
				mem.values = append(mem.values, float64(s.GPUs[i].MemUsedBytes))
			}
		}
		x := last.GPUs[i]
		util.title = fmt.Sprintf("GPU%d %.0fW %.0f°C %.0fMHz util", x.Index, x.PowerW, x.TempC, x.SMClockMHz)
		mem.title = fmt.Sprintf("GPU%d mem /%.0fGB", x.Index, float64(x.MemTotalBytes)/1e9)
		out = append(out, util, mem)
	}
	if n > maxGPUs { // first in the title, which a narrow panel cuts at the end
		last := &out[len(out)-2]
		last.title = fmt.Sprintf("+%d GPUs · ", n-maxGPUs) + last.title
	}
	return out
}

func (m Model) numbers() string {
	f, st := m.frame, m.styles
	rule := st.Dim.Render(strings.Repeat("─", m.width))
	if f.Metrics == nil {
		return rule + "\n" + fit(st.Dim.Render("no metrics yet"), m.width) + "\n\n\n\n"
	}
	s := f.Metrics
	d := func(name string, x metrics.Dist) string {
		return fmt.Sprintf("%s %s/%s/%s", name, msec(metrics.Ms(x.P50)), msec(metrics.Ms(x.P90)), msec(metrics.Ms(x.P99)))
	}
	lines := []string{
		fmt.Sprintf("%s out tok/s · %s total tok/s · %.1f req/s (last %s) │ requests %d waiting · %d running · %d done · %d preempted",
			num(s.OutputTPS), num(s.TotalTPS), s.RPS, s.Window.Round(time.Second), s.Waiting, s.Running, s.Finished, s.Preemptions),
		d("TTFT", s.TTFT) + " │ " + d("TPOT", s.TPOT) + " (p50/p90/p99, n=" + fmt.Sprint(s.TTFT.Count) + ")",
		d("ITL", s.ITL) + " │ " + d("E2E", s.E2E),
	}
	if s.DroppedEvents > 0 { // first on the line, so a narrow terminal never cuts it
		lines[0] = st.Error.Render(fmt.Sprintf("%d events dropped · ", s.DroppedEvents)) + lines[0]
	}
	if !s.SLO.Empty() {
		lines[2] += fmt.Sprintf(" │ SLO %s: %.0f%% met, goodput %.2f req/s", s.SLO, 100*s.Attainment, s.Goodput)
	}
	mem := ""
	if stt := f.Status; stt != nil {
		p := stt.Plan
		mem = fmt.Sprintf("weights %s · activations %s · KV %s · free %s", engine.FormatBytes(p.WeightBytes),
			engine.FormatBytes(p.ActivationBytes), engine.FormatBytes(p.KVBytes), engine.FormatBytes(p.FreeBytes()))
	}
	step := fmt.Sprintf("step p50 %s", msec(metrics.Ms(s.StepTime.P50)))
	if s.LastStep.DeviceTime > 0 {
		step += fmt.Sprintf(" (device %s)", msec(metrics.Ms(s.LastStep.DeviceTime)))
	}
	if floor := stepFloor(f.Status, s.LastStep); floor > 0 {
		step += fmt.Sprintf(", %.1f× roofline", float64(s.LastStep.Total)/float64(floor))
	}
	lines = append(lines, step+" │ "+mem, m.segmentLine())
	var b strings.Builder
	b.WriteString(rule)
	for _, l := range lines {
		b.WriteString("\n" + fit(l, m.width))
	}
	return b.String()
}

// segmentLine puts the latest segment beside the one before it.
func (m Model) segmentLine() string {
	segs := m.frame.Segments
	if len(segs) < 2 {
		return m.styles.Dim.Render("segments: one so far (a change of settings or workload starts another)")
	}
	one := func(s snapshot.Segment) string {
		return fmt.Sprintf("#%d %s: %s tok/s, TTFT p50 %s, TPOT p50 %s", s.Index, s.What, num(s.OutputTPS),
			msec(metrics.Ms(s.TTFTP50)), msec(metrics.Ms(s.TPOTP50)))
	}
	return one(segs[len(segs)-1]) + m.styles.Dim.Render("  ← before: ") + one(segs[len(segs)-2])
}

func (m Model) footer() string {
	h := help.New()
	line := h.ShortHelpView(m.keys.ShortHelp())
	if m.status != "" {
		style := m.styles.Status
		if m.statusErr {
			style = m.styles.Error
		}
		line = style.Render(m.status) + "  " + line
	}
	return fit(line, m.width)
}

func (m Model) overlay(text string, h int) string {
	box := m.styles.Box.Render(text)
	return lipgloss.Place(m.width, h, lipgloss.Center, lipgloss.Center, box)
}

func (m Model) helpText() string {
	h := help.New()
	h.ShowAll = true
	return m.styles.Title.Render("Keys") + "\n" + h.FullHelpView(m.keys.FullHelp()) + "\n\n" +
		m.styles.Title.Render("Metrics") + "\n" + Definitions + m.clientHelp()
}

func (m Model) pickerText() string {
	var b strings.Builder
	b.WriteString(m.styles.Title.Render("Workload") + "  (↑/↓, enter, esc)\n")
	for i, w := range m.frame.Workloads {
		cursor := "  "
		if i == m.pick {
			cursor = "▸ "
		}
		cur := ""
		if w == m.frame.Workload {
			cur = m.styles.Dim.Render("  (running)")
		}
		fmt.Fprintf(&b, "\n%s%d %s%s", cursor, i+1, w, cur)
	}
	return b.String()
}

// stepFloor is the roofline floor of a step (0 without measured ceilings).
func stepFloor(st *engine.Status, ev metrics.Step) time.Duration {
	if st == nil || ev.NumSeqs == 0 {
		return 0
	}
	return st.Floor(st.Cost(ev.PrefillTokens+ev.DecodeTokens, ev.ContextTokens))
}
