//go:build linux

package session

import (
	"flag"
	"fmt"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"benchtop/engine"
	"benchtop/kernels"
)

// fakeDevice is a backend whose kernels compute nothing: tensors are shapes
// without memory, every kernel returns at once, and Sync holds the calling
// thread in a system call (nanosleep) for as long as a GPU would take over
// the step, as a CUDA synchronisation through purego holds the device
// goroutine's thread in the driver. So the engine's loop, its scheduler and
// its observers run for real at GPU step rates on a machine without one.
// (The driver mostly spins where this sleeps: on a 2-core machine a
// spinning device thread would leave one core to everything else.)
// Sampled tokens are never EOS.
type fakeDevice struct {
	mem   int64
	inUse atomic.Int64
	batch *kernels.Batch
	// The device time of a step: base, plus perSeq a sequence and perToken a
	// token of the step.
	base, perSeq, perToken time.Duration
	slack                  bool // the device thread's timer slack is set
}

// newFakeDevice is a device of mem bytes whose batch-100 decode step takes
// about 620 µs of device time, as OPT-125m's does on an H200.
func newFakeDevice(mem int64) *fakeDevice {
	return &fakeDevice{mem: mem, base: 300 * time.Microsecond, perSeq: 3 * time.Microsecond, perToken: 200 * time.Nanosecond}
}

type fakeTensor struct {
	shape []int
	dt    kernels.DType
}

func (t *fakeTensor) Shape() []int         { return t.shape }
func (t *fakeTensor) DType() kernels.DType { return t.dt }

func (d *fakeDevice) Info() kernels.DeviceInfo {
	return kernels.DeviceInfo{Backend: "fake", Name: "fake device (no kernels)", MemoryBytes: d.mem, ComputeDType: kernels.F16}
}
func (d *fakeDevice) MemoryInUse() int64 { return d.inUse.Load() }
func (d *fakeDevice) MemoryInfo() (free, total int64) {
	return d.mem - d.inUse.Load(), d.mem
}

func (d *fakeDevice) Alloc(dt kernels.DType, shape ...int) (kernels.Tensor, error) {
	n := kernels.Numel(shape)
	if n <= 0 {
		return nil, fmt.Errorf("alloc %v: %w", shape, kernels.ErrOutOfMemory)
	}
	bytes := int64(n) * int64(dt.Size())
	if bytes > d.mem-d.inUse.Load() {
		return nil, fmt.Errorf("alloc %v: %w", shape, kernels.ErrOutOfMemory)
	}
	d.inUse.Add(bytes)
	return &fakeTensor{shape: append([]int(nil), shape...), dt: dt}, nil
}

func (d *fakeDevice) Free(t kernels.Tensor) {
	if ft, ok := t.(*fakeTensor); ok && ft.shape != nil {
		d.inUse.Add(-int64(kernels.Numel(ft.shape)) * int64(ft.dt.Size()))
		ft.shape = nil
	}
}

func (d *fakeDevice) View(t kernels.Tensor, rows int) (kernels.Tensor, error) {
	s := t.Shape()
	if rows < 0 || rows > s[0] {
		return nil, fmt.Errorf("view: %d rows of tensor %v", rows, s)
	}
	return &fakeTensor{shape: append([]int{rows}, s[1:]...), dt: t.DType()}, nil
}

func (d *fakeDevice) Upload(kernels.Tensor, []float32) error { return nil }
func (d *fakeDevice) Download(t kernels.Tensor) ([]float32, error) {
	return make([]float32, kernels.Numel(t.Shape())), nil
}
func (d *fakeDevice) SetBatch(b *kernels.Batch) error           { d.batch = b; return nil }
func (d *fakeDevice) Embed(_, _, _ kernels.Tensor, _ int) error { return nil }
func (d *fakeDevice) LayerNorm(_, _, _, _ kernels.Tensor, _ float32) error {
	return nil
}
func (d *fakeDevice) Linear(_, _, _, _ kernels.Tensor) error    { return nil }
func (d *fakeDevice) BiasAct(_, _ kernels.Tensor, _ bool) error { return nil }
func (d *fakeDevice) ResidualLayerNorm(_, _, _, _, _, _ kernels.Tensor, _ float32) error {
	return nil
}
func (d *fakeDevice) ResidualRMSNorm(_, _, _, _ kernels.Tensor, _ float32) error { return nil }
func (d *fakeDevice) SwiGLU(_, _ kernels.Tensor) error                           { return nil }
func (d *fakeDevice) WriteKV(_, _, _ kernels.Tensor, _ kernels.AttnShape, _ kernels.QKVPrep) error {
	return nil
}
func (d *fakeDevice) Attention(_, _, _, _ kernels.Tensor, _ kernels.AttnShape) error { return nil }
func (d *fakeDevice) GatherLast(_, _ kernels.Tensor) error                           { return nil }

// Sample gives every row token 5 (not OPT's EOS, 2).
func (d *fakeDevice) Sample(_ kernels.Tensor, params []kernels.SampleParams) ([]int32, error) {
	out := make([]int32, len(params))
	for i := range out {
		out[i] = 5
	}
	return out, nil
}

// Sync blocks the thread for the step's device time.
func (d *fakeDevice) Sync() error {
	if d.batch == nil {
		return nil
	}
	if !d.slack {
		// Sync runs on the device goroutine's locked thread: wake it on
		// time, not up to the default 50 µs late.
		syscall.Syscall(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0)
		d.slack = true
	}
	t := d.base + time.Duration(len(d.batch.Seqs))*d.perSeq + time.Duration(len(d.batch.Tokens))*d.perToken
	blockThread(t)
	return nil
}

func (d *fakeDevice) Close() error { return nil }

const prSetTimerSlack = 29 // prctl(2)

// blockThread blocks the calling OS thread in a system call for about d.
func blockThread(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for {
		var rem syscall.Timespec
		if err := syscall.Nanosleep(&ts, &rem); err != syscall.EINTR {
			return
		}
		ts = rem
	}
}

var (
	fakePairs = flag.Int("overhead-pairs", 2, "pairs of rounds (collector detached, attached) of the fake-device overhead test")
	fakeRound = flag.Duration("overhead-round", time.Second, "how long each round of the fake-device overhead test lasts")
)

// TestFakeDeviceCollectorOverhead is TestGPUCollectorOverhead's CPU twin:
// the same session, workload and rounds on the fake device, at GPU step
// rates. It logs what the collector costs a step and a step's period, and
// fails only when attaching it doubles the period in every pair of rounds:
// timing on a loaded 2-core CI machine (under -race) is no ground for a
// tight bound. The development machine's numbers, with a longer run, are
// in BENCHMARKS.md:
//
//	go test ./session -run TestFakeDeviceCollectorOverhead -v -overhead-pairs 3 -overhead-round 3s
func TestFakeDeviceCollectorOverhead(t *testing.T) {
	if testing.Short() {
		t.Skip("a timed run of several seconds")
	}
	log, gate := &stepLog{}, &collectorGate{}
	s, err := Open(Options{Model: "tiny", Device: "cpu", Engine: engine.DefaultConfig(), Observers: []engine.Observer{log, gate}, DetachCollector: true,
		WrapBackend: func(b kernels.Backend) kernels.Backend { b.Close(); return newFakeDevice(1 << 30) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	gate.attach(s.stats.observer(0))
	benchLoop(t, s)
	res := measureOverhead(t, gate, log, *fakePairs, 250*time.Millisecond, *fakeRound)
	if res.empty || len(res.periodRel) == 0 {
		t.Skip("a round ran no pure decode step (the machine is too loaded to measure)")
	}
	if slices.Min(res.periodRel) > 1 {
		t.Errorf("attaching the collector more than doubles the step period in every pair of rounds (%s)", percents(res.periodRel))
	}
}
