package session

import (
	"testing"
	"time"

	"benchtop/engine"
)

// The step in progress is inferred from the events: from the later of the
// last step's end and the arrival of work, while work is outstanding.
func TestProgressFromEvents(t *testing.T) {
	now := bt0
	p := newProgress()
	p.now = func() time.Time { return now }
	if got := p.at(engine.StateRunning, time.Time{}); got.InStep {
		t.Fatalf("no work, yet in a step: %+v", got)
	}
	p.OnRequest(&engine.RequestEvent{Kind: engine.EvArrived})
	got := p.at(engine.StateRunning, time.Time{})
	if !got.InStep || !got.Since.Equal(bt0) {
		t.Fatalf("work arrived at t0: %+v", got)
	}
	if d := got.For(bt0.Add(3 * time.Second)); d != 3*time.Second {
		t.Fatalf("for %s", d)
	}
	p.OnStep(&engine.StepEvent{Start: bt0.Add(time.Second), Total: 2 * time.Second})
	if got := p.at(engine.StateRunning, time.Time{}); !got.Since.Equal(bt0.Add(3*time.Second)) || !got.LastStepEnd.Equal(got.Since) {
		t.Fatalf("the next step starts as the last ends: %+v", got)
	}
	if got := p.at(engine.StatePaused, time.Time{}); got.InStep || got.For(bt0.Add(time.Hour)) != 0 {
		t.Fatalf("paused: %+v", got)
	}
	sw := bt0.Add(10 * time.Second)
	if got := p.at(engine.StateSwitching, sw); !got.Switching || !got.Since.Equal(sw) || got.For(sw.Add(time.Second)) != time.Second {
		t.Fatalf("switching: %+v", got)
	}
	p.OnRequest(&engine.RequestEvent{Kind: engine.EvFinished})
	if got := p.at(engine.StateRunning, time.Time{}); got.InStep {
		t.Fatalf("all finished, yet in a step: %+v", got)
	}
}
