package experiments

import (
	"context"
	"fmt"
	"io"
	"time"

	"benchtop/engine"
	"benchtop/engine/model"
	"benchtop/kernels"
	"benchtop/metrics"
)

// Options are the engine flags every subcommand shares.
type Options struct {
	Model          string // preset name or model folder
	Device         string // auto, cpu, cuda
	CPUMemoryBytes int64
	Engine         engine.Config
	Log            io.Writer // progress notes (stderr); nil: silent
}

// Session is a loaded model with a running engine.
type Session struct {
	Opts      Options
	Backend   kernels.Backend
	Model     *model.Loaded
	Engine    *engine.Engine
	Collector *metrics.Collector
	LoadTime  time.Duration
	cancel    context.CancelFunc
	done      chan error
}

func (o *Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

// Open loads the model on the chosen device and starts the engine goroutine.
func Open(o Options) (*Session, error) {
	if err := o.Engine.Validate(); err != nil {
		return nil, err
	}
	be, note, err := engine.OpenBackend(o.Device, o.CPUMemoryBytes)
	if err != nil {
		return nil, err
	}
	if note != "" {
		o.logf("benchtop: %s", note)
	}
	t0 := time.Now()
	wdt := be.Info().ComputeDType
	m, err := model.Open(o.Model, be, wdt, o.Engine.Seed+1)
	if err != nil {
		be.Close()
		return nil, err
	}
	s := &Session{Opts: o, Backend: be, Model: m, LoadTime: time.Since(t0), Collector: metrics.NewCollector()}
	s.Engine, err = engine.New(be, m, o.Engine, s.Collector)
	if err != nil {
		m.Free(be)
		be.Close()
		return nil, err
	}
	if m.Synthetic {
		o.logf("benchtop: model %s (synthetic weights), %s on %s, loaded in %s", m.Source, humanParams(m.Cfg.ParamCount()), be.Info().Name, s.LoadTime.Round(time.Millisecond))
	} else {
		o.logf("benchtop: model %s, %s on %s, loaded in %s", m.Source, humanParams(m.Cfg.ParamCount()), be.Info().Name, s.LoadTime.Round(time.Millisecond))
	}
	s.start()
	return s, nil
}

func (s *Session) start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan error, 1)
	go func() { s.done <- s.Engine.Run(ctx) }()
}

// Reconfigure stops nothing: it applies c between steps.
func (s *Session) Reconfigure(c engine.Config, what string) error {
	return s.Engine.Reconfigure(context.Background(), c, what)
}

// Close stops the engine and frees the device.
func (s *Session) Close() error {
	s.cancel()
	err := <-s.done
	s.Engine.Close()
	s.Model.Free(s.Backend)
	if cerr := s.Backend.Close(); err == nil {
		err = cerr
	}
	return err
}

func humanParams(n int64) string {
	if n >= 1e9 {
		return fmt.Sprintf("%.1fB params", float64(n)/1e9)
	}
	return fmt.Sprintf("%.0fM params", float64(n)/1e6)
}
