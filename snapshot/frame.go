package snapshot

import (
	"time"

	"benchtop/engine"
	"benchtop/metrics"
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
}

// GPUSample is every GPU at one moment.
type GPUSample struct {
	Time time.Time `json:"time"`
	GPUs []GPU     `json:"gpus"`
}

// GPUState is what the NVML sampler knows: whether it works (and why not)
// and its samples, oldest first.
type GPUState struct {
	Available bool        `json:"available"`
	Reason    string      `json:"reason,omitempty"` // why there is no NVML data
	Driver    string      `json:"driver_version,omitempty"`
	History   []GPUSample `json:"history"`
}

// Latest is the newest sample, or nil.
func (g *GPUState) Latest() *GPUSample {
	if g == nil || len(g.History) == 0 {
		return nil
	}
	return &g.History[len(g.History)-1]
}

// Segment summarises the requests that arrived between two changes.
type Segment struct {
	Index     int           `json:"index"`
	What      string        `json:"what"` // the change that started it
	Start     time.Time     `json:"start"`
	Requests  int           `json:"requests"`
	OutputTPS float64       `json:"output_tps"`
	TTFTP50   time.Duration `json:"ttft_p50_ns"`
	TTFTP99   time.Duration `json:"ttft_p99_ns"`
	TPOTP50   time.Duration `json:"tpot_p50_ns"`
	E2EP50    time.Duration `json:"e2e_p50_ns"`
}

// Frame is everything one dashboard frame draws. Its pointers are
// immutable once published.
type Frame struct {
	Metrics   *metrics.Snapshot `json:"metrics"`
	Status    *engine.Status    `json:"status"`
	GPU       *GPUState         `json:"gpu"`
	Segments  []Segment         `json:"segments"`
	Workload  string            `json:"workload"`
	Workloads []string          `json:"workloads"` // the picker's list
	ReadOnly  bool              `json:"-"`         // a reopened snapshot
	Source    string            `json:"-"`         // the file it came from
}
