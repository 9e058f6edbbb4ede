package metrics

import (
	"sort"
	"time"

	"benchtop/engine"
)

// Point is one sample of the live time series.
type Point struct {
	T         time.Duration `json:"t_ns"` // since the session start
	OutputTPS float64       `json:"output_tps"`
	RPS       float64       `json:"rps"`
	TTFTP50   time.Duration `json:"ttft_p50_ns"`
	TTFTP99   time.Duration `json:"ttft_p99_ns"`
	Occupancy float64       `json:"batch_occupancy"`
	KVUsage   float64       `json:"kv_usage"`
	Running   int           `json:"running"`
	Waiting   int           `json:"waiting"`
	Preempts  int           `json:"preemptions_total"`
}

// SampleEvery is the time-series resolution; MaxPoints bounds its memory.
const (
	SampleEvery = 250 * time.Millisecond
	MaxPoints   = 4 * 3600 * 4
)

// Snapshot is an immutable view of the metrics at one moment.
type Snapshot struct {
	Time     time.Time     `json:"time"`
	Start    time.Time     `json:"start"`
	Elapsed  time.Duration `json:"elapsed_ns"`
	Window   time.Duration `json:"window_ns"`
	Arrived  int           `json:"arrived"`
	Finished int           `json:"finished"`
	Running  int           `json:"running"`
	Waiting  int           `json:"waiting"`

	Preemptions  int   `json:"preemptions"`
	OutputTokens int64 `json:"output_tokens"`
	PromptTokens int64 `json:"prompt_tokens"`

	// Over the sliding window.
	OutputTPS float64 `json:"output_tps"`
	TotalTPS  float64 `json:"total_tps"`
	RPS       float64 `json:"rps"`
	TTFT      Dist    `json:"ttft"`
	TPOT      Dist    `json:"tpot"`
	ITL       Dist    `json:"itl"`
	E2E       Dist    `json:"e2e"`
	StepTime  Dist    `json:"step_time"`

	// With an SLO set: requests of the window that met it, per second and
	// as a share of those that finished.
	SLO        SLO     `json:"slo"`
	Goodput    float64 `json:"goodput_rps"`
	Attainment float64 `json:"slo_attainment"`

	Occupancy float64          `json:"batch_occupancy"`
	KVUsed    int              `json:"kv_blocks_used"`
	KVTotal   int              `json:"kv_blocks_total"`
	Steps     int64            `json:"steps"`
	LastStep  engine.StepEvent `json:"last_step"`
	Series    []Point          `json:"series"`
	Markers   []Marker         `json:"markers"`
}

// since is the index of the first time at or after t in an ascending slice.
func since(ts []time.Time, t time.Time) int {
	return sort.Search(len(ts), func(i int) bool { return !ts[i].Before(t) })
}

func (c *Collector) publish(now time.Time) {
	c.lastPub = now
	cut := now.Add(-c.Window)
	win := min(c.Window, now.Sub(c.start))
	secs := win.Seconds()
	s := &Snapshot{
		Time: now, Start: c.start, Elapsed: now.Sub(c.start), Window: win,
		Arrived: c.arrived, Finished: len(c.records), Running: c.last.NumRunning, Waiting: c.last.NumWaiting,
		Preemptions: c.preempts, OutputTokens: c.outTotal, PromptTokens: c.promptTotal,
		KVUsed: c.last.KVBlocksUsed, KVTotal: c.last.KVBlocksTotal, Steps: c.steps, LastStep: c.last,
	}
	if c.last.MaxNumSeqs > 0 {
		s.Occupancy = float64(c.last.NumSeqs) / float64(c.last.MaxNumSeqs)
	}
	if secs > 0 {
		nTok := len(c.tokenTimes) - since(c.tokenTimes, cut)
		s.OutputTPS = float64(nTok) / secs
		var prompt int64
		for _, n := range c.promptN[since(c.promptIn, cut):] {
			prompt += int64(n)
		}
		s.TotalTPS = float64(int64(nTok)+prompt) / secs
		s.RPS = float64(len(c.finishes)-since(c.finishes, cut)) / secs
	}
	recent := c.records[since(c.finishes, cut):]
	ttft, tpot, e2e := make([]time.Duration, 0, len(recent)), make([]time.Duration, 0, len(recent)), make([]time.Duration, 0, len(recent))
	for _, r := range recent {
		if r.OutputTokens > 0 {
			ttft = append(ttft, r.TTFT)
			e2e = append(e2e, r.E2E)
		}
		if r.OutputTokens > 1 {
			tpot = append(tpot, r.TPOT)
		}
	}
	s.TTFT, s.TPOT, s.E2E = Summarize(ttft), Summarize(tpot), Summarize(e2e)
	s.ITL = Summarize(c.itl[since(c.itlTimes, cut):])
	if s.SLO = c.SLO; !c.SLO.Empty() && len(recent) > 0 {
		met := 0
		for _, r := range recent {
			if c.SLO.Met(r) {
				met++
			}
		}
		s.Attainment = float64(met) / float64(len(recent))
		if secs > 0 {
			s.Goodput = float64(met) / secs
		}
	}
	st := c.stepTimes
	if len(st) > 1000 {
		st = st[len(st)-1000:]
	}
	s.StepTime = Summarize(st)
	if now.Sub(c.lastSample) >= SampleEvery || len(c.series) == 0 {
		c.lastSample = now
		p := Point{T: s.Elapsed, OutputTPS: s.OutputTPS, RPS: s.RPS, TTFTP50: s.TTFT.P50, TTFTP99: s.TTFT.P99,
			Occupancy: s.Occupancy, Running: s.Running, Waiting: s.Waiting, Preempts: s.Preemptions}
		if s.KVTotal > 0 {
			p.KVUsage = float64(s.KVUsed) / float64(s.KVTotal)
		}
		c.series = keepLast(append(c.series, p), MaxPoints/2)
	}
	// Readers get their own slice headers over append-only data: the
	// elements they can see are never written again.
	s.Series = c.series[:len(c.series):len(c.series)]
	s.Markers = c.markers[:len(c.markers):len(c.markers)]
	c.latest.Store(s)
}

// Summary is the whole-run aggregate of a set of finished requests.
type Summary struct {
	Requests     int     `json:"num_requests"`
	OutputTokens int     `json:"output_tokens"`
	PromptTokens int     `json:"prompt_tokens"`
	WallTime     float64 `json:"wall_time_s"`
	RPS          float64 `json:"throughput_rps"`
	OutputTPS    float64 `json:"throughput_tps"`
	TotalTPS     float64 `json:"total_tps"`
	TTFT         Dist    `json:"ttft"`
	TPOT         Dist    `json:"tpot"`
	E2E          Dist    `json:"e2e"`
	ITL          Dist    `json:"itl"`
	Preemptions  int     `json:"preemptions"`
	// With SLOs set: requests that met all of them, per second and as a share.
	SLO        SLO     `json:"slo"`
	Goodput    float64 `json:"goodput_rps"`
	Attainment float64 `json:"slo_attainment"`
}

// Summarise aggregates records over a wall time (the tutorial's way: the
// time around the whole generate call). itl may be nil.
func Summarise(recs []RequestRecord, wall time.Duration, itl []time.Duration, slo SLO) Summary {
	s := Summary{Requests: len(recs), WallTime: wall.Seconds()}
	var ttft, tpot, e2e []time.Duration
	for _, r := range recs {
		s.OutputTokens += r.OutputTokens
		s.PromptTokens += r.PromptTokens
		s.Preemptions += r.Preemptions
		if r.OutputTokens > 0 {
			ttft = append(ttft, r.TTFT)
			e2e = append(e2e, r.E2E)
		}
		if r.OutputTokens > 1 {
			tpot = append(tpot, r.TPOT)
		}
	}
	if wall > 0 {
		s.RPS = float64(s.Requests) / wall.Seconds()
		s.OutputTPS = float64(s.OutputTokens) / wall.Seconds()
		s.TotalTPS = float64(s.OutputTokens+s.PromptTokens) / wall.Seconds()
	}
	s.TTFT, s.TPOT, s.E2E, s.ITL = Summarize(ttft), Summarize(tpot), Summarize(e2e), Summarize(itl)
	s.SLO = slo
	if !slo.Empty() && len(recs) > 0 {
		met := 0
		for _, r := range recs {
			if slo.Met(r) {
				met++
			}
		}
		s.Attainment = float64(met) / float64(len(recs))
		if wall > 0 {
			s.Goodput = float64(met) / wall.Seconds()
		}
	}
	return s
}

// ITLSince returns inter-token gaps recorded at or after t (engine goroutine,
// or after the run).
func (c *Collector) ITLSince(t time.Time) []time.Duration {
	return c.itl[since(c.itlTimes, t):]
}

// RecordsSince returns requests that finished at or after t.
func (c *Collector) RecordsSince(t time.Time) []RequestRecord {
	return c.records[since(c.finishes, t):]
}
