package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"benchtop/engine"
	"benchtop/engine/model"
	"benchtop/gpumon"
	"benchtop/kernels"
	"benchtop/snapshot"
	"benchtop/workloads"
)

// Session is one run: its target — one in-process engine, N engine
// replicas (data parallel) or remote servers — with the collector and NVML
// sampler, the workload driver and the published frame.
type Session struct {
	opts     Options
	replicas []*replica // in-process engines; none against remote targets
	remotes  []*remote  // remote targets; none for in-process engines
	pool     *Pool      // over the replicas or the remotes, when several or remote
	vocab    Vocab
	target   Target
	stats    *stats
	gpu      *gpumon.Sampler

	frame atomic.Pointer[Frame]
	names []string // the workload picker's list, read-only

	loadMu sync.Mutex // serialises starting and stopping the kept-running load
	mu     sync.Mutex // live and segs; never held while waiting
	live   *liveLoad
	segs   []snapshot.Segment // the latest per-segment summaries
	ids    atomic.Int64

	prog        *progress    // the step in progress, from the engine's events
	switchSince atomic.Int64 // Unix ns when the publisher first saw the current rebuild

	ctx    context.Context // the session's life
	cancel context.CancelFunc
	bg     sync.WaitGroup // publisher, sampler, collector, scrapers
	reqs   sync.WaitGroup // remote requests in flight

	closeOnce sync.Once
	closeErr  error
}

// ErrClosed is returned by calls on a closed session.
var ErrClosed = errors.New("session closed")

// ErrNoEngine is returned by calls that need an in-process engine on a
// session against remote targets.
var ErrNoEngine = errors.New("no in-process engine: the session drives remote targets")

// Open starts the session's target and returns once it is ready, with the
// sampler, the collector and the frame publisher running. In-process: one
// device goroutine per engine replica — each opens its backend, loads the
// model, builds its engine and then runs its loop, so every device call
// happens on one OS thread per GPU. Remote: a client per server, its model
// resolved from /v1/models, and a scraper of its /metrics.
func Open(o Options) (*Session, error) {
	if err := o.Engine.Validate(); err != nil {
		return nil, err
	}
	s := &Session{opts: o, stats: newStats(o.SLO), gpu: gpumon.New(), prog: newProgress()}
	for _, b := range workloads.Builtin() {
		s.names = append(s.names, b.Name)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	var err error
	if o.remote() {
		err = s.openRemotes()
	} else {
		err = s.openReplicas()
	}
	if err != nil {
		s.cancel()
		return nil, err
	}
	s.vocab.MaxModelLen = s.MaxModelLen()
	s.publish()
	for _, f := range []func(context.Context){s.gpu.Run, s.stats.run, s.publisher} {
		s.bg.Add(1)
		go func() { defer s.bg.Done(); f(s.ctx) }()
	}
	return s, nil
}

// Close stops the kept-running load, the engines (each device goroutine
// frees its device, the engine finishing its step in flight) or the remote
// requests, the sampler, the scrapers and the publisher, and waits for all
// of them. A second call returns the first's error.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.StopLoad()
		s.cancel()
		var errs []error
		for _, r := range s.replicas {
			if err := <-r.done; err != nil {
				errs = append(errs, err)
			}
		}
		s.reqs.Wait()
		s.bg.Wait()
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Device is the backend's device (replica 0's); against remote targets,
// backend "remote" and the first server's address.
func (s *Session) Device() kernels.DeviceInfo {
	if len(s.replicas) > 0 {
		return s.replicas[0].info
	}
	return kernels.DeviceInfo{Backend: "remote", Name: s.remotes[0].url}
}

// Model is the loaded model (read-only; replica 0's); nil against remote
// targets.
func (s *Session) Model() *model.Loaded {
	if len(s.replicas) > 0 {
		return s.replicas[0].model
	}
	return nil
}

// Engines are the in-process engines, one per replica (none against remote
// targets); for `benchtop serve`, which serves them.
func (s *Session) Engines() []*engine.Engine {
	out := make([]*engine.Engine, len(s.replicas))
	for i, r := range s.replicas {
		out[i] = r.engine
	}
	return out
}

// Remote says whether the session drives remote targets.
func (s *Session) Remote() bool { return len(s.remotes) > 0 }

// Vocab is the model's vocabulary, for building requests.
func (s *Session) Vocab() Vocab { return s.vocab }

// Target is the driven thing.
func (s *Session) Target() Target { return s.target }

// Pool is the dispatcher over the replicas or remote targets; nil for one
// in-process engine.
func (s *Session) Pool() *Pool { return s.pool }

// Options are the options the session opened with.
func (s *Session) Options() Options { return s.opts }

// Status is the target's latest status.
func (s *Session) Status() *engine.Status { return s.target.Status() }

// GPU is the sampler's latest state.
func (s *Session) GPU() *gpumon.State { return s.gpu.Latest() }

// Exec runs f on replica 0's device goroutine between steps and waits for
// it (or for the engine to stop): for what must touch the device (logits,
// measuring ceilings). It does not give up when ctx ends, since f, once
// queued, may still run and write what the caller then reads. Against
// remote targets it is ErrNoEngine.
func (s *Session) Exec(ctx context.Context, f func(e *engine.Engine)) error {
	if len(s.replicas) == 0 {
		return ErrNoEngine
	}
	e := s.replicas[0].engine
	return e.Exec(context.WithoutCancel(ctx), func() { f(e) })
}

// Describe is "model, synthetic weights on backend, max_num_seqs=N", for
// table titles.
// (" ×N data parallel" after the backend for replicas; "model at URL, ..."
// against remote targets).
func (s *Session) Describe() string {
	if s.Remote() {
		return s.describeRemote()
	}
	c := s.Status().Config
	w := ""
	m := s.Model()
	if note := m.WeightsNote(); note != "" {
		w = ", " + note
	}
	dp := ""
	if n := len(s.replicas); n > 1 {
		dp = fmt.Sprintf(" ×%d data parallel", n)
	}
	return fmt.Sprintf("%s%s on %s%s, max_num_seqs=%d", m.Source, w, s.Device().Backend, dp, c.MaxNumSeqs)
}

// controls is the target's settings capability, or an error naming what it
// lacks.
func (s *Session) controls(what string) (Controls, error) {
	c, ok := s.target.(Controls)
	if !ok {
		return nil, fmt.Errorf("%s: the target does not take settings changes", what)
	}
	return c, nil
}

// Reconfigure applies c between steps (what names the change).
func (s *Session) Reconfigure(ctx context.Context, c engine.Config, what string) error {
	ctl, err := s.controls(what)
	if err != nil {
		return err
	}
	return ctl.Reconfigure(ctx, c, what)
}

func humanParams(n int64) string {
	if n >= 1e9 {
		return fmt.Sprintf("%.1fB params", float64(n)/1e9)
	}
	return fmt.Sprintf("%.0fM params", float64(n)/1e6)
}
