package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"benchtop/engine"
	"benchtop/metrics"
)

func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
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
			if r, ok := msg.(resultMsg); ok {
				next, _ = m.Update(r)
				m = next.(Model)
			}
		}
	}
	return m, msgs
}

func TestKeysCallTheController(t *testing.T) {
	cases := []struct {
		keys []string
		want string
	}{
		{[]string{"+"}, "max_num_seqs 256"}, // already at the top step
		{[]string{"-"}, "max_num_seqs 100"},
		{[]string{"2"}, "workload latency"},
		{[]string{"9"}, ""}, // no ninth workload
		{[]string{"w", "down", "enter"}, "workload utilization"},
		{[]string{"w", "esc", "1"}, "workload throughput"},
		{[]string{"m"}, "reconfigure gpu_memory_utilization=0.95"},
		{[]string{"g"}, "reconfigure enforce_eager=true"},
		{[]string{"p"}, "pause"},
		{[]string{"r"}, "reset"},
		{[]string{"s"}, "snapshot /snaps"},
	}
	for _, c := range cases {
		r := &recorder{frame: fixedFrame()}
		m := New(r)
		m.SnapshotDir = "/snaps"
		m, _ = send(m, c.keys...)
		got := strings.Join(r.calls, ";")
		if got != c.want {
			t.Errorf("keys %v: controller got %q, want %q", c.keys, got, c.want)
		}
		if c.want != "" && m.status == "" {
			t.Errorf("keys %v: status %q", c.keys, m.status)
		}
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
	before := m.panels[0].cur
	next := *r.frame
	snap := *next.Metrics
	snap.Series = append(append([]metrics.Point{}, snap.Series...), metrics.Point{T: snap.Elapsed, OutputTPS: 123456})
	next.Metrics = &snap
	r.frame = &next
	if m.Render(); m.panels[0].cur != before {
		t.Fatal("View derived the series")
	}
	up, _ := m.Update(tickMsg{})
	if got := up.(Model).panels[0].cur; got != 123456 {
		t.Fatalf("after the tick the chart shows %g", got)
	}
	if w := len(up.(Model).panels[0].values); w > (120-1)/2 {
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
