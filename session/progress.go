package session

import (
	"sync/atomic"
	"time"

	"benchtop/engine"
)

// Progress is what the engine is doing at the frame's time, so that a
// screen can show that a long step or a pool rebuild is under way while no
// step event arrives: the engine publishes a step only when it ends.
type Progress struct {
	// InStep: a step is running, and has been since Since.
	InStep bool `json:"in_step"`
	// Switching: the KV pool or workspace is being rebuilt, since Since.
	Switching bool      `json:"switching"`
	Since     time.Time `json:"since"`
	// LastStepEnd is when the newest step ended (zero before the first).
	LastStepEnd time.Time `json:"last_step_end"`
}

// For is how long the step or rebuild has been running at t (0 when
// neither is).
func (p Progress) For(t time.Time) time.Duration {
	if (!p.InStep && !p.Switching) || p.Since.IsZero() {
		return 0
	}
	return max(0, t.Sub(p.Since))
}

// progress is an engine observer that infers the step in progress from
// the events: the loop steps whenever it holds an unfinished request and is
// neither paused nor rebuilding, so a step is running from the later of the
// previous step's end and the moment work arrived. Its methods run on the
// engine goroutine (one writer) and only store atomics.
type progress struct {
	outstanding atomic.Int64 // requests arrived and not finished
	lastEnd     atomic.Int64 // Unix ns of the newest step's end
	workSince   atomic.Int64 // Unix ns when outstanding last rose from 0
	now         func() time.Time
}

func newProgress() *progress { return &progress{now: time.Now} }

func (p *progress) OnStep(ev *engine.StepEvent) {
	p.lastEnd.Store(ev.Start.Add(ev.Total).UnixNano())
}

func (p *progress) OnRequest(ev *engine.RequestEvent) {
	switch ev.Kind {
	case engine.EvArrived:
		if p.outstanding.Add(1) == 1 {
			p.workSince.Store(p.now().UnixNano())
		}
	case engine.EvFinished:
		p.outstanding.Add(-1)
	}
}

// at is the progress as of now, given the engine's published run state;
// switchSince is when the publisher first saw the current rebuild.
func (p *progress) at(state engine.RunState, switchSince time.Time) Progress {
	var out Progress
	if end := p.lastEnd.Load(); end != 0 {
		out.LastStepEnd = time.Unix(0, end)
	}
	switch state {
	case engine.StateSwitching:
		out.Switching, out.Since = true, switchSince
	case engine.StateRunning:
		if p.outstanding.Load() > 0 {
			out.InStep = true
			out.Since = time.Unix(0, max(p.lastEnd.Load(), p.workSince.Load()))
		}
	}
	return out
}

// OnRequests takes a step's token events, which say nothing of the step in
// progress (engine.BatchObserver: one call a step, not one a token).
func (p *progress) OnRequests([]engine.RequestEvent) {}
