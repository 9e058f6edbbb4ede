package tui

import (
	"charm.land/bubbles/v2/key"

	"benchtop/engine"
	"benchtop/session"
)

// KeyMap is every key of the dashboard; the footer's legend is bubbles'
// short help and the help overlay its full help, both generated from it, so
// keys and help never disagree. A key that cannot act on the frame on
// screen (a snapshot, a remote target, a device without CUDA graphs) is
// disabled: it neither shows nor matches.
type KeyMap struct {
	Workload, Pick, Up, Down, Enter, More, Less, Memory, Eager, Pause, Reset, Snapshot, Help, Close, Quit key.Binding
	// Batch is + and - as one legend item (the short help only).
	Batch key.Binding
}

// DefaultKeyMap is the dashboard's keys, every one enabled.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Workload: key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8", "9"), key.WithHelp("1-9", "workload")),
		Pick:     key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "workload picker")),
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Enter:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose")),
		More:     key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", "raise max_num_seqs")),
		Less:     key.NewBinding(key.WithKeys("-", "_"), key.WithHelp("-", "lower max_num_seqs")),
		Memory:   key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "memory 0.7/0.9/0.95")),
		Eager:    key.NewBinding(key.WithKeys("g"), key.WithHelp("g", "eager / CUDA graphs")),
		Pause:    key.NewBinding(key.WithKeys("p", "space"), key.WithHelp("p", "pause / resume")),
		Reset:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reset statistics")),
		Snapshot: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "snapshot")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Close:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close")),
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Batch:    key.NewBinding(key.WithKeys("+", "-"), key.WithHelp("+/-", "batch size")),
	}
}

// ShortHelp is the footer's legend, most useful first: the footer gives
// way from the end, and keeps help and quit whatever the width (see
// footer).
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Workload, k.Batch, k.Memory, k.Eager, k.Pause, k.Snapshot, k.Pick, k.Reset, k.Up, k.Down, k.Enter, k.Close}
}

// Essential are the keys the legend always shows.
func (k KeyMap) Essential() []key.Binding { return []key.Binding{k.Help, k.Quit} }

// FullHelp is the help overlay's columns.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Workload, k.Pick, k.Up, k.Down, k.Enter},
		{k.More, k.Less, k.Memory, k.Eager, k.Pause},
		{k.Reset, k.Snapshot, k.Help, k.Close, k.Quit},
	}
}

// mode is what the screen shows, for which keys apply.
type mode int

const (
	modeCharts mode = iota
	modeHelp
	modePicker
)

// forFrame enables the keys that can act on f in mode md; live says a
// controller is there (not a reopened snapshot).
func (k KeyMap) forFrame(f *session.Frame, live bool, md mode) KeyMap {
	caps := session.Caps{}
	graphs, workloads := false, false
	if f != nil {
		caps = f.Caps
		workloads = len(f.Workloads) > 0
		if f.Status != nil {
			graphs = f.Status.Device.CUDAGraphs
		}
	}
	charts := md == modeCharts && live
	running := f != nil && f.Status != nil && f.Status.State != engine.StateFailed
	k.Workload.SetEnabled(charts && workloads)
	k.Pick.SetEnabled(charts && workloads)
	k.Up.SetEnabled(md == modePicker)
	k.Down.SetEnabled(md == modePicker)
	k.Enter.SetEnabled(md == modePicker)
	k.More.SetEnabled(charts && running && caps.MaxNumSeqs)
	k.Less.SetEnabled(charts && running && caps.MaxNumSeqs)
	k.Batch.SetEnabled(charts && running && caps.MaxNumSeqs)
	k.Memory.SetEnabled(charts && running && caps.Reconfigure)
	k.Eager.SetEnabled(charts && running && caps.Reconfigure && graphs)
	k.Pause.SetEnabled(charts && running && caps.Pause)
	k.Reset.SetEnabled(charts)
	k.Snapshot.SetEnabled(charts)
	k.Help.SetEnabled(md != modePicker)
	k.Close.SetEnabled(md != modeCharts)
	return k
}

// BatchSteps are the tutorial's batch sizes that + and - move through.
var BatchSteps = []int{1, 5, 10, 20, 50, 100, 256}

// MemorySteps are the utilizations m cycles through.
var MemorySteps = []float64{0.7, 0.9, 0.95}

// nextStep is the step after cur in direction dir; cur itself at either
// end (a no-op the caller tells apart).
func nextStep(steps []int, cur, dir int) int {
	if dir > 0 {
		for _, s := range steps {
			if s > cur {
				return s
			}
		}
		return max(cur, steps[len(steps)-1])
	}
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i] < cur {
			return steps[i]
		}
	}
	return min(cur, steps[0])
}

func nextMemory(cur float64) float64 {
	for _, m := range MemorySteps {
		if m > cur+1e-9 {
			return m
		}
	}
	return MemorySteps[0]
}
