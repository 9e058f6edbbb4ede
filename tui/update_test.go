package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"benchtop/engine"
	"benchtop/metrics"
	"benchtop/session"
)

func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

// send delivers keys and runs the commands they return, feeding results back.
func send(m Model, keys ...string) (Model, []tea.Msg) {
	var msgs []tea.Msg
	for _, k := range keys {
		next, cmd := m.Update(press(k))
		m = next.(Model)
		if cmd != nil {
			msg := cmd()
			msgs = append(msgs, msg)
			switch msg.(type) {
			case resultMsg, snapshotMsg:
				next, _ = m.Update(msg)
				m = next.(Model)
			}
		}
	}
	return m, msgs
}

// Every key, on the frames where it acts and where it must not: the
// controller calls it makes, and what the status line says.
func TestEveryKey(t *testing.T) {
	at := func(n int) func(*session.Frame) {
		return func(f *session.Frame) { st := *f.Status; st.Config.MaxNumSeqs = n; f.Status = &st }
	}
	cpu := func(f *session.Frame) {
		st := *f.Status
		st.Device.CUDAGraphs, st.Device.Backend = false, "cpu"
		f.Status = &st
	}
	remote := func(f *session.Frame) { f.Caps = session.Caps{} }
	failed := func(f *session.Frame) {
		st := *f.Status
		st.State, st.Err = engine.StateFailed, errTest
		f.Status = &st
	}
	cases := []struct {
		name   string
		prep   func(*session.Frame)
		keys   []string
		want   string // the controller's calls
		status string // in the status line
	}{
		{"+ at 256 changes nothing", nil, []string{"+"}, "", "already 256"},
		{"- from 256", nil, []string{"-"}, "max_num_seqs 100", "max_num_seqs=100"},
		{"_ lowers too", nil, []string{"_"}, "max_num_seqs 100", ""},
		{"+ from 100", at(100), []string{"+"}, "max_num_seqs 256", ""},
		{"= raises too", at(100), []string{"="}, "max_num_seqs 256", ""},
		{"+ from an auto 40", at(40), []string{"+"}, "max_num_seqs 50", ""},
		{"- at 1 changes nothing", at(1), []string{"-"}, "", "already 1"},
		{"+ above the last step changes nothing", at(512), []string{"+"}, "", "already 512"},
		{"- above the last step", at(512), []string{"-"}, "max_num_seqs 256", ""},
		{"2 switches", nil, []string{"2"}, "workload latency", "workload=latency"},
		{"9 switches", nil, []string{"9"}, "workload clients", ""},
		{"the running workload's number changes nothing", nil, []string{"4"}, "", "bench is already running"},
		{"a number past the list changes nothing", func(f *session.Frame) { f.Workloads = f.Workloads[:3] }, []string{"5"}, "", ""},
		{"picker: down, enter", nil, []string{"w", "down", "enter"}, "workload utilization", ""},
		{"picker: k and j move", nil, []string{"w", "k", "k", "j", "enter"}, "workload ttft", ""},
		{"picker: esc closes, then 1", nil, []string{"w", "esc", "1"}, "workload throughput", ""},
		{"picker: other keys do nothing", nil, []string{"w", "+", "m", "s", "2"}, "", ""},
		{"picker: enter on the running one changes nothing", nil, []string{"w", "enter"}, "", "already running"},
		{"m cycles memory", nil, []string{"m"}, "reconfigure gpu_memory_utilization=0.95", ""},
		{"g toggles graphs", nil, []string{"g"}, "reconfigure enforce_eager=true", ""},
		{"g on the always-eager CPU changes nothing", cpu, []string{"g"}, "", ""},
		{"p pauses", nil, []string{"p"}, "pause", "paused"},
		{"space pauses", nil, []string{"space"}, "pause", ""},
		{"r resets", nil, []string{"r"}, "reset", "statistics reset"},
		{"s writes a snapshot and names it", nil, []string{"s"}, "snapshot /snaps", "wrote /snaps/x.json"},
		{"? opens help; keys under it do nothing", nil, []string{"?", "2", "+", "s"}, "", ""},
		{"? then esc, then keys work", nil, []string{"?", "esc", "2"}, "workload latency", ""},
		{"esc with nothing open does nothing", nil, []string{"esc"}, "", ""},
		{"x is no key", nil, []string{"x"}, "", ""},
		{"remote: no settings keys", remote, []string{"+", "-", "m", "g", "p", "space"}, "", ""},
		{"remote: workloads and snapshots still work", remote, []string{"2", "s"}, "workload latency;snapshot /snaps", ""},
		{"failed engine: no settings keys", failed, []string{"-", "m", "g", "p"}, "", ""},
		{"failed engine: a snapshot still works", failed, []string{"s"}, "snapshot /snaps", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := fixedFrame()
			if c.prep != nil {
				c.prep(f)
			}
			r := &recorder{frame: f}
			m := New(r)
			m.SnapshotDir = "/snaps"
			m, _ = send(m, c.keys...)
			if got := strings.Join(r.calls, ";"); got != c.want {
				t.Errorf("controller got %q, want %q", got, c.want)
			}
			if !strings.Contains(m.status, c.status) {
				t.Errorf("status %q lacks %q", m.status, c.status)
			}
		})
	}
}

// Help and the picker are overlays: ? toggles help, esc closes either,
// and the legend shows the keys of what is open.
func TestOverlaysAndLegend(t *testing.T) {
	m := New(&recorder{frame: fixedFrame()})
	m.SetSize(120, 40)
	legend := func(m Model) string { return ansi.Strip(strings.Split(m.Render(), "\n")[39]) }
	if l := legend(m); !strings.Contains(l, "+/- batch size") || strings.Contains(l, "esc") {
		t.Fatalf("charts legend %q", l)
	}
	m, _ = send(m, "?")
	if !m.showHelp || !strings.Contains(legend(m), "esc close") || strings.Contains(legend(m), "batch") {
		t.Fatalf("help: %v, legend %q", m.showHelp, legend(m))
	}
	if r := ansi.Strip(m.Render()); !strings.Contains(r, "raise max_num_seqs") || !strings.Contains(r, "TTFT: arrival") {
		t.Fatalf("help overlay lacks keys or definitions:\n%s", r)
	}
	m, _ = send(m, "esc")
	if m.showHelp {
		t.Fatal("esc did not close help")
	}
	m, _ = send(m, "w")
	if !m.picking || !strings.Contains(legend(m), "enter choose") {
		t.Fatalf("picker: %v, legend %q", m.picking, legend(m))
	}
	m, _ = send(m, "?") // not in the picker
	if m.showHelp || !m.picking {
		t.Fatal("? in the picker changed the overlay")
	}
	m, _ = send(m, "esc")
	if m.picking {
		t.Fatal("esc did not close the picker")
	}
	// A snapshot's legend has help and quit only; its help lists no
	// settings keys.
	v := NewViewer(fixedFrame())
	v.SetSize(120, 40)
	if l := legend(v); strings.Contains(l, "batch") || strings.Contains(l, "workload") || !strings.Contains(l, "q quit") {
		t.Fatalf("viewer legend %q", l)
	}
	v, _ = send(v, "?")
	if r := ansi.Strip(v.Render()); strings.Contains(r, "max_num_seqs ") && strings.Contains(r, "raise") {
		t.Fatalf("viewer help lists settings keys:\n%s", r)
	}
	// A remote target hides the keys it cannot take.
	f := fixedFrame()
	f.Caps = session.Caps{}
	rm := New(&recorder{frame: f})
	rm.SetSize(200, 50)
	if l := ansi.Strip(strings.Split(rm.Render(), "\n")[49]); strings.Contains(l, "batch") || strings.Contains(l, "pause") || !strings.Contains(l, "snapshot") {
		t.Fatalf("remote legend %q", l)
	}
}

func TestPausedResumesAndErrorsShow(t *testing.T) {
	r := &recorder{frame: fixedFrame()}
	st := *r.frame.Status
	st.State = engine.StatePaused
	r.frame.Status = &st
	m, _ := send(New(r), "p")
	if r.calls[0] != "resume" {
		t.Fatalf("p on a paused engine: %v", r.calls)
	}
	next, _ := m.Update(resultMsg{what: "max_num_seqs=5", err: errTest})
	m = next.(Model)
	if !m.statusErr || !strings.Contains(m.status, "boom") {
		t.Fatalf("error status %q", m.status)
	}
}

type testErr string

func (e testErr) Error() string { return string(e) }

var errTest = testErr("boom")

func TestHelpQuitResizeAndReadOnly(t *testing.T) {
	m := New(&recorder{frame: fixedFrame()})
	m, _ = send(m, "?")
	if !m.showHelp {
		t.Fatal("? did not open help")
	}
	m, _ = send(m, "?")
	if m.showHelp {
		t.Fatal("? did not close help")
	}
	next, _ := m.Update(tea.WindowSizeMsg{Width: 132, Height: 43})
	if mm := next.(Model); mm.width != 132 || mm.height != 43 {
		t.Fatal("resize ignored")
	}
	_, cmd := m.Update(press("q"))
	if cmd == nil {
		t.Fatal("q returned no command")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("q did not quit")
	}
	for _, k := range []string{"ctrl+c", "q"} { // also from an overlay, and from a snapshot
		for _, mm := range []Model{m, func() Model { x, _ := send(m, "?"); return x }(), func() Model { x, _ := send(m, "w"); return x }(), NewViewer(fixedFrame())} {
			if _, cmd := mm.Update(press(k)); cmd == nil {
				t.Fatalf("%s did not quit", k)
			} else if _, ok := cmd().(tea.QuitMsg); !ok {
				t.Fatalf("%s did not quit", k)
			}
		}
	}
	v := NewViewer(fixedFrame())
	v, msgs := send(v, "+", "2", "s", "r")
	if len(msgs) != 0 || v.ctrl != nil {
		t.Fatal("a snapshot view changed something")
	}
	if !strings.Contains(v.Render(), "snapshot") {
		t.Fatal("read-only view does not say so")
	}
}

// The charts' series are derived on the tick and on resize, never in View:
// a new frame shows only after a tick.
func TestSeriesDerivedOnTick(t *testing.T) {
	r := &recorder{frame: fixedFrame()}
	m := New(r)
	m.SetSize(120, 40)
	before := m.d.panels[0].cur
	next := *r.frame
	snap := *next.Metrics
	snap.Series = append(append([]metrics.Point{}, snap.Series...), metrics.Point{T: snap.Elapsed, OutputTPS: 123456})
	next.Metrics = &snap
	r.frame = &next
	if m.Render(); m.d.panels[0].cur != before {
		t.Fatal("View derived the series")
	}
	up, _ := m.Update(tickMsg{})
	if got := up.(Model).d.panels[0].cur; got != 123456 {
		t.Fatalf("after the tick the chart shows %g", got)
	}
	if w := len(up.(Model).d.panels[0].values); w > (120-1)/2 {
		t.Fatalf("%d values for a %d-column chart", w, (120-1)/2)
	}
}

// Events the collector dropped are shown, first on the numbers' line.
func TestDroppedEventsShow(t *testing.T) {
	f := fixedFrame()
	snap := *f.Metrics
	snap.DroppedEvents = 42
	f.Metrics = &snap
	m := New(&recorder{frame: f})
	m.SetSize(80, 24)
	if !strings.Contains(m.Render(), "42 events dropped") {
		t.Fatal("dropped events are not shown")
	}
	if strings.Contains(New(&recorder{frame: fixedFrame()}).Render(), "dropped") {
		t.Fatal("no drops, yet a drop line")
	}
}

// The clock and the step indicator move with the frame's time, even when
// the metrics do not change (a long step publishes nothing).
func TestClockAndStepMoveWithTheFrame(t *testing.T) {
	r := &recorder{frame: fixedFrame()}
	m := New(r)
	m.SetSize(120, 40)
	next := *r.frame
	next.Time = next.Time.Add(7 * time.Second)
	next.Progress = session.Progress{InStep: true, Since: r.frame.Time}
	r.frame = &next
	up, _ := m.Update(tickMsg{})
	head := ansi.Strip(strings.Split(up.(Model).Render(), "\n")[0])
	if !strings.Contains(head, "00:02:07") || !strings.Contains(head, "step in progress for 7s") {
		t.Fatalf("header %q", head)
	}
	up, _ = up.(Model).Update(press("-"))
	if st := up.(Model).status; !strings.Contains(st, "after the step in progress") {
		t.Fatalf("status %q", st)
	}
}
