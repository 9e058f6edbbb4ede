package tui

import (
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"benchtop/engine"
	"benchtop/session"
)

// Controller is what the dashboard drives: a session (the live target and
// its workload). Frame is an atomic load of the published frame.
type Controller interface {
	Frame() *session.Frame
	SwitchWorkload(name string) error
	SetMaxNumSeqs(n int) error
	ReconfigureWith(change func(*engine.Config), what string) error
	SetPaused(paused bool) error
	ResetStats() error
	Snapshot(dir string) ([]string, error)
}

// FrameRate bounds redraws: the model pulls a frame this often.
const FrameRate = 100 * time.Millisecond

// Messages.
type (
	tickMsg   struct{}
	resultMsg struct {
		what string
		err  error
	}
)

// Model is the dashboard.
type Model struct {
	ctrl        Controller // nil when viewing a snapshot
	frame       *session.Frame
	panels      []series // derived from frame on the tick, for the current size
	keys        KeyMap
	styles      Styles
	width       int
	height      int
	showHelp    bool
	picking     bool
	pick        int
	status      string
	statusErr   bool
	SnapshotDir string
}

// New returns a dashboard over ctrl.
func New(ctrl Controller) Model {
	m := Model{ctrl: ctrl, frame: ctrl.Frame(), keys: DefaultKeyMap(), styles: DefaultStyles(), width: 80, height: 24, SnapshotDir: "."}
	m.derive()
	return m
}

// NewViewer returns a read-only dashboard over a reopened snapshot.
func NewViewer(f *session.Frame) Model {
	c := *f
	c.ReadOnly = true
	m := Model{frame: &c, keys: DefaultKeyMap(), styles: DefaultStyles(), width: 80, height: 24,
		status: "read-only: " + f.Source}
	m.derive()
	return m
}

// SetSize sets the terminal size (and derives the charts for it).
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.derive()
}

// Frame is the frame on screen.
func (m Model) Frame() *session.Frame { return m.frame }

func (m Model) Init() tea.Cmd {
	if m.ctrl == nil {
		return nil
	}
	return tick()
}

func tick() tea.Cmd { return tea.Tick(FrameRate, func(time.Time) tea.Msg { return tickMsg{} }) }

// do runs a controller call off the UI goroutine.
func do(what string, f func() error) tea.Cmd {
	return func() tea.Msg { return resultMsg{what: what, err: f()} }
}

func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.SetSize(msg.Width, msg.Height)
		return m, nil
	case tickMsg:
		m.frame = m.ctrl.Frame()
		m.derive()
		return m, tick()
	case resultMsg:
		m.status, m.statusErr = msg.what, msg.err != nil
		if msg.err != nil {
			m.status = fmt.Sprintf("%s: %v", msg.what, msg.err)
		}
		return m, nil
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return m, nil
}

func (m Model) key(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	if key.Matches(msg, k.Quit) {
		return m, tea.Quit
	}
	if key.Matches(msg, k.Help) {
		m.showHelp = !m.showHelp
		return m, nil
	}
	if m.ctrl == nil {
		return m, nil // a snapshot: read-only
	}
	if m.picking {
		switch {
		case key.Matches(msg, k.Up):
			m.pick = max(0, m.pick-1)
		case key.Matches(msg, k.Down):
			m.pick = min(len(m.frame.Workloads)-1, m.pick+1)
		case key.Matches(msg, k.Enter):
			m.picking = false
			return m.switchTo(m.pick)
		case msg.String() == "esc", key.Matches(msg, k.Pick):
			m.picking = false
		}
		return m, nil
	}
	st := m.frame.Status
	switch {
	case key.Matches(msg, k.Workload):
		return m.switchTo(int(msg.String()[0] - '1'))
	case key.Matches(msg, k.Pick):
		m.picking, m.pick = true, 0
		for i, w := range m.frame.Workloads {
			if w == m.frame.Workload {
				m.pick = i
			}
		}
		return m, nil
	case key.Matches(msg, k.More, k.Less) && st != nil && m.frame.Caps.MaxNumSeqs:
		dir := 1
		if key.Matches(msg, k.Less) {
			dir = -1
		}
		n := nextStep(BatchSteps, st.Config.MaxNumSeqs, dir)
		return m.pending(fmt.Sprintf("max_num_seqs=%d", n), func() error { return m.ctrl.SetMaxNumSeqs(n) })
	case key.Matches(msg, k.Memory) && st != nil && m.frame.Caps.Reconfigure:
		u := nextMemory(st.Config.GPUMemoryUtilization)
		what := fmt.Sprintf("gpu_memory_utilization=%.2f", u)
		return m.pending(what, func() error {
			return m.ctrl.ReconfigureWith(func(c *engine.Config) { c.GPUMemoryUtilization = u }, what)
		})
	case key.Matches(msg, k.Eager) && st != nil && m.frame.Caps.Reconfigure:
		eager := !st.Config.EnforceEager
		what := fmt.Sprintf("enforce_eager=%v", eager)
		return m.pending(what, func() error {
			return m.ctrl.ReconfigureWith(func(c *engine.Config) { c.EnforceEager = eager }, what)
		})
	case key.Matches(msg, k.Pause) && st != nil && m.frame.Caps.Pause:
		paused := st.State != engine.StatePaused
		what := "resumed"
		if paused {
			what = "paused"
		}
		return m.pending(what, func() error { return m.ctrl.SetPaused(paused) })
	case key.Matches(msg, k.Reset):
		return m.pending("statistics reset", m.ctrl.ResetStats)
	case key.Matches(msg, k.Snapshot):
		dir := m.SnapshotDir
		m.status, m.statusErr = "writing snapshot…", false
		return m, func() tea.Msg {
			files, err := m.ctrl.Snapshot(dir)
			if err != nil {
				return resultMsg{what: "snapshot", err: err}
			}
			return resultMsg{what: fmt.Sprintf("snapshot written: %v", files)}
		}
	}
	return m, nil
}

func (m Model) pending(what string, f func() error) (tea.Model, tea.Cmd) {
	m.status, m.statusErr = what+"…", false
	return m, do(what, f)
}

func (m Model) switchTo(i int) (tea.Model, tea.Cmd) {
	if i < 0 || i >= len(m.frame.Workloads) {
		return m, nil
	}
	name := m.frame.Workloads[i]
	return m.pending("workload="+name, func() error { return m.ctrl.SwitchWorkload(name) })
}
