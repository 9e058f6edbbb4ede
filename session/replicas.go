package session

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"time"

	"benchtop/engine"
	"benchtop/engine/model"
	"benchtop/kernels"
)

// MaxDataParallel bounds --data-parallel-size (replicas are device
// goroutines, each with a model and a KV pool).
const MaxDataParallel = 64

// replica is one in-process engine on its own device goroutine: on a GPU,
// its own CUDA context and its own copy of the weights.
type replica struct {
	index    int
	device   string // the backend asked for: auto, cpu, cuda
	ordinal  int    // the GPU's ordinal (ignored on the CPU)
	info     kernels.DeviceInfo
	model    *model.Loaded
	engine   *engine.Engine
	loadTime time.Duration
	done     chan error // the device goroutine's end
}

// engineTarget is the in-process engine. Its events reach the collector
// through the observer the engine was built with.
type engineTarget struct{ e *engine.Engine }

func (t engineTarget) Generate(ctx context.Context, reqs []*engine.Request) ([]engine.Result, error) {
	return t.e.Generate(ctx, reqs)
}
func (t engineTarget) Status() *engine.Status { return t.e.Status() }
func (t engineTarget) SetMaxNumSeqs(ctx context.Context, n int) error {
	return t.e.SetMaxNumSeqs(ctx, n)
}
func (t engineTarget) Reconfigure(ctx context.Context, c engine.Config, what string) error {
	return t.e.Reconfigure(ctx, c, what)
}
func (t engineTarget) SetPaused(ctx context.Context, p bool) error { return t.e.SetPaused(ctx, p) }

// gpuLister lists the GPUs the driver sees (a variable for tests).
var gpuLister = engine.GPUs

// planReplicas says which backend and GPU each replica opens: N replicas
// (DataParallel, or one per listed device), each on its own GPU when the
// device is cuda, or auto with GPUs present; on the CPU they share the
// cores. N larger than the GPUs found, a device the driver does not see or
// one listed twice is an error naming the GPUs found.
func planReplicas(o Options) (device string, ordinals []int, err error) {
	n := max(1, o.DataParallel)
	switch {
	case o.DataParallel < 0 || o.DataParallel > MaxDataParallel:
		return "", nil, fmt.Errorf("data-parallel-size %d: must be between 1 and %d", o.DataParallel, MaxDataParallel)
	case len(o.Devices) > 0 && o.DataParallel == 0:
		n = len(o.Devices)
	case len(o.Devices) > 0 && len(o.Devices) != n:
		return "", nil, fmt.Errorf("devices %v: %d GPUs listed for data-parallel-size %d (one per replica)", o.Devices, len(o.Devices), n)
	}
	if n > MaxDataParallel {
		return "", nil, fmt.Errorf("devices %v: at most %d replicas", o.Devices, MaxDataParallel)
	}
	for i, d := range o.Devices {
		if d < 0 {
			return "", nil, fmt.Errorf("devices %v: GPU %d is negative", o.Devices, d)
		}
		if slices.Contains(o.Devices[:i], d) {
			return "", nil, fmt.Errorf("devices %v: GPU %d listed twice (one replica per GPU)", o.Devices, d)
		}
	}
	device = o.Device
	if device == "" {
		device = "auto"
	}
	if n == 1 && len(o.Devices) == 0 {
		return device, []int{0}, nil // one engine: the first GPU, or the CPU, as ever
	}
	ordinals = o.Devices
	if ordinals == nil {
		for i := range n {
			ordinals = append(ordinals, i)
		}
	}
	if device == "cpu" {
		if len(o.Devices) > 0 {
			return "", nil, fmt.Errorf("devices %v: the CPU backend has no GPUs to pick (its replicas share the cores)", o.Devices)
		}
		return device, ordinals, nil
	}
	gpus, lerr := gpuLister()
	if lerr != nil || len(gpus) == 0 {
		why := "the CUDA driver sees no GPU"
		if lerr != nil {
			why = lerr.Error()
		}
		if device == "cuda" || len(o.Devices) > 0 {
			return "", nil, fmt.Errorf("%d replicas on GPUs %v: no GPU found (%s)", n, ordinals, why)
		}
		return "auto", ordinals, nil // auto without a GPU: CPU replicas sharing the cores
	}
	if n > len(gpus) && len(o.Devices) == 0 {
		return "", nil, fmt.Errorf("data-parallel-size %d: more replicas than GPUs; %d found: %s", n, len(gpus), engine.DescribeGPUs(gpus))
	}
	for _, d := range ordinals {
		if d >= len(gpus) {
			return "", nil, fmt.Errorf("devices %v: no GPU %d; %d found: %s", o.Devices, d, len(gpus), engine.DescribeGPUs(gpus))
		}
	}
	return "cuda", ordinals, nil
}

// openReplicas starts one device goroutine per replica (their models load
// at the same time) and waits until every engine is ready; if one fails,
// the others are stopped and the first failure returned.
func (s *Session) openReplicas() error {
	o := s.opts
	device, ordinals, err := planReplicas(o)
	if err != nil {
		return err
	}
	n := len(ordinals)
	s.replicas = make([]*replica, n)
	ready := make([]chan error, n)
	for i := range n {
		r := &replica{index: i, device: device, ordinal: ordinals[i], done: make(chan error, 1)}
		s.replicas[i], ready[i] = r, make(chan error, 1)
		go r.run(s, ready[i])
	}
	var errs []error
	for i, ch := range ready {
		if err := <-ch; err != nil {
			switch {
			case n > 1 && device == "cuda":
				err = fmt.Errorf("replica %d (GPU %d): %w", i, ordinals[i], err)
			case n > 1:
				err = fmt.Errorf("replica %d: %w", i, err)
			}
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		s.cancel()
		for _, r := range s.replicas {
			if r.engine != nil {
				<-r.done
			}
		}
		s.replicas = nil
		return errors.Join(errs...)
	}
	r0 := s.replicas[0]
	s.vocab = VocabOf(r0.model)
	if n == 1 {
		s.target = engineTarget{r0.engine}
	} else {
		members := make([]Member, n)
		for i, r := range s.replicas {
			members[i] = Member{Name: r.name(n), Kind: "replica", Target: engineTarget{r.engine}}
		}
		if s.pool, err = NewPool(s.ctx, members, o.Policy, 0); err != nil {
			return err
		}
		s.target = s.pool
	}
	kind := ""
	if note := r0.model.WeightsNote(); note != "" {
		kind = " (" + note + ")"
	}
	dtype := r0.model.DType.String()
	if r0.model.ComputeDType != r0.model.DType {
		dtype += " (computed in " + r0.model.ComputeDType.String() + ")"
	}
	for _, r := range s.replicas {
		where := r.info.Name
		if n > 1 {
			where = r.name(n) + ": " + where
		}
		o.logf("benchtop: model %s%s, %s in %s on %s, loaded in %s", r.model.Source, kind, humanParams(r.model.Cfg.ParamCount()),
			dtype, where, r.loadTime.Round(time.Millisecond))
	}
	if n > 1 {
		o.logf("benchtop: %d data-parallel replicas, requests spread %s", n, o.Policy)
	}
	return nil
}

// name is what the replica's row shows: "replica 1 (GPU 1)" on a GPU.
func (r *replica) name(n int) string {
	if r.info.Backend == "cuda" {
		return fmt.Sprintf("replica %d (GPU %d)", r.index, r.ordinal)
	}
	if n == 1 {
		return "engine"
	}
	return fmt.Sprintf("replica %d (%s)", r.index, r.info.Backend)
}

// run is the replica's device goroutine for the session's whole life: it
// opens the backend, loads the model and builds the engine (reporting on
// ready), then runs the engine loop until the session ends and frees the
// device.
func (r *replica) run(s *Session, ready chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	o := s.opts
	be, note, err := engine.OpenBackendOn(r.device, r.ordinal, o.CPUMemoryBytes)
	if err != nil {
		ready <- err
		return
	}
	if o.WrapBackend != nil {
		be = o.WrapBackend(be)
	}
	if note != "" && r.index == 0 {
		o.logf("benchtop: %s", note)
	}
	t0 := time.Now()
	m, err := model.Open(o.Model, be, model.Options{DType: o.DType, Seed: o.Engine.Seed + 1, Tokenizer: o.Tokenizer})
	if err != nil {
		be.Close()
		ready <- err
		return
	}
	obs := append([]engine.Observer{}, o.Observers...)
	if r.index == 0 {
		// The step in progress is replica 0's (one engine's steps, in order).
		obs = append(obs, s.prog)
	}
	if !o.DetachCollector {
		obs = append(obs, s.stats.observer(r.index))
	}
	e, err := engine.New(be, m, o.Engine, obs...)
	if err != nil {
		m.Free(be)
		be.Close()
		ready <- err
		return
	}
	r.info, r.model, r.engine, r.loadTime = be.Info(), m, e, time.Since(t0)
	if o.Ceilings && r.index == 0 {
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
	r.done <- err
}

// replicaState is whether replica i's engine runs, and why not.
func (s *Session) replicaState(i int) (up bool, why string) {
	st := s.replicas[i].engine.Status()
	switch st.State {
	case engine.StateFailed, engine.StateStopped:
		why = "the engine " + st.State.String()
		if st.Err != nil {
			why += ": " + st.Err.Error()
		}
		return false, why
	}
	return true, ""
}
