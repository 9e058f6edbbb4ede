package report

import (
	"errors"
	"time"

	"benchtop/engine"
	"benchtop/kernels"
	"benchtop/metrics"
)

// SchemaVersion versions the JSON reports (2: typed, snake_case, durations
// in ns; 1 was the untyped first layout).
const SchemaVersion = 2

// Config is an engine configuration as written.
type Config struct {
	MaxNumSeqs           int     `json:"max_num_seqs"`
	MaxNumBatchedTokens  int     `json:"max_num_batched_tokens"`
	BlockSize            int     `json:"block_size"`
	GPUMemoryUtilization float64 `json:"gpu_memory_utilization"`
	MaxModelLen          int     `json:"max_model_len"`
	EnforceEager         bool    `json:"enforce_eager"`
	EnableChunkedPrefill bool    `json:"enable_chunked_prefill"`
	Seed                 uint64  `json:"seed"`
}

// ConfigOf is c as written.
func ConfigOf(c engine.Config) Config {
	return Config{MaxNumSeqs: c.MaxNumSeqs, MaxNumBatchedTokens: c.MaxNumBatchedTokens, BlockSize: c.BlockSize,
		GPUMemoryUtilization: c.GPUMemoryUtilization, MaxModelLen: c.MaxModelLen, EnforceEager: c.EnforceEager,
		EnableChunkedPrefill: c.EnableChunkedPrefill, Seed: c.Seed}
}

// Engine is the engine's settings.
func (c Config) Engine() engine.Config {
	return engine.Config{MaxNumSeqs: c.MaxNumSeqs, MaxNumBatchedTokens: c.MaxNumBatchedTokens, BlockSize: c.BlockSize,
		GPUMemoryUtilization: c.GPUMemoryUtilization, MaxModelLen: c.MaxModelLen, EnforceEager: c.EnforceEager,
		EnableChunkedPrefill: c.EnableChunkedPrefill, Seed: c.Seed}
}

// Memory is a memory plan as written (bytes).
type Memory struct {
	TotalBytes      int64   `json:"total_bytes"`
	Utilization     float64 `json:"gpu_memory_utilization"`
	WeightBytes     int64   `json:"weights_bytes"`
	ActivationBytes int64   `json:"activation_bytes"`
	KVBytes         int64   `json:"kv_cache_bytes"`
	NumBlocks       int     `json:"kv_blocks"`
	BlockSize       int     `json:"block_size"`
	BytesPerBlock   int64   `json:"kv_bytes_per_block"`
	KVTokens        int     `json:"kv_tokens"`
	KVDType         string  `json:"kv_dtype"`
	KVHeads         int     `json:"kv_heads"`
	HeadDim         int     `json:"head_dim"`
	NumLayers       int     `json:"num_layers"`
}

// MemoryOf is p as written.
func MemoryOf(p engine.MemoryPlan) Memory {
	return Memory{TotalBytes: p.TotalBytes, Utilization: p.Utilization, WeightBytes: p.WeightBytes, ActivationBytes: p.ActivationBytes,
		KVBytes: p.KVBytes, NumBlocks: p.NumBlocks, BlockSize: p.BlockSize, BytesPerBlock: p.BytesPerBlock,
		KVTokens: p.KVTokens(), KVDType: p.KVDType.String(), KVHeads: p.KVHeads, HeadDim: p.HeadDim, NumLayers: p.NumLayers}
}

// Device is the backend's device as written.
type Device struct {
	Backend     string `json:"backend"`
	Name        string `json:"name"`
	MemoryBytes int64  `json:"memory_bytes"`
	DType       string `json:"compute_dtype"`
	CUDAGraphs  bool   `json:"cuda_graphs"`
}

// DeviceOf is d as written.
func DeviceOf(d kernels.DeviceInfo) Device {
	return Device{Backend: d.Backend, Name: d.Name, MemoryBytes: d.MemoryBytes, DType: d.ComputeDType.String(), CUDAGraphs: d.CUDAGraphs}
}

// Status is the engine's published status as written.
type Status struct {
	Model     string `json:"model"`
	Synthetic bool   `json:"synthetic_weights"`
	ModelNote string `json:"model_note,omitempty"` // what is not the real model's ("synthetic weights, GPT-2 tokenizer")
	Params    int64  `json:"parameters"`
	State     string `json:"state"`
	Err       string `json:"error,omitempty"`
	Device    Device `json:"device"`
	Config    Config `json:"config"`
	Memory    Memory `json:"memory"`
	// The device's measured ceilings (0 when not measured).
	BandwidthBytesPerSec float64 `json:"bandwidth_bytes_per_s"`
	MatmulFlopsPerSec    float64 `json:"matmul_flops_per_s"`
	// The model's arithmetic, for step costs.
	MatmulFLOPsPerToken           float64 `json:"matmul_flops_per_token"`
	AttentionFLOPsPerContextToken float64 `json:"attention_flops_per_context_token"`
}

// StatusOf is st as written (nil: nil).
func StatusOf(st *engine.Status) *Status {
	if st == nil {
		return nil
	}
	out := &Status{Model: st.Model, Synthetic: st.Synthetic, ModelNote: st.ModelNote, Params: st.Params, State: st.State.String(),
		Device: DeviceOf(st.Device), Config: ConfigOf(st.Config), Memory: MemoryOf(st.Plan),
		BandwidthBytesPerSec: st.Ceilings.BandwidthBytesPerSec, MatmulFlopsPerSec: st.Ceilings.MatmulFlopsPerSec,
		MatmulFLOPsPerToken: st.MatmulFLOPsPerToken, AttentionFLOPsPerContextToken: st.AttentionFLOPsPerContextToken}
	if st.Err != nil {
		out.Err = st.Err.Error()
	}
	return out
}

// Header is what every report carries: which experiment, when, what ran
// where, and the tutorial MetricsCollector's gpu_memory_gb and
// gpu_utilization_pct (null without NVML or for a run shorter than its
// sampling period).
type Header struct {
	SchemaVersion     int       `json:"schema_version"`
	Experiment        string    `json:"experiment"`
	Timestamp         time.Time `json:"timestamp"`
	Model             string    `json:"model"`
	SyntheticWeights  bool      `json:"synthetic_weights"`
	Parameters        int64     `json:"parameters"`
	Backend           string    `json:"backend"`
	Device            string    `json:"device"`
	GPUMemoryGB       float64   `json:"gpu_memory_gb"`
	GPUUtilizationPct *float64  `json:"gpu_utilization_pct"`
	// GPUUtilizationNA says why gpu_utilization_pct is null: no NVML, a run
	// shorter than its sampling, or "remote target" (NVML sees this
	// machine's GPUs, not the servers').
	GPUUtilizationNA string `json:"gpu_utilization_na,omitempty"`
	Config           Config `json:"config"`
	Memory           Memory `json:"memory"`
	// With several sources (data-parallel replicas, a fleet) or remote
	// targets: each source's row over the run, how unevenly they shared it
	// (Imbalance), the dispatch policy, and the servers as found (the model
	// each reported, each gauge's source metric).
	// GPUUtilizationPerGPU is NVML's mean utilization of each GPU over the
	// run, in GPU order (data-parallel runs: one entry per GPU seen).
	GPUUtilizationPerGPU []float64 `json:"gpu_utilization_per_gpu_pct,omitempty"`
	Sources              []Source  `json:"sources,omitempty"`
	Imbalance            *float64  `json:"imbalance,omitempty"`
	Policy               string    `json:"dispatch_policy,omitempty"`
	Targets              []Target  `json:"targets,omitempty"`
	// Partial: the command stopped before its work was done (StoppedBy
	// says why: a signal's name or the error); the numbers are those of
	// the requests that finished.
	Partial   bool   `json:"partial"`
	StoppedBy string `json:"stopped_by,omitempty"`
}

// SLO is a run's objectives and how the run met them.
type SLO struct {
	Objectives string  `json:"objectives"`
	GoodputRPS float64 `json:"goodput_rps"`
	Attainment float64 `json:"slo_attainment"`
}

// Measures are one measured run's numbers: the tutorial MetricsCollector's
// (num_requests, throughput_rps, throughput_tps, avg_latency_ms) and every
// distribution. num_requests and throughput_rps count the requests that
// completed (their whole output, or up to EOS/stop, or cut at
// max_model_len); those that failed (rejected, aborted) are counted beside
// them, and every finished request is counted by its finish reason.
type Measures struct {
	NumRequests   int            `json:"num_requests"`
	Failed        int            `json:"failed_requests"`
	Truncated     int            `json:"truncated_requests"` // output cut at max_model_len (counted in num_requests)
	Finishes      map[string]int `json:"finishes"`           // every finished request by finish reason
	Failures      []Failure      `json:"failures"`           // failed and truncated requests by reason
	ThroughputRPS float64        `json:"throughput_rps"`
	ThroughputTPS float64        `json:"throughput_tps"`
	TotalTPS      float64        `json:"total_tps"`
	AvgLatencyMs  float64        `json:"avg_latency_ms"`
	Wall          time.Duration  `json:"wall_ns"`
	OutputTokens  int            `json:"output_tokens"`
	PromptTokens  int            `json:"prompt_tokens"`
	Preemptions   int            `json:"preemptions"`
	TTFT          metrics.Dist   `json:"ttft"`
	TPOT          metrics.Dist   `json:"tpot"`
	ITL           metrics.Dist   `json:"itl"`
	E2E           metrics.Dist   `json:"e2e"`
	GeneratorLag  *metrics.Dist  `json:"generator_lag,omitempty"` // open-loop arrivals only
	SLO           *SLO           `json:"slo,omitempty"`
}

// MeasuresOf writes a summary, with the failed and truncated requests
// counted from its finish reasons and failures (FailuresOf) naming them;
// lag is nil for closed-loop runs.
func MeasuresOf(s metrics.Summary, wall time.Duration, failures []Failure, lag *metrics.Dist) Measures {
	failed, truncated := CountFinishes(s.Finishes)
	done := max(0, s.Requests-failed)
	m := Measures{NumRequests: done, Failed: failed, Truncated: truncated, Finishes: map[string]int{}, Failures: failures,
		ThroughputTPS: s.OutputTPS, TotalTPS: s.TotalTPS, AvgLatencyMs: metrics.Ms(s.E2E.Mean), Wall: wall,
		OutputTokens: s.OutputTokens, PromptTokens: s.PromptTokens, Preemptions: s.Preemptions,
		TTFT: s.TTFT, TPOT: s.TPOT, ITL: s.ITL, E2E: s.E2E, GeneratorLag: lag}
	for k, v := range s.Finishes {
		m.Finishes[k] = v
	}
	if m.Failures == nil {
		m.Failures = []Failure{}
	}
	if wall > 0 {
		m.ThroughputRPS = float64(done) / wall.Seconds()
	}
	if !s.SLO.Empty() {
		m.SLO = &SLO{Objectives: s.SLO.String(), GoodputRPS: s.Goodput, Attainment: s.Attainment}
	}
	return m
}

// Roofline is a decode step measured against its floor: the larger of the
// bytes it must move over the measured bandwidth and its FLOPs over the
// measured matrix rate.
type Roofline struct {
	Batch                int           `json:"batch"`
	Steps                int           `json:"steps"`
	ContextTokens        int           `json:"context_tokens"`
	WeightBytes          int64         `json:"weight_bytes"`
	KVBytes              int64         `json:"kv_bytes"`
	FLOPs                float64       `json:"flops"`
	BandwidthBytesPerSec float64       `json:"bandwidth_bytes_per_s"`
	MatmulFlopsPerSec    float64       `json:"matmul_flops_per_s"`
	Floor                time.Duration `json:"floor_ns"`
	MeasuredHost         time.Duration `json:"measured_host_ns"`
	MeasuredDevice       time.Duration `json:"measured_device_ns"`
	Ratio                float64       `json:"ratio_host_to_floor"`
}

// Run is the document of one measured workload run (run, bench,
// throughput, latency, ttft).
type Run struct {
	Header
	Workload    string `json:"workload"`
	Description string `json:"description,omitempty"`
	Measures
	Roofline *Roofline `json:"roofline,omitempty"`
}

// Spread is a measure over repeats: the mean, the smallest and largest, and
// the sample standard deviation (0 for one repeat).
type Spread struct {
	Mean   float64 `json:"mean"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	StdDev float64 `json:"stddev"`
	N      int     `json:"n"`
}

// SweepPoint is one value of a sweep: its first repeat's measures, and
// the spread of the headline numbers over every repeat.
type SweepPoint struct {
	Value   float64 `json:"value"`
	Partial bool    `json:"partial"` // the sweep stopped while measuring it: the requests that finished
	Measures
	ThroughputTPSSpread Spread `json:"throughput_tps_spread"`
	AvgLatencySpread    Spread `json:"avg_latency_ms_spread"`
}

// Sweep is the document of a sweep.
type Sweep struct {
	Header
	Over          string       `json:"over"`
	Workload      string       `json:"workload"`
	Repeats       int          `json:"repeats"`
	Results       []SweepPoint `json:"results"`
	KneeIndex     int          `json:"knee_index"`
	BestIndex     int          `json:"best_index"`
	BestBatchSize int          `json:"best_batch_size,omitempty"`
	// BestWithinSpread names the points whose throughput spread overlaps the
	// best one's: the best is not distinguishable from them.
	BestWithinSpread []float64 `json:"best_within_spread"`
	SLO              string    `json:"slo,omitempty"`
}

// Variant is one configuration of a comparison.
type Variant struct {
	Name          string    `json:"name"`
	Partial       bool      `json:"partial"` // the comparison stopped while measuring it: the requests that finished
	NotApplicable string    `json:"not_applicable,omitempty"`
	Config        *Config   `json:"config,omitempty"`
	Memory        *Memory   `json:"memory,omitempty"`
	Measures      *Measures `json:"measures,omitempty"`
	ThroughputTPS Spread    `json:"throughput_tps_spread"`
	AvgLatency    Spread    `json:"avg_latency_ms_spread"`
	// WithinSpread: the throughput differs from the first configuration's by
	// less than the two spreads allow, so the difference is not shown.
	WithinSpread bool `json:"within_spread_of_first"`
}

// Compare is the document of a comparison.
type Compare struct {
	Header
	Workload string    `json:"workload"`
	Repeats  int       `json:"repeats"`
	Results  []Variant `json:"results"`
}

// MemoryReport is the document of the memory experiment.
type MemoryReport struct {
	Header
	Workload               string  `json:"workload"`
	MaxSequenceTokens      int     `json:"max_sequence_tokens"`
	AvgSequenceTokens      float64 `json:"avg_sequence_tokens"`
	BlocksPerSequence      int     `json:"blocks_per_sequence"`
	MaxConcurrentSequences int     `json:"max_concurrent_sequences"`
}

// Engine is the status as the engine publishes it (for a reopened
// snapshot).
func (s *Status) Engine() *engine.Status {
	if s == nil {
		return nil
	}
	var state engine.RunState
	if state.UnmarshalText([]byte(s.State)) != nil {
		state = engine.StateStopped
	}
	st := &engine.Status{Model: s.Model, Synthetic: s.Synthetic, ModelNote: s.ModelNote, Params: s.Params, State: state,
		Config: s.Config.Engine(), Plan: s.Memory.Plan(),
		Device: kernels.DeviceInfo{Backend: s.Device.Backend, Name: s.Device.Name, MemoryBytes: s.Device.MemoryBytes,
			ComputeDType: dtype(s.Device.DType), CUDAGraphs: s.Device.CUDAGraphs},
		Ceilings:            kernels.Ceilings{BandwidthBytesPerSec: s.BandwidthBytesPerSec, MatmulFlopsPerSec: s.MatmulFlopsPerSec},
		MatmulFLOPsPerToken: s.MatmulFLOPsPerToken, AttentionFLOPsPerContextToken: s.AttentionFLOPsPerContextToken}
	if s.Err != "" {
		st.Err = errors.New(s.Err)
	}
	return st
}

// Plan is the memory plan as the engine keeps it.
func (m Memory) Plan() engine.MemoryPlan {
	return engine.MemoryPlan{TotalBytes: m.TotalBytes, Utilization: m.Utilization, WeightBytes: m.WeightBytes,
		ActivationBytes: m.ActivationBytes, KVBytes: m.KVBytes, BytesPerBlock: m.BytesPerBlock, NumBlocks: m.NumBlocks,
		BlockSize: m.BlockSize, KVDType: dtype(m.KVDType), KVHeads: m.KVHeads, HeadDim: m.HeadDim, NumLayers: m.NumLayers}
}

func dtype(name string) kernels.DType {
	for _, d := range []kernels.DType{kernels.F32, kernels.F16, kernels.BF16} {
		if d.String() == name {
			return d
		}
	}
	return kernels.F32
}
