package session

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"benchtop/engine"
	"benchtop/engine/model"
	"benchtop/gpumon"
	"benchtop/kernels"
	"benchtop/snapshot"
	"benchtop/workloads"
)

// Session is one run: a loaded model with a running engine, its collector
// and NVML sampler, the workload driver and the published frame.
type Session struct {
	opts     Options
	info     kernels.DeviceInfo
	model    *model.Loaded
	vocab    Vocab
	engine   *engine.Engine // device goroutine only, apart from its goroutine-safe methods
	target   Target
	stats    *stats
	gpu      *gpumon.Sampler
	loadTime time.Duration

	frame atomic.Pointer[Frame]
	names []string // the workload picker's list, read-only

	mu   sync.Mutex // the kept-running load
	live *liveLoad
	segs []snapshot.Segment // the latest per-segment summaries
	ids  atomic.Int64

	ctx    context.Context // the session's life
	cancel context.CancelFunc
	bg     sync.WaitGroup // publisher, sampler, collector
	done   chan error     // the device goroutine's end
}

// ErrClosed is returned by calls on a closed session.
var ErrClosed = errors.New("session closed")

// Open starts the device goroutine — which opens the backend, loads the
// model, builds the engine and then runs its loop, so every device call
// happens on one OS thread — and returns once the engine is ready, with the
// sampler, the collector and the frame publisher running.
func Open(o Options) (*Session, error) {
	if err := o.Engine.Validate(); err != nil {
		return nil, err
	}
	s := &Session{opts: o, stats: newStats(o.SLO), gpu: gpumon.New(), done: make(chan error, 1)}
	for _, b := range workloads.Builtin() {
		s.names = append(s.names, b.Name)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	ready := make(chan error, 1)
	go s.device(ready)
	if err := <-ready; err != nil {
		s.cancel()
		return nil, err
	}
	s.target = engineTarget{s.engine}
	s.vocab = VocabOf(s.model)
	s.vocab.MaxModelLen = s.MaxModelLen()
	s.publish()
	for _, f := range []func(context.Context){s.gpu.Run, s.stats.run, s.publisher} {
		s.bg.Add(1)
		go func() { defer s.bg.Done(); f(s.ctx) }()
	}
	kind := ""
	if note := s.model.WeightsNote(); note != "" {
		kind = " (" + note + ")"
	}
	o.logf("benchtop: model %s%s, %s on %s, loaded in %s", s.model.Source, kind, humanParams(s.model.Cfg.ParamCount()),
		s.info.Name, s.loadTime.Round(time.Millisecond))
	return s, nil
}

// device is the engine goroutine for the session's whole life.
func (s *Session) device(ready chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	o := s.opts
	be, note, err := engine.OpenBackend(o.Device, o.CPUMemoryBytes)
	if err != nil {
		ready <- err
		return
	}
	if note != "" {
		o.logf("benchtop: %s", note)
	}
	t0 := time.Now()
	m, err := model.Open(o.Model, be, model.Options{Seed: o.Engine.Seed + 1})
	if err != nil {
		be.Close()
		ready <- err
		return
	}
	obs := append([]engine.Observer{}, o.Observers...)
	if !o.DetachCollector {
		obs = append(obs, s.stats.observer(0))
	}
	e, err := engine.New(be, m, o.Engine, obs...)
	if err != nil {
		m.Free(be)
		be.Close()
		ready <- err
		return
	}
	s.info, s.model, s.engine, s.loadTime = be.Info(), m, e, time.Since(t0)
	if o.Ceilings {
		if err := e.MeasureCeilings(); err != nil {
			o.logf("benchtop: measuring the device's ceilings failed (%v): no roofline", err)
		}
	}
	ready <- nil
	err = e.Run(s.ctx)
	e.Close()
	m.Free(be)
	if cerr := be.Close(); err == nil {
		err = cerr
	}
	s.done <- err
}

// Close stops the kept-running load, the engine (the device goroutine frees
// the device), the sampler and the publisher, and waits for all of them.
func (s *Session) Close() error {
	s.StopLoad()
	s.cancel()
	err := <-s.done
	s.bg.Wait()
	return err
}

// Device is the backend's device.
func (s *Session) Device() kernels.DeviceInfo { return s.info }

// Model is the loaded model (read-only).
func (s *Session) Model() *model.Loaded { return s.model }

// Vocab is the model's vocabulary, for building requests.
func (s *Session) Vocab() Vocab { return s.vocab }

// Target is the driven thing.
func (s *Session) Target() Target { return s.target }

// Options are the options the session opened with.
func (s *Session) Options() Options { return s.opts }

// Status is the target's latest status.
func (s *Session) Status() *engine.Status { return s.target.Status() }

// GPU is the sampler's latest state.
func (s *Session) GPU() *gpumon.State { return s.gpu.Latest() }

// Exec runs f on the device goroutine between steps and waits for it (or
// for the engine to stop): for what must touch the device (logits,
// measuring ceilings). It does not give up when ctx ends, since f, once
// queued, may still run and write what the caller then reads.
func (s *Session) Exec(ctx context.Context, f func(e *engine.Engine)) error {
	return s.engine.Exec(context.WithoutCancel(ctx), func() { f(s.engine) })
}

// Describe is "model, synthetic weights on backend, max_num_seqs=N", for
// table titles.
func (s *Session) Describe() string {
	c := s.Status().Config
	w := ""
	if note := s.model.WeightsNote(); note != "" {
		w = ", " + note
	}
	return fmt.Sprintf("%s%s on %s, max_num_seqs=%d", s.model.Source, w, s.info.Backend, c.MaxNumSeqs)
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
