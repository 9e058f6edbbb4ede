package engine

import "sync"

// eventLog records every request event an engine emits.
type eventLog struct {
	mu     sync.Mutex
	events []RequestEvent
	steps  []StepEvent
}

func (l *eventLog) OnStep(ev *StepEvent) { l.mu.Lock(); l.steps = append(l.steps, *ev); l.mu.Unlock() }
func (l *eventLog) OnRequest(ev *RequestEvent) {
	l.mu.Lock()
	l.events = append(l.events, *ev)
	l.mu.Unlock()
}

func (l *eventLog) count(k RequestEventKind) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, ev := range l.events {
		if ev.Kind == k {
			n++
		}
	}
	return n
}

func (l *eventLog) last(k RequestEventKind) *RequestEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.events) - 1; i >= 0; i-- {
		if l.events[i].Kind == k {
			ev := l.events[i]
			return &ev
		}
	}
	return nil
}
