package experiments

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	"benchtop/engine"
	"benchtop/engine/model"
	"benchtop/gpumon"
	"benchtop/kernels"
	"benchtop/metrics"
)

// Options are the engine flags every subcommand shares.
type Options struct {
	Model          string // preset name or model folder
	Device         string // auto, cpu, cuda
	CPUMemoryBytes int64
	Engine         engine.Config
	Log            io.Writer // notes (stderr); nil: silent
	Progress       bool      // a status line every second during runs
	SLO            metrics.SLO
	Ceilings       bool // measure the device's ceilings at start (the dashboard's roofline)
}

// Session is a loaded model with a running engine.
type Session struct {
	Opts      Options
	Backend   kernels.Backend
	Model     *model.Loaded
	Engine    *engine.Engine
	Collector *metrics.Collector
	GPU       *gpumon.Sampler // NVML, sampled for the session's life
	LoadTime  time.Duration
	cancel    context.CancelFunc
	done      chan error
}

func (o *Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

// Open starts the device goroutine — which opens the backend, loads the
// model, builds the engine and then runs its loop, so every device call
// happens on one OS thread — and returns once the engine is ready.
func Open(o Options) (*Session, error) {
	if err := o.Engine.Validate(); err != nil {
		return nil, err
	}
	s := &Session{Opts: o, Collector: metrics.NewCollector(metrics.WithSLO(o.SLO)), GPU: gpumon.New(), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.GPU.Run(ctx)
	go s.Collector.Run(ctx)
	ready := make(chan error, 1)
	go s.device(ctx, ready)
	if err := <-ready; err != nil {
		cancel()
		return nil, err
	}
	m, be := s.Model, s.Backend
	kind := ""
	if note := m.WeightsNote(); note != "" {
		kind = " (" + note + ")"
	}
	o.logf("benchtop: model %s%s, %s on %s, loaded in %s", m.Source, kind, humanParams(m.Cfg.ParamCount()), be.Info().Name, s.LoadTime.Round(time.Millisecond))
	return s, nil
}

// device is the engine goroutine for the session's whole life.
func (s *Session) device(ctx context.Context, ready chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	o := s.Opts
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
	e, err := engine.New(be, m, o.Engine, s.Collector)
	if err != nil {
		m.Free(be)
		be.Close()
		ready <- err
		return
	}
	s.Backend, s.Model, s.Engine, s.LoadTime = be, m, e, time.Since(t0)
	if o.Ceilings {
		if err := e.MeasureCeilings(); err != nil {
			o.logf("benchtop: measuring the device's ceilings failed (%v): no roofline", err)
		}
	}
	ready <- nil
	err = e.Run(ctx)
	e.Close()
	m.Free(be)
	if cerr := be.Close(); err == nil {
		err = cerr
	}
	s.done <- err
}

// Reconfigure applies c between steps.
func (s *Session) Reconfigure(c engine.Config, what string) error {
	return s.Engine.Reconfigure(context.Background(), c, what)
}

// Close stops the engine; the device goroutine frees the device.
func (s *Session) Close() error {
	s.cancel()
	return <-s.done
}

func humanParams(n int64) string {
	if n >= 1e9 {
		return fmt.Sprintf("%.1fB params", float64(n)/1e9)
	}
	return fmt.Sprintf("%.0fM params", float64(n)/1e6)
}
