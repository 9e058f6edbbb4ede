package session

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"benchtop/engine"
	"benchtop/workloads"
)

// liveLoad is the workload kept running for the dashboard.
type liveLoad struct {
	name   string
	info   LoadInfo
	lag    atomic.Int64 // the newest open-loop send's lag, ns
	cancel context.CancelFunc
	done   chan struct{}
}

// LoadInfo is how the kept-running workload is sent: a closed loop of
// Clients, or an open loop whose newest send was Lag late against its
// arrival offset (the generator falling behind).
type LoadInfo struct {
	Clients  int           `json:"clients"` // closed loop; 0 for an open loop
	OpenLoop bool          `json:"open_loop"`
	Lag      time.Duration `json:"generator_lag_ns"`
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
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if s.ctx.Err() != nil {
		return ErrClosed
	}
	s.stopLoad()
	ctx, cancel := context.WithCancel(s.ctx)
	ll := &liveLoad{name: w.Name, cancel: cancel, done: make(chan struct{})}
	ll.info = LoadInfo{Clients: l.Clients, OpenLoop: l.Arrivals != nil}
	if !ll.info.OpenLoop && ll.info.Clients == 0 {
		ll.info.Clients = min(len(l.Requests), MaxClients) // "all": one client per request
	}
	l.OnLag = func(d time.Duration) { ll.lag.Store(int64(d)) }
	s.mu.Lock()
	s.live = ll
	s.mu.Unlock()
	go func() {
		defer close(ll.done)
		Drive(ctx, s.target, l, KeepRunning, s.nextID(w.Name), nil)
	}()
	s.publish()
	return nil
}

// liveInfo is the kept-running load's name and how it is sent ("" when
// none); it never waits.
func (s *Session) liveInfo() (string, LoadInfo) {
	s.mu.Lock()
	ll := s.live
	s.mu.Unlock()
	if ll == nil {
		return "", LoadInfo{}
	}
	info := ll.info
	info.Lag = time.Duration(ll.lag.Load())
	return ll.name, info
}

// nextID names the copies a load sends: name-N, unique in the session.
func (s *Session) nextID(name string) func() string {
	return func() string { return fmt.Sprintf("%s-%d", name, s.ids.Add(1)) }
}

// stopLoad stops the kept-running load and waits for its clients (s.loadMu
// held; s.mu is not held while waiting, so a frame is never held up); the
// requests they had sent still finish on the target.
func (s *Session) stopLoad() {
	s.mu.Lock()
	ll := s.live
	s.live = nil
	s.mu.Unlock()
	if ll == nil {
		return
	}
	ll.cancel()
	<-ll.done
}

// StopLoad stops the kept-running load, if any.
func (s *Session) StopLoad() {
	s.loadMu.Lock()
	s.stopLoad()
	s.loadMu.Unlock()
}

// SwitchWorkload replaces the kept-running workload by the built-in one
// named, marking the change (a new segment) before its first request.
func (s *Session) SwitchWorkload(name string) error {
	w, err := workloads.Lookup(name)
	if err != nil {
		return err
	}
	if cur, _ := s.liveInfo(); cur == w.Name {
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

// ReconfigureWith applies a changed copy of the target's configuration as
// it was asked for (Status.Requested): the settings change leaves alone
// stay auto where they were, sized again by the engine's rules.
func (s *Session) ReconfigureWith(change func(*engine.Config), what string) error {
	c := s.Status().Requested
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
