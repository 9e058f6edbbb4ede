package tui

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"benchtop/engine"
	"benchtop/metrics"
	"benchtop/report"
	"benchtop/servermetrics"
)

// The sources panel: a row per data-parallel replica or remote server (the
// frame's Sources), shown when there is more than one source or a remote
// target, between the charts and the numbers. Every GPU's charts are the
// GPU panels'.

// ClientMeasures says what benchtop measures at the client against a
// server; the help overlay shows it beside the metric definitions.
const ClientMeasures = `Against a server, times are taken at the client: a request arrives when
benchtop starts sending it; "scheduled" is when the response headers came;
TTFT ends at the first chunk that carries output (not the role chunk).
A chunk of k tokens gives k ITL samples of gap/k (split evenly); the raw
chunk gaps and the tokens per chunk are kept beside them. Output tokens
come from the server's usage when it sends one. Server gauges (running,
waiting, KV, the server's own TTFT/ITL) are scraped from its /metrics and
labelled with their source metric; "—" is not exposed by this server.`

// showSources says whether the frame has sources worth a panel.
func (m Model) showSources() bool {
	f := m.frame
	return f != nil && (len(f.Sources) > 1 || len(f.Targets) > 0)
}

func init() {
	// The layout's hook (layout.go): a panel of at most h lines.
	sourcesPanel = func(m Model, w, h int) string {
		p, _ := m.sourcesBlock(3 * h)
		return strings.TrimPrefix(p, "\n")
	}
}

// sourcesBlock is the panel for a chart area of bodyH lines ("" when not
// shown) and the lines the charts keep: the panel takes at most a third.
func (m Model) sourcesBlock(bodyH int) (panel string, rest int) {
	if !m.showSources() || m.showHelp || m.picking {
		return "", bodyH
	}
	f, st := m.frame, m.styles
	rows := f.Sources
	budget := max(3, bodyH/3)
	remote := len(f.Targets) > 0
	what := "Replicas"
	if remote {
		what = "Targets"
	}
	title := fmt.Sprintf("%s · %d · %s · imbalance %.2f", what, len(rows), f.Policy, f.Imbalance)
	// The rule fills the line exactly: a rule running past the edge was cut
	// as a word, and its "…" read as the end of the imbalance.
	head := st.Dim.Render("── ") + st.Title.Render(title)
	if rest := m.width - lipgloss.Width(head) - 1; rest > 0 {
		head += st.Dim.Render(" " + strings.Repeat("─", rest))
	}
	lines := []string{head}
	lines = append(lines, st.Dim.Render(sourceHeader(remote)))
	show := min(len(rows), budget-2)
	if remote {
		show = min(len(rows), budget-3)
	}
	show = max(show, 1)
	for _, r := range rows[:min(show, len(rows))] {
		line := sourceLine(r, remote)
		if !r.Up {
			line = st.Error.Render(line)
		}
		lines = append(lines, line)
	}
	if len(rows) > show {
		lines[len(lines)-1] = st.Dim.Render(fmt.Sprintf("  +%d more sources (in the snapshot)", len(rows)-show+1))
	}
	if remote {
		lines = append(lines, st.Dim.Render(gaugeLine(f.Targets)))
	}
	for i := range lines {
		lines[i] = fit(lines[i], m.width)
	}
	return "\n" + strings.Join(lines, "\n"), max(3, bodyH-len(lines))
}

func sourceHeader(remote bool) string {
	if remote {
		return fmt.Sprintf("  %-28s %-6s %9s %5s %5s %5s %9s %9s %7s  %s", "server", "state", "out tok/s", "run", "wait", "KV",
			"srv TTFT", "srv ITL", "done", "failed")
	}
	return fmt.Sprintf("  %-28s %-6s %9s %5s %5s %5s %9s %7s  %s", "replica", "state", "out tok/s", "run", "wait", "KV",
		"step p50", "done", "failed")
}

// sourceLine is one row: a down source says why in place of its failures.
func sourceLine(r report.Source, remote bool) string {
	state := "up"
	if !r.Up {
		state = "DOWN"
	}
	gauge := func(p *float64, pct bool) string {
		switch {
		case p == nil:
			return "—"
		case pct:
			return fmt.Sprintf("%.0f%%", 100**p)
		}
		return fmt.Sprintf("%.0f", *p)
	}
	d := func(x time.Duration) string {
		if x <= 0 {
			return "—"
		}
		return msec(metrics.Ms(x))
	}
	failed := failures(r)
	if !r.Up {
		failed += " · " + r.Why
	}
	name := r.Name
	if len(name) > 28 {
		name = "…" + name[len(name)-27:]
	}
	if remote {
		return fmt.Sprintf("  %-28s %-6s %9s %5s %5s %5s %9s %9s %7d  %s", name, state, num(r.OutputTPS), gauge(r.Running, false),
			gauge(r.Waiting, false), gauge(r.KVUsage, true), d(r.ServerTTFTP50), d(r.ServerITLP50), r.Finished, failed)
	}
	return fmt.Sprintf("  %-28s %-6s %9s %5s %5s %5s %9s %7d  %s", name, state, num(r.OutputTPS), gauge(r.Running, false),
		gauge(r.Waiting, false), gauge(r.KVUsage, true), d(r.StepP50), r.Finished, failed)
}

// failures is "0", or the count with its kinds: "3 (dropped 2, connect 1)".
func failures(r report.Source) string {
	n := 0
	for _, k := range r.FailedByKind {
		n += k
	}
	n = max(n, r.Failed)
	if n == 0 {
		return "0"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r.FailedByKind)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, r.FailedByKind[k]))
	}
	if len(parts) == 0 {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%d (%s)", n, strings.Join(parts, ", "))
}

// gaugeLine says where the first server's gauges come from, or why there
// are none.
func gaugeLine(ts []report.Target) string {
	t := ts[0]
	g := t.Gauges
	switch {
	case g.MetricsURL == "":
		return "  server gauges: scraping is off (--metrics-path off)"
	case g.Latest == nil && g.Error != "":
		return "  server gauges: " + g.Error
	case g.Latest == nil:
		return "  server gauges: waiting for the first scrape of " + g.MetricsURL
	}
	s := g.Latest
	server := string(s.Server)
	if server == "" {
		server = "unknown server"
	}
	var parts []string
	for _, x := range []struct {
		label string
		m     servermetrics.Measure
	}{{"run", servermetrics.Running}, {"wait", servermetrics.Waiting}, {"KV", servermetrics.KVUsage}, {"preempt", servermetrics.Preemptions},
		{"prefix cache", servermetrics.PrefixCacheHits}} {
		v := s.Get(x.m)
		src := v.Source
		if !v.Exposed {
			src = servermetrics.NotExposed
		}
		parts = append(parts, x.label+" ← "+src)
	}
	line := fmt.Sprintf("  %s gauges, every %s: %s", server, g.Interval, strings.Join(parts, " · "))
	if g.Error != "" {
		line = "  last scrape failed: " + g.Error + " ·" + line[1:]
	}
	return line
}

// fleetForms are the header's forms for a fleet of servers, longest first:
// "remote: 3 servers (2 up): URL +2" (the first one up) down to "3 servers,
// 2 up"; nil for
// one server or none (the header then names the one device).
func (m Model) fleetForms() []string {
	f := m.frame
	if f == nil || len(f.Targets) < 2 {
		return nil
	}
	n, up := len(f.Targets), 0
	url := f.Targets[0].URL // the first server up, else the first
	for i, r := range f.Sources {
		if r.Up {
			if up == 0 && i < n {
				url = f.Targets[i].URL
			}
			up++
		}
	}
	count := fmt.Sprintf("%d servers", n)
	if up < n && len(f.Sources) == n {
		count += fmt.Sprintf(" (%d up)", up)
	}
	first := fmt.Sprintf("%s +%d", url, n-1)
	short := count
	if up < n && len(f.Sources) == n {
		short = fmt.Sprintf("%d servers, %d up", n, up)
	}
	return []string{"remote: " + count + ": " + first, count + ": " + first, short, fmt.Sprintf("%d servers", n)}
}

// remote says whether the frame drives servers (--target) rather than
// in-process engines.
func (m Model) remote() bool { return m.frame != nil && len(m.frame.Targets) > 0 }

// remoteThroughputLine is throughputLine against servers: the requests in
// flight as the client counts them, and the servers' own running and
// waiting (their gauges summed; "—" where none exposes one) in place of
// the engine's, which a client never sees.
func (m Model) remoteThroughputLine() string {
	f, s, st := m.frame, m.frame.Metrics, m.styles
	inFlight := 0
	var running, waiting *float64
	add := func(sum **float64, v *float64) {
		if v != nil {
			if *sum == nil {
				*sum = new(float64)
			}
			**sum += *v
		}
	}
	for _, r := range f.Sources {
		inFlight += r.Outstanding
		add(&running, r.Running)
		add(&waiting, r.Waiting)
	}
	gauge := func(p *float64) string {
		if p == nil {
			return "—"
		}
		return fmt.Sprintf("%.0f", *p)
	}
	parts := []part{
		pt(0, num(s.OutputTPS)+" out tok/s"),
		pt(3, num(s.TotalTPS)+" total tok/s"),
		pt(1, fmt.Sprintf("%.1f req/s", s.RPS)),
		pt(2, "last "+s.Window.Round(time.Second).String()).with(" "),
		pt(0, fmt.Sprintf("%d in flight", inFlight)).with(" │ "),
		pt(1, fmt.Sprintf("%d done", s.Finished)),
	}
	if s.Failed > 0 {
		parts = append(parts, pt(1, st.Error.Render(fmt.Sprintf("%d failed", s.Failed))))
	}
	srv := gauge(running) + " running · " + gauge(waiting) + " waiting" // one part: neither reads as the client's alone
	parts = append(parts, pt(2, "servers: "+srv, "srv "+srv, "srv "+gauge(running)+" running").with(" │ "))
	return line(m.width, parts...)
}

// remoteStepLine stands for the step lines against servers.
func (m Model) remoteStepLine() string {
	return fit(m.styles.Dim.Render("steps: the servers' own (a client sees none); their TTFT and ITL p50 are in the row per server"), m.width)
}

// remoteMemoryLine stands for the memory budget against servers: this
// process's own use beside it.
func (m Model) remoteMemoryLine() string {
	parts := []part{pt(0, m.styles.Dim.Render("memory: the servers' own"))}
	if g := m.frame.GPU; g != nil {
		if l := g.Latest(); l != nil && l.Process != nil && l.Process.RSSBytes >= 0 {
			parts = append(parts, pt(1, "this client: RSS "+engine.FormatBytes(l.Process.RSSBytes)).with(" │ "))
		}
	}
	return line(m.width, parts...)
}

// remoteSettings replaces the engine settings line against servers: a
// server's settings are its own, so the keys that change them are off.
func (m Model) remoteSettings() string {
	f := m.frame
	if f == nil || len(f.Targets) == 0 {
		return ""
	}
	t := f.Targets[0]
	model := t.Model
	if t.Answered != "" && t.Answered != t.Model {
		model += " (answered as " + t.Answered + ")"
	}
	usage := "usage per chunk"
	if !t.ContinuousUsage {
		usage = "no usage per chunk: one token a chunk unless it says more"
	}
	return fmt.Sprintf("%s API · model %s · %s · settings keys (+ - m g p) are off: a server's settings are its own", t.API, model, usage)
}

// clientHelp is what the help overlay adds against a server: exactly what
// is measured at the client.
func (m Model) clientHelp() string {
	if m.frame == nil || len(m.frame.Targets) == 0 {
		return ""
	}
	return "\n\n" + m.styles.Title.Render("Measured at the client") + "\n" + ClientMeasures
}

// serverCharts are, against servers, the charts that replace the engine's
// batch occupancy and KV usage: the servers' running and waiting requests
// (summed) and KV usage (their mean), from the scrapes' series, newest
// points aligned. ok is false for in-process engines.
func (m Model) serverCharts() (queue, kv series, ok bool) {
	f := m.frame
	if f == nil || len(f.Targets) == 0 {
		return queue, kv, false
	}
	n := -1
	for _, t := range f.Targets {
		if l := len(t.Gauges.Series); l > 0 && (n < 0 || l < n) {
			n = l
		}
	}
	queue = series{title: "Server queue (waiting)", unit: func(v float64) string { return fmt.Sprintf("%.0f", v) }}
	kv = series{title: "Server KV usage", unit: pct}
	if n <= 0 {
		queue.note = "no scrape of the servers' /metrics yet"
		kv.note = queue.note
		return queue, kv, true
	}
	var running, waiting, kvs []float64
	haveKV, haveWait := false, false
	for i := 0; i < n; i++ {
		var r, w, k float64
		nk := 0
		for _, t := range f.Targets {
			if len(t.Gauges.Series) < n {
				continue // no scrape yet (a server down from the start)
			}
			p := t.Gauges.Series[len(t.Gauges.Series)-n+i]
			if p.Running != nil {
				r += *p.Running
			}
			if p.Waiting != nil {
				w += *p.Waiting
				haveWait = true
			}
			if p.KVUsage != nil {
				k += *p.KVUsage
				nk++
			}
		}
		if nk > 0 {
			k /= float64(nk)
			haveKV = true
		}
		running, waiting, kvs = append(running, r), append(waiting, w), append(kvs, k)
	}
	var span string
	for _, t := range f.Targets {
		if ser := t.Gauges.Series; len(ser) >= n {
			span = ser[len(ser)-1].At.Sub(ser[len(ser)-n].At).Round(time.Second).String()
			break
		}
	}
	queue.values, queue.window = waiting, span
	queue.title = fmt.Sprintf("Server %.0f running, waiting", running[len(running)-1])
	kv.values, kv.window = kvs, span
	if !haveWait {
		queue.values, queue.note = nil, "waiting: "+servermetrics.NotExposed
	}
	if !haveKV {
		kv.values, kv.note = nil, "KV usage: "+servermetrics.NotExposed
	}
	return queue, kv, true
}
