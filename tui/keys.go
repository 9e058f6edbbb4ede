package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key of the dashboard; the help overlay is generated
// from it, so keys and help never disagree.
type KeyMap struct {
	Workload, Pick, Up, Down, Enter, More, Less, Memory, Eager, Pause, Reset, Snapshot, Help, Quit key.Binding
}

// DefaultKeyMap is the dashboard's keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Workload: key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8", "9"), key.WithHelp("1-9", "switch workload")),
		Pick:     key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "workload picker")),
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "picker up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "picker down")),
		Enter:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "picker choose")),
		More:     key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", "raise max sequences (batch size)")),
		Less:     key.NewBinding(key.WithKeys("-", "_"), key.WithHelp("-", "lower max sequences")),
		Memory:   key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "cycle memory utilization 0.7/0.9/0.95")),
		Eager:    key.NewBinding(key.WithKeys("g"), key.WithHelp("g", "toggle eager / CUDA graphs")),
		Pause:    key.NewBinding(key.WithKeys("p", "space"), key.WithHelp("p", "pause / resume")),
		Reset:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reset statistics")),
		Snapshot: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "export a snapshot")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// ShortHelp is the footer's line.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Workload, k.More, k.Less, k.Memory, k.Eager, k.Pause, k.Snapshot, k.Help, k.Quit}
}

// FullHelp is the help overlay's columns.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Workload, k.Pick, k.Up, k.Down, k.Enter},
		{k.More, k.Less, k.Memory, k.Eager},
		{k.Pause, k.Reset, k.Snapshot, k.Help, k.Quit},
	}
}

// BatchSteps are the tutorial's batch sizes that + and - move through.
var BatchSteps = []int{1, 5, 10, 20, 50, 100, 256}

// MemorySteps are the utilizations m cycles through.
var MemorySteps = []float64{0.7, 0.9, 0.95}

func nextStep(steps []int, cur, dir int) int {
	if dir > 0 {
		for _, s := range steps {
			if s > cur {
				return s
			}
		}
		return steps[len(steps)-1]
	}
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i] < cur {
			return steps[i]
		}
	}
	return steps[0]
}

func nextMemory(cur float64) float64 {
	for _, m := range MemorySteps {
		if m > cur+1e-9 {
			return m
		}
	}
	return MemorySteps[0]
}
