package session

import (
	"context"
	"fmt"
	"time"

	"benchtop/engine"
	"benchtop/workloads"
)

// liveLoad is the workload kept running for the dashboard.
type liveLoad struct {
	name   string
	cancel context.CancelFunc
	done   chan struct{}
}

// controlTimeout bounds how long a settings change waits for the engine.
const controlTimeout = 10 * time.Minute

// Start keeps w running (KeepRunning) until another workload replaces it
// or the session closes. A workload that cannot be built for the model is
// an error and changes nothing.
func (s *Session) Start(w workloads.Workload) error {
	l, err := s.vocab.Load(w, int64(s.opts.Engine.Seed), "")
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		return ErrClosed
	}
	s.stopLocked()
	ctx, cancel := context.WithCancel(s.ctx)
	ll := &liveLoad{name: w.Name, cancel: cancel, done: make(chan struct{})}
	s.live = ll
	go func() {
		defer close(ll.done)
		Drive(ctx, s.target, l, KeepRunning, s.nextID(w.Name), nil)
	}()
	s.mu.Unlock()
	s.publish()
	return nil
}

// nextID names the copies a load sends: name-N, unique in the session.
func (s *Session) nextID(name string) func() string {
	return func() string { return fmt.Sprintf("%s-%d", name, s.ids.Add(1)) }
}

// stopLocked stops the kept-running load and waits for its clients; the
// requests they had sent still finish on the target.
func (s *Session) stopLocked() {
	if s.live == nil {
		return
	}
	s.live.cancel()
	<-s.live.done
	s.live = nil
}

// StopLoad stops the kept-running load, if any.
func (s *Session) StopLoad() {
	s.mu.Lock()
	s.stopLocked()
	s.mu.Unlock()
}

// SwitchWorkload replaces the kept-running workload by the built-in one
// named, marking the change (a new segment) before its first request.
func (s *Session) SwitchWorkload(name string) error {
	w, err := workloads.Lookup(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	same := s.live != nil && s.live.name == w.Name
	s.mu.Unlock()
	if same {
		return nil
	}
	if _, err := s.vocab.Load(w, 0, ""); err != nil { // refuse before stopping anything
		return err
	}
	s.StopLoad()
	ctx, cancel := context.WithTimeout(s.ctx, controlTimeout)
	defer cancel()
	if err := s.stats.Mark(ctx, time.Now(), "workload="+w.Name); err != nil {
		return err
	}
	return s.Start(w)
}

// SetMaxNumSeqs changes the batch size between steps.
func (s *Session) SetMaxNumSeqs(n int) error {
	ctl, err := s.controls("max_num_seqs")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(s.ctx, controlTimeout)
	defer cancel()
	return ctl.SetMaxNumSeqs(ctx, n)
}

// ReconfigureWith applies a changed copy of the target's configuration.
func (s *Session) ReconfigureWith(change func(*engine.Config), what string) error {
	c := s.Status().Config
	change(&c)
	ctx, cancel := context.WithTimeout(s.ctx, controlTimeout)
	defer cancel()
	return s.Reconfigure(ctx, c, what)
}

// SetPaused pauses or resumes the target.
func (s *Session) SetPaused(p bool) error {
	ctl, err := s.controls("pause")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(s.ctx, controlTimeout)
	defer cancel()
	return ctl.SetPaused(ctx, p)
}

// ResetStats clears every statistic and starts the session clock again.
func (s *Session) ResetStats() error {
	ctx, cancel := context.WithTimeout(s.ctx, controlTimeout)
	defer cancel()
	return s.stats.Reset(ctx)
}

// Snapshot writes the session to dir (the dashboard's key).
func (s *Session) Snapshot(dir string) ([]string, error) {
	ctx, cancel := context.WithTimeout(s.ctx, controlTimeout)
	defer cancel()
	return s.WriteSnapshot(ctx, dir)
}
