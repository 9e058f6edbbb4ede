package metrics

import (
	"slices"
	"sync"
	"time"

	"benchtop/engine"
)

// Kinds of queued events beyond the engine's request event kinds.
const (
	kindStep  uint8 = 100 + iota // aux indexes batch.steps
	kindMark                     // aux indexes batch.texts (what changed)
	kindReset                    // t is the new clock's start
)

// event is one hand-off from an observer: a small value, copied into the
// queue. Times are Unix nanoseconds. A step's numbers and a text (a finished
// request's error, a marker's label) ride beside it in the batch, so the
// common event — a token — stays 48 bytes.
type event struct {
	id      string
	t       int64
	arrival int64
	prompt  int32
	output  int32
	aux     int32 // index into batch.steps or batch.texts; -1 none
	source  uint16
	kind    uint8 // engine.RequestEventKind, or kindStep, kindMark, kindReset
	finish  uint8 // engine.FinishReason
}

// batch is what the aggregator takes from the queue in one go.
type batch struct {
	ev    []event
	steps []engine.StepEvent
	texts []string
}

func (b *batch) reset() {
	clear(b.ev) // let go of request IDs
	clear(b.texts)
	b.ev, b.steps, b.texts = b.ev[:0], b.steps[:0], b.texts[:0]
}

// queue is the bounded hand-off between observers (the engine's goroutine,
// or several) and the aggregator. A push holds the mutex for a copy and
// never waits for the aggregator: the aggregator swaps the whole pending
// batch out under the same mutex and works on it outside. When limit events
// are pending, data events are dropped and counted; controls (Mark, Reset)
// are never dropped, so they may exceed the limit by their own number.
//
// A push does not wake the aggregator: it drains on its own clock
// (Options.DrainEvery), so a step hands off its events without a system
// call. Only a push that fills the queue to wakeAt (a quarter of limit)
// wakes it early, so a burst is drained before it could be dropped.
type queue struct {
	mu      sync.Mutex
	cur     batch
	limit   int
	wakeAt  int
	dropped int64
	wake    chan struct{} // a token when the pending batch reaches wakeAt
}

func newQueue(limit int) *queue {
	return &queue{cur: batch{ev: make([]event, 0, limit)}, limit: limit, wakeAt: max(1, limit/4), wake: make(chan struct{}, 1)}
}

// push hands off e, with a step or a text beside it.
func (q *queue) push(e event, step *engine.StepEvent, text string, control bool) {
	q.mu.Lock()
	if !control && len(q.cur.ev) >= q.limit {
		q.dropped++
		q.mu.Unlock()
		return
	}
	e.aux = -1
	if step != nil {
		e.aux = int32(len(q.cur.steps))
		q.cur.steps = append(q.cur.steps, *step)
	} else if text != "" {
		e.aux = int32(len(q.cur.texts))
		q.cur.texts = append(q.cur.texts, text)
	}
	q.cur.ev = append(q.cur.ev, e)
	full := len(q.cur.ev) == q.wakeAt
	q.mu.Unlock()
	if full {
		q.signal()
	}
}

// pushRequests hands off request events of source src (a step's tokens)
// under one lock, each written straight into its slot, or dropped and
// counted when the queue is full; one that carries a text (a finished
// request's error) goes to withText(i), outside the lock, in its turn.
// now stamps an event whose time is zero.
func (q *queue) pushRequests(src uint16, evs []engine.RequestEvent, now func() time.Time, withText func(i int)) {
	for i := 0; i < len(evs); {
		q.mu.Lock()
		before := len(q.cur.ev)
		for ; i < len(evs); i++ {
			ev := &evs[i]
			if ev.Kind == engine.EvFinished && ev.Err != "" {
				break
			}
			n := len(q.cur.ev)
			if n >= q.limit {
				q.dropped++
				continue
			}
			if n == cap(q.cur.ev) {
				q.cur.ev = slices.Grow(q.cur.ev, 1)
			}
			q.cur.ev = q.cur.ev[:n+1]
			setRequest(&q.cur.ev[n], src, ev, now)
		}
		full := before < q.wakeAt && len(q.cur.ev) >= q.wakeAt
		q.mu.Unlock()
		if full {
			q.signal()
		}
		if i < len(evs) {
			withText(i)
			i++
		}
	}
}

// setRequest writes ev of source src into e, as queued.
func setRequest(e *event, src uint16, ev *engine.RequestEvent, now func() time.Time) {
	t := unixNano(ev.Time, now)
	arrival := t
	if !ev.Arrival.IsZero() {
		arrival = ev.Arrival.UnixNano()
	}
	*e = event{id: ev.ID, t: t, arrival: arrival, prompt: clamp32(ev.PromptTokens), output: clamp32(ev.OutputTokens),
		aux: -1, source: src, kind: uint8(ev.Kind), finish: uint8(ev.Finish)}
}

// unixNano is t in Unix nanoseconds; a zero time is stamped now.
func unixNano(t time.Time, now func() time.Time) int64 {
	if t.IsZero() {
		t = now()
	}
	return t.UnixNano()
}

func clamp32(n int) int32 { return int32(min(max(n, 0), 1<<31-1)) }

// signal wakes the aggregator early, once however many pushers ask.
func (q *queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take swaps the pending batch for spare (emptied) and returns it, with the
// drop count so far.
func (q *queue) take(spare batch) (batch, int64) {
	spare.reset()
	q.mu.Lock()
	b := q.cur
	q.cur = spare
	d := q.dropped
	q.mu.Unlock()
	return b, d
}
