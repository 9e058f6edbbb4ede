package engine

import (
	"context"
	"errors"
	"fmt"
)

// ErrStopped is returned to commands sent after the engine stopped.
var ErrStopped = errors.New("engine stopped")

// Run is the engine goroutine: it applies commands between steps and steps
// while there is work and it is not paused. It returns when ctx ends or Stop
// is called (nil), or on a fatal step error; either way every unfinished
// request is finished as aborted, so no waiter hangs.
func (e *Engine) Run(ctx context.Context) (err error) {
	defer func() {
		state, msg := StateStopped, ""
		if err != nil {
			state, msg = StateFailed, err.Error()
		}
		e.abortAll(msg)
		e.publish(state, err)
		e.drainCommands()
		close(e.stopped)
	}()
	for {
		// Every pending command applies before the next step.
		for {
			got, stop := e.next(ctx, false)
			if stop {
				return nil
			}
			if !got {
				break
			}
		}
		if e.failed != nil {
			return e.failed
		}
		if e.paused || !e.sched.HasWork() {
			if _, stop := e.next(ctx, true); stop { // idle: sleep until a command
				return nil
			}
			continue
		}
		if _, err := e.Step(); err != nil {
			return err
		}
	}
}

// next applies one command, waiting for one when block is set. It reports
// whether it applied one and whether the loop must end.
func (e *Engine) next(ctx context.Context, block bool) (got, stop bool) {
	if !block {
		select {
		case f := <-e.cmds:
			return apply(f)
		default:
			return false, ctx.Err() != nil
		}
	}
	select {
	case <-ctx.Done():
		return false, true
	case f := <-e.cmds:
		return apply(f)
	}
}

// apply runs a command; nil is Stop's.
func apply(f func()) (got, stop bool) {
	if f == nil {
		return false, true
	}
	f()
	return true, false
}

// drainCommands answers commands that raced with the loop's end.
func (e *Engine) drainCommands() {
	for {
		select {
		case f := <-e.cmds:
			if f != nil {
				f()
			}
		default:
			return
		}
	}
}

// abortAll finishes every unfinished sequence as aborted, with msg (the
// engine's error, or empty for a plain stop) as the reason.
func (e *Engine) abortAll(msg string) {
	now := e.now()
	if msg != "" {
		msg = "the engine failed: " + msg
	}
	for _, seq := range e.sched.Drain() {
		seq.Err = msg
		e.finish(seq, FinishAborted, now)
	}
}

// do runs f on the engine goroutine and waits for its error.
func (e *Engine) do(ctx context.Context, f func() error) error {
	done := make(chan error, 1)
	select {
	case e.cmds <- func() { done <- f() }:
	case <-ctx.Done():
		return ctx.Err()
	case <-e.stopped:
		return ErrStopped
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-e.stopped:
		select {
		case err := <-done: // it ran while the loop drained
			return err
		default:
			return ErrStopped
		}
	}
}

// Stop ends Run after the current step.
func (e *Engine) Stop() {
	select {
	case e.cmds <- nil:
	case <-e.stopped:
	default:
		go func() {
			select {
			case e.cmds <- nil:
			case <-e.stopped:
			}
		}()
	}
}

// Submit queues requests without waiting for them (the TUI's way); their
// progress is seen through observers.
func (e *Engine) Submit(ctx context.Context, reqs []*Request) error {
	return e.do(ctx, func() error { e.add(reqs, nil); return nil })
}

// Generate submits reqs to a running engine and waits for all of them.
// Results come back in the order of reqs.
func (e *Engine) Generate(ctx context.Context, reqs []*Request) ([]Result, error) {
	ch := make(chan Result, len(reqs))
	if err := e.do(ctx, func() error { e.add(reqs, ch); return nil }); err != nil {
		return nil, err
	}
	return collect(ctx, ch, reqs)
}

// collect receives one result per request and returns them in the order of
// reqs.
func collect(ctx context.Context, ch <-chan Result, reqs []*Request) ([]Result, error) {
	byID := make(map[string]Result, len(reqs))
	for range reqs {
		select {
		case r := <-ch:
			byID[r.ID] = r
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	out := make([]Result, len(reqs))
	for i, r := range reqs {
		out[i] = byID[r.ID]
	}
	return out, nil
}

// GenerateSync runs reqs to completion on the calling goroutine (no Run
// loop): tests and one-shot tools use it.
func (e *Engine) GenerateSync(reqs []*Request) ([]Result, error) {
	ch := make(chan Result, len(reqs))
	e.add(reqs, ch)
	for e.sched.HasWork() {
		if _, err := e.Step(); err != nil {
			e.abortAll(err.Error())
			return nil, err
		}
	}
	return collect(context.Background(), ch, reqs) // every result is already in ch
}

// SetPaused pauses or resumes stepping.
func (e *Engine) SetPaused(ctx context.Context, paused bool) error {
	return e.do(ctx, func() error {
		e.paused = paused
		e.publish(e.runState(), nil)
		return nil
	})
}

// SetMaxNumSeqs changes the batch size between steps.
func (e *Engine) SetMaxNumSeqs(ctx context.Context, n int) error {
	return e.do(ctx, func() error { return e.setMaxNumSeqs(n) })
}

// setMaxNumSeqs is SetMaxNumSeqs on the engine goroutine.
func (e *Engine) setMaxNumSeqs(n int) error {
	// The other settings stay as asked: an auto one is sized again (an
	// auto token budget is raised to n by resolve).
	c := e.req
	c.MaxNumSeqs = n
	if c.MaxNumBatchedTokens != 0 && c.MaxNumBatchedTokens < n {
		c.MaxNumBatchedTokens = n
	}
	return e.reconfigure(c, fmt.Sprintf("max_num_seqs=%d", n))
}

// Reconfigure applies a new configuration between steps. A change that
// reshapes the KV pool or the workspace preempts every running sequence
// (they are recomputed later) and rebuilds both. No request is lost: a
// change after which a queued or running request could never finish (its
// tokens no longer fit max_model_len, or the new pool cannot hold it) is
// refused with ErrWouldStrand and the previous configuration is restored;
// a failed rebuild is refused the same way. A zero field of c is auto and
// sized again (resolve), so a caller that changes one setting starts from
// Status().Requested, not Status().Config, to keep the others auto. A change
// of gpu_memory_utilization that leaves the pool as it is (a CPU pool capped
// at what the batch can use) rebuilds nothing.
func (e *Engine) Reconfigure(ctx context.Context, c Config, what string) error {
	return e.do(ctx, func() error { return e.reconfigure(c, what) })
}

// runState is what the status says between steps.
func (e *Engine) runState() RunState {
	if e.paused {
		return StatePaused
	}
	return StateRunning
}

// Close frees the engine's device memory (not the model's weights).
func (e *Engine) Close() { e.freeBuffers() }

// Exec runs f on the engine goroutine between steps and waits for it:
// the way other goroutines read state the engine goroutine owns (such as its
// observers').
func (e *Engine) Exec(ctx context.Context, f func()) error {
	return e.do(ctx, func() error { f(); return nil })
}
