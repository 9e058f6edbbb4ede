package engine

import (
	"context"
	"errors"
)

// ErrUnknownRequest is returned by Abort for a request the engine does not
// hold: finished already, or never submitted.
var ErrUnknownRequest = errors.New("no unfinished request with that id")

// Abort finishes the request with this id as aborted, between steps: its
// KV blocks are freed, its waiter and stream get FinishAborted and its
// observers an EvFinished. A server calls it when a client disconnects.
func (e *Engine) Abort(ctx context.Context, id string) error {
	return e.do(ctx, func() error {
		seq, err := e.sched.Abort(id)
		if err != nil {
			return err
		}
		seq.Err = "aborted"
		e.finish(seq, FinishAborted, e.now())
		return nil
	})
}

// Abort takes the sequence of request id out of the running or waiting set
// and frees its blocks; ErrUnknownRequest when neither holds it.
func (s *Scheduler) Abort(id string) (*Sequence, error) {
	for _, list := range [][]*Sequence{s.running, s.waiting} {
		for _, seq := range list {
			if seq.Req.ID != id {
				continue
			}
			s.remove(seq)
			s.waiting = removeSeq(s.waiting, seq)
			seq.State = Finished
			return seq, s.blocks.Release(seq)
		}
	}
	return nil, ErrUnknownRequest
}

// AddObserver attaches another observer between steps (a server's metrics
// attach to an engine that is already running). It must not block, as
// every observer.
func (e *Engine) AddObserver(ctx context.Context, o Observer) error {
	return e.do(ctx, func() error { e.obs = append(e.obs, o); return nil })
}
