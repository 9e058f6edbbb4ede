package gpumon

import (
	"fmt"
	"time"
)

// GPU is one GPU's counters at one moment, as NVML reports them. A field
// the driver does not offer is -1.
type GPU struct {
	Index         int     `json:"index"`
	Name          string  `json:"name"`
	UtilPct       float64 `json:"utilization_pct"`
	MemUsedBytes  int64   `json:"memory_used_bytes"`
	MemTotalBytes int64   `json:"memory_total_bytes"`
	PowerW        float64 `json:"power_w"`
	TempC         float64 `json:"temperature_c"`
	SMClockMHz    float64 `json:"sm_clock_mhz"`
	// EnergyJ is NVML's total energy counter (joules since the driver
	// loaded; Volta and later), -1 where the driver lacks it.
	EnergyJ float64 `json:"energy_j"`
}

// Sample is every GPU at one moment, and this process's CPU and memory.
type Sample struct {
	Time    time.Time `json:"time"`
	GPUs    []GPU     `json:"gpus"`
	Process *Process  `json:"process,omitempty"`
}

// State is what the sampler knows: whether NVML works (and why not) and its
// samples, oldest first. Without NVML the samples still carry the process's
// CPU and memory (HasProcess). A published State is never written again.
type State struct {
	Available bool          `json:"available"`
	Reason    string        `json:"reason,omitempty"` // why there is no NVML data
	Driver    string        `json:"driver_version,omitempty"`
	Interval  time.Duration `json:"interval_ns"`
	History   []Sample      `json:"history"`
}

// HasProcess says whether the samples carry the process's counters.
func (g *State) HasProcess() bool {
	l := g.Latest()
	return l != nil && l.Process != nil
}

// Latest is the newest sample, or nil.
func (g *State) Latest() *Sample {
	if g == nil || len(g.History) == 0 {
		return nil
	}
	return &g.History[len(g.History)-1]
}

// MeanUtilization is the mean NVML utilization, in percent, of every GPU
// over the samples taken in [from, to + one interval] (the sample just after
// the end still covers the tail; NVML itself averages over a fraction of a
// second). Without a sample in the span, why says what stands in for it.
func (g *State) MeanUtilization(from, to time.Time) (pct float64, why string, ok bool) {
	if g == nil || !g.Available {
		reason := "no NVML"
		if g != nil && g.Reason != "" {
			reason = g.Reason
		}
		return 0, "n/a (" + reason + ")", false
	}
	var sum float64
	n := 0
	for _, smp := range g.History {
		if smp.Time.Before(from) || smp.Time.After(to.Add(g.Interval)) {
			continue
		}
		for _, x := range smp.GPUs {
			if x.UtilPct >= 0 {
				sum += x.UtilPct
				n++
			}
		}
	}
	if n == 0 {
		return 0, fmt.Sprintf("n/a (the run took %s, shorter than NVML's %s sampling)", to.Sub(from).Round(time.Millisecond), g.Interval), false
	}
	return sum / float64(n), "", true
}
