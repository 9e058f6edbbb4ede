package session

import (
	"context"

	"benchtop/engine"
)

// Target is what a session drives. Generate submits reqs together (so that
// requests due at once reach the scheduler as one batch) and waits until
// each has finished; results come back in the order of reqs. An error means
// the submission failed or ctx ended; requests already accepted still
// finish on the target, and their events still reach the collector.
type Target interface {
	Generate(ctx context.Context, reqs []*engine.Request) ([]engine.Result, error)
	// Status is the target's latest published status; nil when it has none.
	Status() *engine.Status
}

// Controls is the optional capability of a target whose settings change
// mid-run. A remote server cannot change its batch size, so the session
// asks the target (see Caps) before offering these.
type Controls interface {
	SetMaxNumSeqs(ctx context.Context, n int) error
	Reconfigure(ctx context.Context, c engine.Config, what string) error
	SetPaused(ctx context.Context, paused bool) error
}

// Caps are the settings changes a target takes.
type Caps struct {
	MaxNumSeqs  bool `json:"max_num_seqs"`
	Reconfigure bool `json:"reconfigure"`
	Pause       bool `json:"pause"`
}

// CapsOf asks t what it supports: a target that knows (a pool: what some
// member takes) says so, any other takes everything when it has Controls.
func CapsOf(t Target) Caps {
	if c, ok := t.(interface{ Caps() Caps }); ok {
		return c.Caps()
	}
	if _, ok := t.(Controls); ok {
		return Caps{MaxNumSeqs: true, Reconfigure: true, Pause: true}
	}
	return Caps{}
}
