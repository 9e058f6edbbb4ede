package tui

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"benchtop/engine"
	"benchtop/metrics"
	"benchtop/snapshot"
)

// MinWidth and MinHeight are the smallest terminal the dashboard draws in.
const (
	MinWidth  = 80
	MinHeight = 24
)

// Definitions are the metric definitions the help overlay shows, one a
// line; lines give way from the end when the overlay is short of rows.
var Definitions = []string{
	"TTFT: arrival → first output token (queueing included).",
	"E2E: arrival → last token.  TPOT: (E2E − TTFT) / (output tokens − 1).",
	"ITL: every gap between consecutive tokens of a request.",
	"Throughput: over the sliding window shown; total counts prompt tokens too.",
	"Batch occupancy: sequences in the step / max sequences per step.",
	"KV usage: blocks in use / blocks allocated.  ▲ marks a change of settings.",
	"Step: schedule + forward + sample (device: the GPU's own time), p50 over the window.",
	"Memory budget: what the engine allocated; in use: what NVML or the OS reports.",
}

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
	header, footer := m.header(), m.footer()
	if m.showHelp || m.picking {
		text := m.pickerText(m.height - 3 - 4)
		if m.showHelp {
			text = m.helpText(m.height - 3)
		}
		return lipgloss.JoinVertical(lipgloss.Left, header, m.overlay(text, m.height-3), footer)
	}
	l := m.layout()
	numbers := m.numbers(l.numbers)
	bodyH := m.height - 3 - lipgloss.Height(numbers)
	var body string
	if st := m.frame.Status; st != nil && st.Err != nil {
		body = m.errorPanel(st.Err, bodyH)
	} else {
		src := ""
		if sourcesPanel != nil {
			src = sourcesPanel(m, m.width, bodyH/2)
		}
		if src != "" {
			body = lipgloss.JoinVertical(lipgloss.Left, m.charts(bodyH-lipgloss.Height(src)), src)
		} else {
			body = m.charts(bodyH)
		}
	}
	return lipgloss.JoinVertical(lipgloss.Left, header, body, numbers, footer)
}

func (m Model) header() string {
	f, st, w := m.frame, m.styles, m.width
	state := "starting"
	if s := f.Status; s != nil {
		state = s.State.String()
	}
	stateStyle := st.State
	if state != "running" {
		stateStyle = st.Paused
	}
	if f.ReadOnly {
		state = "snapshot"
	}
	lead := st.Header.Render("benchtop") + " " + stateStyle.Render("● "+state) + " " + clock(m.d.elapsed)
	parts := []part{pt(0, lead)}
	switch {
	case f.Progress.Switching && m.d.stepFor >= time.Second:
		parts = append(parts, pt(2, st.Paused.Render(fmt.Sprintf("rebuilding for %s", secs(m.d.stepFor)))).with(" "))
	case f.Progress.InStep && m.d.stepFor >= time.Second:
		parts = append(parts, pt(2, st.Paused.Render(fmt.Sprintf("step in progress for %s", secs(m.d.stepFor))),
			st.Paused.Render("step "+secs(m.d.stepFor))).with(" "))
	}
	if f.Workload != "" {
		parts = append(parts, pt(3, "workload "+f.Workload, f.Workload).with(" │ "))
	}
	if s := f.Status; s != nil {
		// The folder's name (the help has the whole path); a synthetic
		// model never without the word.
		base := filepath.Base(s.Model)
		note := s.ModelNote
		if note == "" && s.Synthetic {
			note = "synthetic weights"
		}
		forms := []string{base}
		if note != "" {
			forms = []string{base + " (" + note + ")"}
			if s.Synthetic {
				forms = append(forms, base+" (synthetic)")
			} else {
				forms = append(forms, base)
			}
		}
		// The model keeps "synthetic" longest: the screen says so wherever
		// text is shown.
		parts = append(parts, pt(1, forms...).with(" │ ").cuttable().cutAfter("-_"))
		if fleet := m.fleetForms(); fleet != nil {
			parts = append(parts, pt(3, fleet...).with(" │ ")) // tui/sources.go: several servers
		} else {
			parts = append(parts, pt(4, s.Device.Backend+": "+s.Device.Name, s.Device.Backend).with(" │ "))
		}
	}
	return line(w, parts...) + "\n" + m.settingsLine()
}

// settingsLine is the engine's settings, and why the auto ones are what
// they are (the plan's reason).
func (m Model) settingsLine() string {
	s, st, w := m.frame.Status, m.styles, m.width
	if r := m.remoteSettings(); r != "" { // tui/sources.go: against servers
		return fit(st.Settings.Render(r), w)
	}
	if s == nil {
		return pad("", w)
	}
	if s.Err != nil {
		return fit(st.Error.Render("engine error: "+s.Err.Error()), w)
	}
	c := s.Config
	mode := "CUDA graphs"
	if c.EnforceEager || !s.Device.CUDAGraphs {
		mode = "eager"
	}
	dim := func(t string) string { return st.Settings.Render(t) }
	parts := []part{
		pt(0, dim(fmt.Sprintf("max_num_seqs %d", c.MaxNumSeqs))),
		pt(1, dim(fmt.Sprintf("max_num_batched_tokens %d", c.MaxNumBatchedTokens)), dim(fmt.Sprintf("tokens %d", c.MaxNumBatchedTokens))),
		pt(1, dim(fmt.Sprintf("gpu_memory_utilization %.2f", c.GPUMemoryUtilization)), dim(fmt.Sprintf("memory %.2f", c.GPUMemoryUtilization))),
		pt(3, dim(fmt.Sprintf("block %d", c.BlockSize))),
		pt(3, dim(mode)),
		pt(1, dim(fmt.Sprintf("KV %d blocks (%s)", s.Plan.NumBlocks, engine.FormatBytes(s.Plan.KVBytes))), dim(fmt.Sprintf("KV %d blocks", s.Plan.NumBlocks))),
	}
	if s.Plan.Reason != "" {
		parts = append(parts, pt(2, dim("sizing: "+s.Plan.Reason), dim("sizing: see ?")).with(" │ ").cutFirst())
	}
	return line(w, parts...)
}

func clock(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

func secs(d time.Duration) string { return d.Truncate(time.Second).String() }

func (m Model) charts(h int) string {
	colW := m.layout().colW
	panels := m.d.panels
	if len(panels) == 0 || h <= 0 {
		return strings.TrimSuffix(strings.Repeat(pad("", m.width)+"\n", max(0, h)), "\n")
	}
	// Two rows of engine charts, then a row per GPU; rows that cannot keep
	// three lines (title, chart, markers) give way from the bottom.
	rows := min((len(panels)+1)/2, max(1, h/3))
	ph := h / rows
	var lines []string
	for r := 0; r < rows; r++ {
		hh := ph
		if r == rows-1 {
			hh = h - ph*(rows-1)
		}
		left := panels[2*r].render(m.styles, colW, hh)
		right := ""
		if 2*r+1 < len(panels) {
			right = panels[2*r+1].render(m.styles, colW, hh)
		}
		row := lipgloss.JoinHorizontal(lipgloss.Top, left, " ", right)
		for _, l := range strings.Split(row, "\n") {
			lines = append(lines, pad(l, m.width))
		}
	}
	return strings.Join(lines, "\n")
}

// dist is "NAME p50/p90/p99", "—" for each with no sample.
func dist(name string, x metrics.Dist) string {
	if !x.Valid() {
		return name + " —"
	}
	return fmt.Sprintf("%s %s/%s/%s", name, msec(metrics.Ms(x.P50)), msec(metrics.Ms(x.P90)), msec(metrics.Ms(x.P99)))
}

// ms2 is a duration in ms with two decimals, "—" for a distribution
// without samples.
func ms2(x metrics.Dist) string {
	if !x.Valid() {
		return "—"
	}
	return fmt.Sprintf("%.2f", metrics.Ms(x.P50))
}

// numLine is one line of the numbers block; when the screen is short, the
// lines of the highest prio leave first.
type numLine struct {
	prio int
	text string
}

// numbers is the rule and the n most important lines of numbers, in their
// order.
func (m Model) numbers(n int) string {
	f, st, w := m.frame, m.styles, m.width
	rule := st.Dim.Render(strings.Repeat("─", w))
	s := f.Metrics
	if s == nil {
		lines := []string{rule, fit(st.Dim.Render("no metrics yet"), w)}
		for len(lines) < n+1 {
			lines = append(lines, pad("", w))
		}
		return strings.Join(lines, "\n")
	}
	ls := []numLine{
		{0, m.throughputLine()},
		{0, m.bottleneckLine()},
		{0, line(w, pt(0, dist("TTFT", s.TTFT)), pt(0, dist("TPOT", s.TPOT)).with(" │ "),
			pt(1, fmt.Sprintf("(p50/p90/p99, n=%d)", s.TTFT.Count), fmt.Sprintf("(n=%d)", s.TTFT.Count)).with(" "))},
		{1, m.latencyLine()},
		{1, m.stepLine()},
		{3, m.lastStepLine()},
		{2, m.memoryLine()},
		{1, m.segmentLine()},
	}
	if m.remote() { // tui/sources.go: a client sees no steps, no batch and no memory plan
		ls = []numLine{
			{0, m.remoteThroughputLine()},
			{0, m.bottleneckLine()},
			ls[2],
			ls[3],
			{1, m.remoteStepLine()},
			{2, m.remoteMemoryLine()},
			ls[7],
		}
	}
	keep := make([]int, len(ls))
	for i := range keep {
		keep[i] = i
	}
	sort.SliceStable(keep, func(a, b int) bool { return ls[keep[a]].prio < ls[keep[b]].prio })
	keep = keep[:min(n, len(keep))]
	sort.Ints(keep)
	out := []string{rule}
	for _, i := range keep {
		out = append(out, ls[i].text)
	}
	return strings.Join(out, "\n")
}

func (m Model) throughputLine() string {
	s, st := m.frame.Metrics, m.styles
	var parts []part
	if s.DroppedEvents > 0 { // first on the line, so a narrow terminal keeps it
		parts = append(parts, pt(0, st.Error.Render(fmt.Sprintf("%d events dropped", s.DroppedEvents))))
	}
	parts = append(parts,
		pt(0, num(s.OutputTPS)+" out tok/s"),
		pt(3, num(s.TotalTPS)+" total tok/s"),
		pt(1, fmt.Sprintf("%.1f req/s", s.RPS)),
		pt(2, "last "+s.Window.Round(time.Second).String()).with(" "))
	if m.d.jPerToken != "" {
		parts = append(parts, pt(2, m.d.jPerToken))
	}
	parts = append(parts,
		pt(0, fmt.Sprintf("%d running", s.Running)).with(" │ "),
		pt(0, fmt.Sprintf("%d waiting", s.Waiting)),
		pt(1, fmt.Sprintf("%d done", s.Finished)),
		pt(1, fmt.Sprintf("%d preempted", s.Preemptions)))
	if s.Failed > 0 {
		parts = append(parts, pt(1, st.Error.Render(fmt.Sprintf("%d failed", s.Failed))))
	}
	return line(m.width, parts...)
}

// bottleneckLine says what limits the run and what to try; or, where no
// rule applies, what the engine is doing.
func (m Model) bottleneckLine() string {
	b, st, f := m.d.bottleneck, m.styles, m.frame
	if b.Kind == "" {
		msg := "bottleneck: — (no steps yet)"
		if m.remote() {
			msg = "bottleneck: — (no data from the servers yet)"
		} else if f.Status != nil {
			switch f.Status.State {
			case engine.StatePaused:
				msg = "paused: no steps until p resumes"
			case engine.StateSwitching:
				msg = "rebuilding the KV pool and workspace: running requests are recomputed after it, none lost"
			case engine.StateFailed:
				msg = "the engine failed: s writes a snapshot, q quits"
			case engine.StateStopped:
				msg = "the engine stopped"
			}
		}
		if f.ReadOnly {
			msg = "bottleneck: — (a snapshot)"
		}
		return fit(st.Dim.Render(msg), m.width)
	}
	return line(m.width, pt(0, st.Bottleneck.Render("▸ "+b.Kind)),
		pt(2, st.Dim.Render(b.Why)).with(": ").cuttable(),
		pt(1, b.Try).with(" → "))
}

func (m Model) latencyLine() string {
	s := m.frame.Metrics
	parts := []part{pt(0, dist("ITL", s.ITL)), pt(0, dist("E2E", s.E2E)).with(" │ "), pt(2, dist("queue", s.Queue)).with(" │ ")}
	if !s.SLO.Empty() {
		parts = append(parts, pt(1, fmt.Sprintf("SLO %s: %.0f%% met, goodput %.2f req/s", s.SLO, 100*s.Attainment, s.Goodput)).with(" │ ").cuttable())
	}
	return line(m.width, parts...)
}

// stepLine is the step time as p50 over the window, broken down into its
// phases, and against its roofline floor.
func (m Model) stepLine() string {
	s := m.frame.Metrics
	ph := s.StepPhases
	p50 := "step p50 —"
	if s.StepTime.Valid() {
		p50 = fmt.Sprintf("step p50 %sms", ms2(s.StepTime))
	}
	parts := []part{pt(0, p50)}
	if ph.Total.Valid() {
		long := fmt.Sprintf("schedule %s · forward %s · sample %s", ms2(ph.Schedule), ms2(ph.Forward), ms2(ph.Sample))
		short := fmt.Sprintf("sched %s fwd %s sample %s", ms2(ph.Schedule), ms2(ph.Forward), ms2(ph.Sample))
		if ph.Device.Valid() {
			long += " · device " + ms2(ph.Device)
			short += " dev " + ms2(ph.Device)
		}
		parts = append(parts, pt(1, long, short).with(": "))
	}
	if floor := stepFloor(m.frame.Status, s.LastStep); floor > 0 && s.LastStep.Total > 0 {
		parts = append(parts, pt(1, fmt.Sprintf("%.1f× roofline", float64(s.LastStep.Total)/float64(floor))).with(" │ "))
	}
	if s.Steps > 0 {
		parts = append(parts, pt(2, fmt.Sprintf("last %.2fms", metrics.Ms(s.LastStep.Total))).with(" │ "))
	}
	return line(m.width, parts...)
}

// lastStepLine breaks the newest step down.
func (m Model) lastStepLine() string {
	s := m.frame.Metrics
	if s.Steps == 0 {
		return fit(m.styles.Dim.Render("last step: —"), m.width)
	}
	l := s.LastStep
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", metrics.Ms(d)) }
	br := fmt.Sprintf("schedule %s · forward %s · sample %s", ms(l.ScheduleTime), ms(l.ExecuteTime), ms(l.SampleTime))
	if l.DeviceTime > 0 {
		br += " · device " + ms(l.DeviceTime)
	}
	return line(m.width, pt(0, fmt.Sprintf("last step %sms", ms(l.Total))), pt(1, br).with(": "),
		pt(2, fmt.Sprintf("%d seqs, %d prefill + %d decode tokens", l.NumSeqs, l.PrefillTokens, l.DecodeTokens)).with(" │ "))
}

// memoryLine says what the engine budgeted and, beside it, what is in use.
func (m Model) memoryLine() string {
	f := m.frame
	var parts []part
	if st := f.Status; st != nil {
		p := st.Plan
		parts = append(parts, pt(0, "budget: weights "+engine.FormatBytes(p.WeightBytes)),
			pt(1, "activations "+engine.FormatBytes(p.ActivationBytes)),
			pt(0, "KV pool "+engine.FormatBytes(p.KVBytes)),
			pt(2, "outside it "+engine.FormatBytes(p.FreeBytes())))
	}
	if g := f.GPU; g != nil {
		if l := g.Latest(); l != nil && g.Available {
			var used int64
			for _, x := range l.GPUs {
				used += max(0, x.MemUsedBytes)
			}
			parts = append(parts, pt(1, "in use: GPU "+engine.FormatBytes(used)+" (NVML)").with(" │ "))
		} else if l != nil && l.Process != nil && l.Process.RSSBytes >= 0 {
			parts = append(parts, pt(1, "in use: RSS "+engine.FormatBytes(l.Process.RSSBytes)).with(" │ "))
		}
	}
	return line(m.width, parts...)
}

// segmentLine puts the latest segment beside the one before it.
func (m Model) segmentLine() string {
	segs := m.frame.Segments
	if len(segs) < 2 {
		return fit(m.styles.Dim.Render("segments: one so far (a change of settings or workload starts another)"), m.width)
	}
	one := func(s snapshot.Segment) (head, ttft, tpot string) {
		p50 := func(name string, d time.Duration) string {
			if s.Requests == 0 {
				return name + " p50 —"
			}
			return name + " p50 " + msec(metrics.Ms(d))
		}
		return fmt.Sprintf("#%d %s: %s tok/s", s.Index, s.What, num(s.OutputTPS)), p50("TTFT", s.TTFTP50), p50("TPOT", s.TPOTP50)
	}
	head, ttft, tpot := one(segs[len(segs)-1])
	// The segment before is one part that gives way whole (its numbers
	// first): parts of its own, left without its "← before:", read as the
	// latest segment's.
	ph, pttft, ptpot := one(segs[len(segs)-2])
	return line(m.width, pt(0, head).with(" "), pt(1, ttft).with(", "), pt(2, tpot).with(", "),
		pt(1, ph+", "+pttft+", "+ptpot, ph+", "+pttft, ph).with(m.styles.Dim.Render("  ← before: ")))
}

func (m Model) footer() string {
	w := m.width
	h := help.New()
	ess := h.ShortHelpView(enabled(m.keys.Essential()))
	room := w - lipgloss.Width(ess)
	status := ""
	if m.status != "" {
		style := m.styles.Status
		if m.statusErr {
			style = m.styles.Error
		}
		status = strings.TrimRight(fit(style.Render(m.status), max(0, room-2)), " ")
		if status != "" {
			status += "  "
		}
	}
	room -= lipgloss.Width(status)
	legend := ""
	if room > 8 {
		legend = shortLegend(h, enabled(m.keys.ShortHelp()), room-3)
		if legend != "" {
			legend += h.Styles.ShortSeparator.Render(h.ShortSeparator)
		}
	}
	return pad(status+legend+ess, w)
}

// shortLegend is the first of bs that fit in w cells as bubbles' short
// help, with " …" when some are left out. bubbles' own width limit is not
// used: when its "…" does not fit either it adds the item anyway, and every
// item after it, so the footer ran past the screen's edge.
func shortLegend(h help.Model, bs []key.Binding, w int) string {
	h.SetWidth(0)
	tail := " " + h.Styles.Ellipsis.Render(h.Ellipsis)
	for n := len(bs); n > 0; n-- {
		s := h.ShortHelpView(bs[:n])
		if n < len(bs) {
			s += tail
		}
		if lipgloss.Width(s) <= w {
			return s
		}
	}
	return ""
}

// enabled are the bindings of bs that are enabled.
func enabled(bs []key.Binding) []key.Binding {
	var out []key.Binding
	for _, b := range bs {
		if b.Enabled() {
			out = append(out, b)
		}
	}
	return out
}

// overlay centres a box in w × h; the box gives up its padding when short
// of room.
func (m Model) overlay(text string, h int) string {
	box := m.styles.Box
	if lipgloss.Height(box.Render(text)) > h || lipgloss.Width(box.Render(text)) > m.width {
		box = box.Padding(0, 1)
	}
	return lipgloss.Place(m.width, h, lipgloss.Center, lipgloss.Center, box.Render(text))
}

// helpText is the full help and the metric definitions, wrapped to the
// overlay's width, in at most h rows (box included): definitions leave
// from the end when short of rows.
func (m Model) helpText(h int) string {
	w := m.width - 8 // border, padding, a margin
	wrap := lipgloss.NewStyle().Width(w)
	hm := help.New()
	hm.ShowAll = true
	hm.SetWidth(w)
	// Every key of the dashboard's screen (not the overlay's own), and the
	// picker's with the picker.
	k := m.keys.forFrame(m.frame, m.ctrl != nil, modeCharts)
	k.Up.SetEnabled(k.Pick.Enabled())
	k.Down.SetEnabled(k.Pick.Enabled())
	k.Enter.SetEnabled(k.Pick.Enabled())
	k.Close.SetEnabled(true)
	keys := m.styles.Title.Render("Keys") + "\n" + hm.FullHelpView(k.FullHelp())
	if r := m.frame.Status; r != nil {
		model := r.Model
		if r.ModelNote != "" {
			model += " (" + r.ModelNote + ")"
		} else if r.Synthetic {
			model += " (synthetic weights)"
		}
		keys += "\n\n" + wrap.Render("Model: "+model+" on "+r.Device.Backend+": "+r.Device.Name)
		if r.Plan.Reason != "" && !m.frame.ReadOnly {
			keys += "\n" + wrap.Render("Sizing: "+r.Plan.Reason)
		}
	}
	defs := Definitions
	for {
		if len(defs) == 0 {
			return keys
		}
		text := keys + "\n\n" + m.styles.Title.Render("Metrics") + "\n" + wrap.Render(strings.Join(defs, "\n")) + m.clientHelp()
		if lipgloss.Height(text)+2 <= h { // the border; the padding goes first
			return text
		}
		defs = defs[:len(defs)-1]
	}
}

// pickerText lists the workloads, scrolled to keep the cursor in at most
// rows lines.
func (m Model) pickerText(rows int) string {
	var b strings.Builder
	b.WriteString(m.styles.Title.Render("Workload") + "  (↑/↓, enter, esc)\n")
	ws := m.frame.Workloads
	n := max(1, rows-2)
	lo := max(0, min(m.pick-n/2, len(ws)-n))
	for i := lo; i < min(len(ws), lo+n); i++ {
		w := ws[i]
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

// errorPanel shows a fatal engine error in the chart area; the program
// stays open.
func (m Model) errorPanel(err error, h int) string {
	text := m.styles.Error.Render("The engine failed") + "\n\n" +
		lipgloss.NewStyle().Width(min(m.width-8, 100)).Render(err.Error()) + "\n\n" +
		m.styles.Dim.Render("The numbers below are as it left them: s writes a snapshot, q quits.")
	return m.overlay(text, h)
}

// stepFloor is the roofline floor of a step (0 without measured ceilings).
func stepFloor(st *engine.Status, ev metrics.Step) time.Duration {
	if st == nil || ev.NumSeqs == 0 {
		return 0
	}
	return st.Floor(st.Cost(ev.PrefillTokens+ev.DecodeTokens, ev.ContextTokens))
}
