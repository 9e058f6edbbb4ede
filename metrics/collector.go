package metrics

import (
	"sort"
	"sync/atomic"
	"time"

	"benchtop/engine"
)

// RequestRecord is one finished request, as exported.
type RequestRecord struct {
	ID           string        `json:"id"`
	PromptTokens int           `json:"prompt_tokens"`
	OutputTokens int           `json:"output_tokens"`
	Arrival      time.Time     `json:"arrival"`
	TTFT         time.Duration `json:"ttft_ns"`
	E2E          time.Duration `json:"e2e_ns"`
	TPOT         time.Duration `json:"tpot_ns"`
	Queue        time.Duration `json:"queue_ns"` // arrival → first scheduled
	Preemptions  int           `json:"preemptions"`
	Finish       string        `json:"finish"`
	Segment      int           `json:"segment"`
}

type live struct {
	arrival, scheduled, first, last time.Time
	preemptions                     int
	segment                         int
}

// Marker is a change of settings or workload, drawn on charts.
type Marker struct {
	Time time.Time `json:"time"`
	What string    `json:"what"`
}

// Collector is the engine observer that aggregates everything.
type Collector struct {
	Window       time.Duration // sliding window for live rates and percentiles
	PublishEvery time.Duration
	MaxSamples   int // per distribution, oldest dropped first
	SLO          SLO // when set, snapshots carry goodput and attainment
	now          func() time.Time

	start       time.Time
	live        map[string]*live
	records     []RequestRecord
	itl         []time.Duration
	itlTimes    []time.Time
	tokenTimes  []time.Time // output tokens, for windowed tok/s
	promptIn    []time.Time
	promptN     []int32
	finishes    []time.Time
	steps       int64
	stepTimes   []time.Duration
	decode      []engine.StepEvent // pure-decode steps, for the roofline comparison
	last        engine.StepEvent
	preempts    int
	outTotal    int64
	promptTotal int64
	arrived     int
	markers     []Marker
	segment     int
	series      []Point
	lastSample  time.Time
	lastPub     time.Time
	latest      atomic.Pointer[Snapshot]
}

// NewCollector returns a collector with a 10 s window publishing at 10 Hz.
func NewCollector() *Collector {
	c := &Collector{Window: 10 * time.Second, PublishEvery: 100 * time.Millisecond, MaxSamples: 200_000, now: time.Now}
	c.Reset()
	return c
}

// Reset clears every statistic (markers too) and starts a new session clock.
// Engine goroutine only, like the On* methods.
func (c *Collector) Reset() {
	// Field by field: the published pointer is read concurrently and must
	// only ever be stored atomically.
	c.start, c.live = c.now(), map[string]*live{}
	c.records, c.itl, c.itlTimes, c.tokenTimes = nil, nil, nil, nil
	c.promptIn, c.promptN, c.finishes, c.stepTimes, c.decode = nil, nil, nil, nil, nil
	c.steps, c.last, c.preempts, c.outTotal, c.promptTotal, c.arrived = 0, engine.StepEvent{}, 0, 0, 0, 0
	c.markers, c.segment, c.series = nil, 0, nil
	c.lastSample, c.lastPub = time.Time{}, time.Time{}
	c.publish(c.now())
}

func (c *Collector) OnRequest(ev *engine.RequestEvent) {
	switch ev.Kind {
	case engine.EvArrived:
		c.arrived++
		c.live[ev.ID] = &live{arrival: ev.Arrival, segment: c.segment}
	case engine.EvScheduled:
		if l := c.live[ev.ID]; l != nil && l.scheduled.IsZero() {
			l.scheduled = ev.Time
		}
		if ev.OutputTokens == 0 {
			c.promptTotal += int64(ev.PromptTokens)
			c.promptIn = append(c.promptIn, ev.Time)
			c.promptN = append(c.promptN, int32(ev.PromptTokens))
		}
	case engine.EvPreempted:
		c.preempts++
		if l := c.live[ev.ID]; l != nil {
			l.preemptions++
		}
	case engine.EvFirstToken, engine.EvToken:
		c.outTotal++
		c.tokenTimes = append(c.tokenTimes, ev.Time)
		if l := c.live[ev.ID]; l != nil {
			if ev.Kind == engine.EvFirstToken {
				l.first = ev.Time
			} else if !l.last.IsZero() {
				c.itl = append(c.itl, ev.Time.Sub(l.last))
				c.itlTimes = append(c.itlTimes, ev.Time)
			}
			l.last = ev.Time
		}
	case engine.EvFinished:
		l := c.live[ev.ID]
		delete(c.live, ev.ID)
		if l == nil {
			break
		}
		r := RequestRecord{ID: ev.ID, PromptTokens: ev.PromptTokens, OutputTokens: ev.OutputTokens,
			Arrival: l.arrival, E2E: ev.Time.Sub(l.arrival), Preemptions: l.preemptions,
			Finish: ev.Finish.String(), Segment: l.segment}
		if !l.first.IsZero() {
			r.TTFT = l.first.Sub(l.arrival)
		}
		if !l.scheduled.IsZero() {
			r.Queue = l.scheduled.Sub(l.arrival)
		}
		if ev.OutputTokens > 1 {
			r.TPOT = (r.E2E - r.TTFT) / time.Duration(ev.OutputTokens-1)
		}
		c.records = append(c.records, r)
		c.finishes = append(c.finishes, ev.Time)
	}
	c.trim()
}

func (c *Collector) OnStep(ev *engine.StepEvent) {
	c.steps++
	c.last = *ev
	c.stepTimes = append(c.stepTimes, ev.Total)
	if ev.PrefillTokens == 0 && ev.DecodeTokens > 0 {
		c.decode = keepLast(append(c.decode, *ev), c.MaxSamples)
	}
	now := ev.Start.Add(ev.Total)
	if now.Sub(c.lastPub) >= c.PublishEvery {
		c.publish(now)
	}
}

func (c *Collector) OnConfig(ev *engine.ConfigEvent) {
	c.Mark(ev.Time, ev.What)
}

// Mark records a change (settings or workload) and starts a new segment.
func (c *Collector) Mark(at time.Time, what string) {
	c.segment++
	c.markers = append(c.markers, Marker{Time: at, What: what})
}

// Flush publishes a snapshot now (the engine is idle, or a run ended).
func (c *Collector) Flush() { c.publish(c.now()) }

// Latest is the newest published snapshot; safe from any goroutine.
func (c *Collector) Latest() *Snapshot { return c.latest.Load() }

// Records returns the finished requests so far (engine goroutine, or after Run).
func (c *Collector) Records() []RequestRecord { return c.records }

// trim bounds memory on long sessions: drop the oldest samples, keeping the
// window's worth whenever possible. Paired lists have equal lengths, so they
// are cut alike.
func (c *Collector) trim() {
	m := c.MaxSamples
	c.tokenTimes = keepLast(c.tokenTimes, m)
	c.itl, c.itlTimes = keepLast(c.itl, m), keepLast(c.itlTimes, m)
	c.records, c.finishes = keepLast(c.records, m), keepLast(c.finishes, m)
	c.stepTimes = keepLast(c.stepTimes, m)
	c.promptIn, c.promptN = keepLast(c.promptIn, m), keepLast(c.promptN, m)
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

// DecodeStepsSince returns the pure-decode steps that started at or after t
// (engine goroutine, or after the run).
func (c *Collector) DecodeStepsSince(t time.Time) []engine.StepEvent {
	i := sort.Search(len(c.decode), func(i int) bool { return !c.decode[i].Start.Before(t) })
	return c.decode[i:]
}
