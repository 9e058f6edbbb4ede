package gpumon

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"benchtop/snapshot"
)

// Sampler polls NVML every Interval and keeps up to MaxSamples samples.
type Sampler struct {
	Interval   time.Duration
	MaxSamples int
	state      atomic.Pointer[snapshot.GPUState]
}

// New returns a 4 Hz sampler keeping an hour of samples.
func New() *Sampler {
	s := &Sampler{Interval: 250 * time.Millisecond, MaxSamples: 4 * 3600}
	s.state.Store(&snapshot.GPUState{Reason: "starting"})
	return s
}

// Latest is the newest published state; safe from any goroutine.
func (s *Sampler) Latest() *snapshot.GPUState { return s.state.Load() }

// the optional NVML functions read per device; each is looked up first.
var optional = []string{"nvmlDeviceGetUtilizationRates", "nvmlDeviceGetMemoryInfo", "nvmlDeviceGetPowerUsage",
	"nvmlDeviceGetTemperature", "nvmlDeviceGetClockInfo", "nvmlDeviceGetName"}

// Run samples until ctx ends. It returns at once, with the reason
// published, where NVML is missing or sees no GPU.
func (s *Sampler) Run(ctx context.Context) {
	if ret := nvml.Init(); ret != nvml.SUCCESS {
		s.state.Store(&snapshot.GPUState{Reason: "no NVML: " + nvml.ErrorString(ret)})
		return
	}
	defer nvml.Shutdown()
	n, ret := nvml.DeviceGetCount()
	if ret != nvml.SUCCESS || n == 0 {
		s.state.Store(&snapshot.GPUState{Reason: fmt.Sprintf("NVML sees no GPU (%s)", nvml.ErrorString(ret))})
		return
	}
	have := map[string]bool{}
	for _, name := range optional {
		have[name] = nvml.Extensions().LookupSymbol(name) == nil
	}
	driver, _ := nvml.SystemGetDriverVersion()
	devs := make([]nvml.Device, 0, n)
	for i := 0; i < n; i++ {
		if d, ret := nvml.DeviceGetHandleByIndex(i); ret == nvml.SUCCESS {
			devs = append(devs, d)
		}
	}
	var hist []snapshot.GPUSample
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		smp := snapshot.GPUSample{Time: time.Now()}
		for i, d := range devs {
			smp.GPUs = append(smp.GPUs, read(i, d, have))
		}
		hist = append(hist, smp)
		if len(hist) > 2*s.MaxSamples {
			hist = append([]snapshot.GPUSample(nil), hist[len(hist)-s.MaxSamples:]...)
		}
		s.state.Store(&snapshot.GPUState{Available: true, Driver: driver, History: hist[:len(hist):len(hist)]})
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func read(i int, d nvml.Device, have map[string]bool) snapshot.GPU {
	g := snapshot.GPU{Index: i, UtilPct: -1, MemUsedBytes: -1, MemTotalBytes: -1, PowerW: -1, TempC: -1, SMClockMHz: -1}
	if have["nvmlDeviceGetName"] {
		if name, ret := d.GetName(); ret == nvml.SUCCESS {
			g.Name = name
		}
	}
	if have["nvmlDeviceGetUtilizationRates"] {
		if u, ret := d.GetUtilizationRates(); ret == nvml.SUCCESS {
			g.UtilPct = float64(u.Gpu)
		}
	}
	if have["nvmlDeviceGetMemoryInfo"] {
		if m, ret := d.GetMemoryInfo(); ret == nvml.SUCCESS {
			g.MemUsedBytes, g.MemTotalBytes = int64(m.Used), int64(m.Total)
		}
	}
	if have["nvmlDeviceGetPowerUsage"] {
		if p, ret := d.GetPowerUsage(); ret == nvml.SUCCESS {
			g.PowerW = float64(p) / 1000
		}
	}
	if have["nvmlDeviceGetTemperature"] {
		if c, ret := d.GetTemperature(nvml.TEMPERATURE_GPU); ret == nvml.SUCCESS {
			g.TempC = float64(c)
		}
	}
	if have["nvmlDeviceGetClockInfo"] {
		if c, ret := d.GetClockInfo(nvml.CLOCK_SM); ret == nvml.SUCCESS {
			g.SMClockMHz = float64(c)
		}
	}
	return g
}

// Publish stores a state as if sampled (for tests and replays).
func (s *Sampler) Publish(st *snapshot.GPUState) { s.state.Store(st) }
