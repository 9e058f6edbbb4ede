package engine

import "fmt"

// RunState is what the engine loop is doing, as its status publishes it.
type RunState int

const (
	StateRunning   RunState = iota // stepping whenever there is work
	StatePaused                    // no steps until resumed
	StateSwitching                 // rebuilding the KV pool or workspace
	StateStopped                   // Run returned
	StateFailed                    // Run returned on a step error (Status.Err)
)

var runStateNames = [...]string{"running", "paused", "switching", "stopped", "failed"}

func (s RunState) String() string {
	if s < 0 || int(s) >= len(runStateNames) {
		return fmt.Sprintf("RunState(%d)", int(s))
	}
	return runStateNames[s]
}

// MarshalText writes the state's name.
func (s RunState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name.
func (s *RunState) UnmarshalText(b []byte) error {
	for i, n := range runStateNames {
		if n == string(b) {
			*s = RunState(i)
			return nil
		}
	}
	return fmt.Errorf("unknown run state %q", b)
}
