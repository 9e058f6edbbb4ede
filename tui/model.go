package tui

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"benchtop/engine"
	"benchtop/session"
)

// Controller is what the dashboard drives: a session (the live target and
// its workload). Frame is an atomic load of the published frame; the other
// calls may wait for the engine, so they run as commands, off the UI
// goroutine.
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
	snapshotMsg struct {
		files []string
		err   error
	}
)

// Model is the dashboard.
type Model struct {
	ctrl   Controller // nil when viewing a snapshot
	frame  *session.Frame
	keys   KeyMap
	styles Styles
	width  int
	height int

	showHelp bool
	picking  bool
	pick     int

	status    string
	statusErr bool

	// Derived from the frame on the tick and on resize (View only reads).
	d derived

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

// Keys is the key map as it applies to the screen now.
func (m Model) Keys() KeyMap { return m.keys }

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
	case snapshotMsg:
		if msg.err != nil {
			m.status, m.statusErr = "snapshot: "+msg.err.Error(), true
			return m, nil
		}
		m.status, m.statusErr = "wrote "+fileList(msg.files), false
		return m, nil
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return m, nil
}

// fileList names written files as the first path, then the others'
// extensions where they share its stem: "dir/x.json, .csv, .md".
func fileList(files []string) string {
	if len(files) == 0 {
		return "no files"
	}
	out := []string{files[0]}
	stem := strings.TrimSuffix(files[0], filepath.Ext(files[0]))
	for _, f := range files[1:] {
		if strings.TrimSuffix(f, filepath.Ext(f)) == stem {
			out = append(out, filepath.Ext(f))
		} else {
			out = append(out, f)
		}
	}
	return strings.Join(out, ", ")
}

func (m Model) mode() mode {
	switch {
	case m.showHelp:
		return modeHelp
	case m.picking:
		return modePicker
	}
	return modeCharts
}

// setMode changes the overlay and the keys that apply.
func (m *Model) setMode(help, picking bool) {
	m.showHelp, m.picking = help, picking
	m.keys = m.keys.forFrame(m.frame, m.ctrl != nil, m.mode())
}

func (m Model) key(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return m, tea.Quit
	case key.Matches(msg, k.Close):
		m.setMode(false, false)
		return m, nil
	case key.Matches(msg, k.Help):
		m.setMode(!m.showHelp, false)
		return m, nil
	}
	if m.picking {
		switch {
		case key.Matches(msg, k.Up):
			m.pick = max(0, m.pick-1)
		case key.Matches(msg, k.Down):
			m.pick = min(len(m.frame.Workloads)-1, m.pick+1)
		case key.Matches(msg, k.Enter):
			m.setMode(false, false)
			return m.switchTo(m.pick)
		}
		return m, nil
	}
	st := m.frame.Status
	switch {
	case key.Matches(msg, k.Workload):
		return m.switchTo(int(msg.String()[0] - '1'))
	case key.Matches(msg, k.Pick):
		m.pick = 0
		for i, w := range m.frame.Workloads {
			if w == m.frame.Workload {
				m.pick = i
			}
		}
		m.setMode(false, true)
		return m, nil
	case key.Matches(msg, k.More, k.Less):
		dir := 1
		if key.Matches(msg, k.Less) {
			dir = -1
		}
		cur := st.Config.MaxNumSeqs
		n := nextStep(BatchSteps, cur, dir)
		if n == cur {
			m.status, m.statusErr = fmt.Sprintf("max_num_seqs is already %d: nothing to change", cur), false
			return m, nil
		}
		return m.pending(fmt.Sprintf("max_num_seqs=%d", n), func() error { return m.ctrl.SetMaxNumSeqs(n) })
	case key.Matches(msg, k.Memory):
		u := nextMemory(st.Config.GPUMemoryUtilization)
		what := fmt.Sprintf("gpu_memory_utilization=%.2f", u)
		return m.pending(what, func() error {
			return m.ctrl.ReconfigureWith(func(c *engine.Config) { c.GPUMemoryUtilization = u }, what)
		})
	case key.Matches(msg, k.Eager):
		eager := !st.Config.EnforceEager
		what := fmt.Sprintf("enforce_eager=%v", eager)
		return m.pending(what, func() error {
			return m.ctrl.ReconfigureWith(func(c *engine.Config) { c.EnforceEager = eager }, what)
		})
	case key.Matches(msg, k.Pause):
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
		m.status, m.statusErr = "writing a snapshot…", false
		return m, func() tea.Msg {
			files, err := m.ctrl.Snapshot(dir)
			return snapshotMsg{files: files, err: err}
		}
	}
	return m, nil
}

// pending shows what was asked and runs it; a change waits for the step in
// progress, and says so when that step is long.
func (m Model) pending(what string, f func() error) (tea.Model, tea.Cmd) {
	m.status, m.statusErr = what+"…", false
	if m.d.stepFor >= time.Second {
		m.status += " (after the step in progress)"
	}
	return m, do(what, f)
}

func (m Model) switchTo(i int) (tea.Model, tea.Cmd) {
	if i < 0 || i >= len(m.frame.Workloads) {
		return m, nil
	}
	name := m.frame.Workloads[i]
	if name == m.frame.Workload {
		m.status, m.statusErr = name+" is already running", false
		return m, nil
	}
	return m.pending("workload="+name, func() error { return m.ctrl.SwitchWorkload(name) })
}
