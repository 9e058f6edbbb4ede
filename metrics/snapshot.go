package metrics

import (
	"maps"
	"time"

	"benchtop/engine"
)

// Point is one sample of the live time series, taken as each bucket of the
// live window closes (every Interval, 250 ms by default): the window's
// rates and TTFT then, and the gauges of the newest steps.
type Point struct {
	T         time.Duration `json:"t_ns"` // bucket end, since the start
	OutputTPS float64       `json:"output_tps"`
	RPS       float64       `json:"rps"`
	TTFTP50   time.Duration `json:"ttft_p50_ns"` // 0 with no TTFT in the window
	TTFTP99   time.Duration `json:"ttft_p99_ns"`
	Occupancy float64       `json:"batch_occupancy"`
	KVUsage   float64       `json:"kv_usage"`
	Running   int           `json:"running"`
	Waiting   int           `json:"waiting"`
	Preempts  int           `json:"preemptions_total"`
}

// MaxPoints bounds the series (four hours at 4 Hz); older points are
// dropped, in halves.
const MaxPoints = 4 * 3600 * 4

// MaxMarkers bounds the markers kept (and MaxSegments the segments).
const (
	MaxMarkers  = 1000
	MaxSegments = 1000
)

// Marker is a change of settings or workload, drawn on charts.
type Marker struct {
	Time time.Time `json:"time"`
	What string    `json:"what"`
}

// Step is one engine step as published (engine.StepEvent with the source
// that ran it and JSON names).
type Step struct {
	Source        int           `json:"source"`
	Index         int64         `json:"index"`
	Start         time.Time     `json:"start"`
	PrefillTokens int           `json:"prefill_tokens"`
	DecodeTokens  int           `json:"decode_tokens"`
	NumSeqs       int           `json:"num_seqs"`
	ContextTokens int           `json:"context_tokens"`
	MaxNumSeqs    int           `json:"max_num_seqs"`
	KVBlocksUsed  int           `json:"kv_blocks_used"`
	KVBlocksTotal int           `json:"kv_blocks_total"`
	NumRunning    int           `json:"num_running"`
	NumWaiting    int           `json:"num_waiting"`
	Preemptions   int           `json:"preemptions"`
	ScheduleTime  time.Duration `json:"schedule_ns"`
	ExecuteTime   time.Duration `json:"forward_ns"`
	SampleTime    time.Duration `json:"sample_ns"`
	DeviceTime    time.Duration `json:"device_ns"` // 0 where the backend does not measure it
	Total         time.Duration `json:"total_ns"`
}

func stepOf(src int, ev *engine.StepEvent) Step {
	return Step{Source: src, Index: ev.Index, Start: ev.Start, PrefillTokens: ev.PrefillTokens, DecodeTokens: ev.DecodeTokens,
		NumSeqs: ev.NumSeqs, ContextTokens: ev.ContextTokens, MaxNumSeqs: ev.MaxNumSeqs, KVBlocksUsed: ev.KVBlocksUsed,
		KVBlocksTotal: ev.KVBlocksTotal, NumRunning: ev.NumRunning, NumWaiting: ev.NumWaiting, Preemptions: ev.Preemptions,
		ScheduleTime: ev.ScheduleTime, ExecuteTime: ev.ExecuteTime, SampleTime: ev.SampleTime, DeviceTime: ev.DeviceTime, Total: ev.Total}
}

// StepPhases is the step time broken down over the live window: schedule,
// forward pass (host), sample, device time (where measured) and the whole.
type StepPhases struct {
	Schedule Dist `json:"schedule"`
	Forward  Dist `json:"forward"`
	Sample   Dist `json:"sample"`
	Device   Dist `json:"device"`
	Total    Dist `json:"total"`
}

// SourceStats is one source's row: its window rate and step time, its
// newest step's gauges, its counts since the start.
type SourceStats struct {
	Source    int     `json:"source"`
	OutputTPS float64 `json:"output_tps"` // over the window
	Running   int     `json:"running"`
	Waiting   int     `json:"waiting"`
	KVUsed    int     `json:"kv_blocks_used"`
	KVTotal   int     `json:"kv_blocks_total"`
	KVUsage   float64 `json:"kv_usage"`
	StepTime  Dist    `json:"step_time"` // over the window
	Steps     int64   `json:"steps"`
	Arrived   int     `json:"arrived"`
	Finished  int     `json:"finished"`
	Failed    int     `json:"failed"`
}

// Snapshot is an immutable view of the metrics at one moment. Counts are
// since the start (NewCollector or the last Reset); rates and
// distributions marked "window" are over Window, which ends at WindowEnd.
type Snapshot struct {
	Time      time.Time      `json:"time"`
	Start     time.Time      `json:"start"`
	Elapsed   time.Duration  `json:"elapsed_ns"`
	Window    time.Duration  `json:"window_ns"` // the span the window covers (0 for the first Interval)
	WindowEnd time.Time      `json:"window_end"`
	Arrived   int            `json:"arrived"`
	Finished  int            `json:"finished"`
	Failed    int            `json:"failed"`   // rejected, aborted or errored
	Finishes  map[string]int `json:"finishes"` // finished requests by finish reason
	Running   int            `json:"running"`
	Waiting   int            `json:"waiting"`
	Segment   int            `json:"segment"` // the current segment's index

	Preemptions  int   `json:"preemptions"`
	OutputTokens int64 `json:"output_tokens"`
	PromptTokens int64 `json:"prompt_tokens"`

	// Over the window.
	OutputTPS      float64    `json:"output_tps"`
	TotalTPS       float64    `json:"total_tps"`
	RPS            float64    `json:"rps"`
	TTFT           Dist       `json:"ttft"`
	TPOT           Dist       `json:"tpot"`
	ITL            Dist       `json:"itl"`
	E2E            Dist       `json:"e2e"`
	Queue          Dist       `json:"queue"`            // arrival → first scheduled
	ChunkGap       Dist       `json:"chunk_gap"`        // between a request's consecutive chunks
	TokensPerChunk CountDist  `json:"tokens_per_chunk"` // output tokens a chunk carried
	StepTime       Dist       `json:"step_time"`
	StepPhases     StepPhases `json:"step_phases"`

	// With an SLO set: requests of the window that met it, per second and
	// as a share of those that finished.
	SLO        SLO     `json:"slo"`
	Goodput    float64 `json:"goodput_rps"`
	Attainment float64 `json:"slo_attainment"`

	// The newest step of each source, summed.
	Occupancy float64 `json:"batch_occupancy"`
	KVUsed    int     `json:"kv_blocks_used"`
	KVTotal   int     `json:"kv_blocks_total"`
	Steps     int64   `json:"steps"`
	LastStep  Step    `json:"last_step"` // the newest step of any source

	Sources []SourceStats `json:"sources"`
	Series  []Point       `json:"series"`
	Markers []Marker      `json:"markers"`

	DroppedEvents  int64 `json:"dropped_events"`  // events the full queue dropped (since NewCollector)
	RecordsDropped int64 `json:"records_dropped"` // finished requests beyond the records kept
}

// gauges sums the newest step of every source.
type gauges struct {
	running, waiting, seqs, maxSeqs, kvUsed, kvTotal int
}

func (a *aggregator) gauges() gauges {
	var g gauges
	for i := range a.sources {
		s := &a.sources[i]
		if !s.haveStep {
			continue
		}
		g.running += s.last.NumRunning
		g.waiting += s.last.NumWaiting
		g.seqs += s.last.NumSeqs
		g.maxSeqs += s.last.MaxNumSeqs
		g.kvUsed += s.last.KVBlocksUsed
		g.kvTotal += s.last.KVBlocksTotal
	}
	return g
}

func ratio(a, b int) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// closeBucket appends the series point of the bucket that just closed.
func (a *aggregator) closeBucket() {
	w := &a.win
	st := w.compute(false)
	g := a.gauges()
	p := Point{T: time.Duration(w.cur * w.interval), OutputTPS: st.rate(st.tokens), RPS: st.rate(st.finished),
		TTFTP50: st.d[hTTFT].P50, TTFTP99: st.d[hTTFT].P99, Occupancy: ratio(g.seqs, g.maxSeqs),
		KVUsage: ratio(g.kvUsed, g.kvTotal), Running: g.running, Waiting: g.waiting, Preempts: int(a.tot.preempts)}
	a.series = keepLast(append(a.series, p), MaxPoints)
	if w.cur%240 == 0 { // once a minute at the default interval
		a.sweep(a.lastT)
	}
}

// snapshot builds the view at now (Unix ns).
func (a *aggregator) snapshot(now, dropped int64) *Snapshot {
	w := &a.win
	if b := w.bucketOf(now); b > w.cur {
		w.advance(b)
	}
	st := w.current()
	g := a.gauges()
	s := &Snapshot{
		Time: time.Unix(0, now), Start: time.Unix(0, a.start), Elapsed: time.Duration(max(now-a.start, 0)),
		Window: time.Duration(st.span), WindowEnd: time.Unix(0, st.end),
		Arrived: int(a.tot.arrived), Finished: int(a.tot.finished), Failed: int(a.tot.failed), Finishes: maps.Clone(a.finishes),
		Running: g.running, Waiting: g.waiting, Segment: a.segs[len(a.segs)-1].index,
		Preemptions: int(a.tot.preempts), OutputTokens: a.tot.outTok, PromptTokens: a.tot.promptTok,
		OutputTPS: st.rate(st.tokens), TotalTPS: st.rate(st.tokens + st.prompt), RPS: st.rate(st.finished),
		TTFT: st.d[hTTFT], TPOT: st.d[hTPOT], ITL: st.d[hITL], E2E: st.d[hE2E], Queue: st.d[hQueue],
		ChunkGap: st.d[hChunkGap], TokensPerChunk: st.tokensPerChunk, StepTime: st.d[hStep],
		StepPhases: StepPhases{Schedule: st.d[hSchedule], Forward: st.d[hForward], Sample: st.d[hSample],
			Device: st.d[hDevice], Total: st.d[hStep]},
		SLO:       a.opts.SLO,
		Occupancy: ratio(g.seqs, g.maxSeqs), KVUsed: g.kvUsed, KVTotal: g.kvTotal, Steps: a.tot.steps,
		Sources:       make([]SourceStats, len(a.sources)),
		DroppedEvents: dropped, RecordsDropped: a.records.dropped(),
	}
	if a.haveStep {
		s.LastStep = stepOf(a.lastSrc, &a.last)
	}
	if !a.opts.SLO.Empty() && st.finished > 0 {
		s.Attainment = float64(st.sloMet) / float64(st.finished)
		s.Goodput = st.rate(st.sloMet)
	}
	for i := range a.sources {
		src := &a.sources[i]
		row := SourceStats{Source: i, Running: src.last.NumRunning, Waiting: src.last.NumWaiting,
			KVUsed: src.last.KVBlocksUsed, KVTotal: src.last.KVBlocksTotal, KVUsage: ratio(src.last.KVBlocksUsed, src.last.KVBlocksTotal),
			Steps: src.steps, Arrived: int(src.arrived), Finished: int(src.finished), Failed: int(src.failed)}
		if i < len(st.srcTokens) {
			row.OutputTPS = st.rate(st.srcTokens[i])
		}
		if i < len(st.srcStep) {
			row.StepTime = st.srcStep[i]
		}
		s.Sources[i] = row
	}
	// Readers get their own slice headers over append-only data: the
	// elements they can see are never written again.
	s.Series = shared(a.series)
	s.Markers = shared(a.markers)
	return s
}

// shared is s capped at its length (so an append by a reader copies), and
// never nil (it marshals as []).
func shared[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s[:len(s):len(s)]
}

// keepLast returns s, or once it holds more than 2n elements a fresh copy of
// its newest n. A fresh copy: published snapshots may still read the old
// array, which is never written again.
func keepLast[T any](s []T, n int) []T {
	if len(s) <= 2*n {
		return s
	}
	return append([]T(nil), s[len(s)-n:]...)
}
