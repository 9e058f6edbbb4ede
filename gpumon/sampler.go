package gpumon

import (
	"context"
	"sync/atomic"
	"time"
)

// Source reads NVML: the cgo build binds github.com/NVIDIA/go-nvml, the
// no-cgo build has none and says why.
type Source interface {
	// Open initialises the library and returns the driver version and the
	// number of GPUs; an error says why there is no data.
	Open() (driver string, gpus int, err error)
	// Read is GPU i's counters now.
	Read(i int) GPU
	Close()
}

// Sampler polls a Source every Interval and keeps up to MaxSamples samples.
// Process, when set, is read with every sample too, NVML or not.
type Sampler struct {
	Interval   time.Duration
	MaxSamples int
	Process    ProcessSource
	src        Source
	state      atomic.Pointer[State]
}

// New returns a 4 Hz sampler over NVML and this process, keeping an hour
// of samples.
func New() *Sampler {
	s := NewWith(nvmlSource())
	s.Process = NewProcessSource()
	return s
}

// NewWith returns a sampler over src.
func NewWith(src Source) *Sampler {
	s := &Sampler{Interval: 250 * time.Millisecond, MaxSamples: 4 * 3600, src: src}
	s.state.Store(&State{Reason: "starting", Interval: s.Interval})
	return s
}

// Latest is the newest published state; safe from any goroutine.
func (s *Sampler) Latest() *State { return s.state.Load() }

// Run samples until ctx ends. Where NVML is missing or sees no GPU the
// state says why, and Run goes on sampling the process alone, or returns at
// once without a ProcessSource.
func (s *Sampler) Run(ctx context.Context) {
	driver, n, err := s.src.Open()
	reason := ""
	if err != nil {
		reason, n = err.Error(), 0
		if s.Process == nil {
			s.state.Store(&State{Reason: reason, Interval: s.Interval})
			return
		}
	} else {
		defer s.src.Close()
	}
	var hist []Sample
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		smp := Sample{Time: time.Now(), GPUs: make([]GPU, 0, n)}
		for i := 0; i < n; i++ {
			smp.GPUs = append(smp.GPUs, s.src.Read(i))
		}
		if s.Process != nil {
			p := s.Process.Read()
			smp.Process = &p
		}
		hist = append(hist, smp)
		if len(hist) > 2*s.MaxSamples {
			hist = append([]Sample(nil), hist[len(hist)-s.MaxSamples:]...)
		}
		// Readers get a slice header over append-only data.
		s.state.Store(&State{Available: err == nil, Reason: reason, Driver: driver, Interval: s.Interval, History: hist[:len(hist):len(hist)]})
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Publish stores a state as if sampled (replays and tests).
func (s *Sampler) Publish(st *State) { s.state.Store(st) }
