package metrics

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"benchtop/engine"
)

// Options configure a Collector; NewCollector's defaults are in
// DefaultOptions.
type Options struct {
	Window         time.Duration    // live window for rates and percentiles (10 s)
	Interval       time.Duration    // bucket width of the live window and the series' resolution (250 ms)
	PublishEvery   time.Duration    // how often Run publishes a snapshot (100 ms)
	DrainEvery     time.Duration    // how often Run aggregates what was handed off (10 ms; at most PublishEvery)
	QueueSize      int              // events pending between observers and the aggregator before drops (65536)
	MaxRecords     int              // finished-request records kept, newest first (100000)
	MaxDecodeSteps int              // pure-decode steps kept for the roofline (32768)
	SLO            SLO              // when set, snapshots and summaries carry goodput and attainment
	Clock          func() time.Time // time.Now; a test's fake clock
}

// DefaultOptions are NewCollector's settings.
func DefaultOptions() Options {
	return Options{Window: 10 * time.Second, Interval: 250 * time.Millisecond, PublishEvery: 100 * time.Millisecond,
		DrainEvery: 10 * time.Millisecond, QueueSize: 1 << 16, MaxRecords: 100_000, MaxDecodeSteps: 1 << 15, Clock: time.Now}
}

// An Option changes one of the Options.
type Option func(*Options)

// WithSLO sets the objectives that goodput and attainment count against.
func WithSLO(s SLO) Option { return func(o *Options) { o.SLO = s } }

// WithWindow sets the live window's span and bucket width.
func WithWindow(window, interval time.Duration) Option {
	return func(o *Options) { o.Window, o.Interval = window, interval }
}

// WithQueueSize sets how many events may wait for the aggregator.
func WithQueueSize(n int) Option { return func(o *Options) { o.QueueSize = n } }

// WithMaxRecords sets how many finished-request records are kept.
func WithMaxRecords(n int) Option { return func(o *Options) { o.MaxRecords = n } }

// WithClock sets the clock (a test's fake one).
func WithClock(now func() time.Time) Option { return func(o *Options) { o.Clock = now } }

// MaxSources bounds the source index of Source.
const MaxSources = 1024

// Collector aggregates engine events into the measures of DESIGN.md and
// publishes immutable Snapshots.
//
// Its observer methods (OnStep, OnRequest, OnConfig, and those of the
// observers Source returns) copy the event into a bounded queue and return
// at once; a full queue drops the event and counts it. Aggregation happens
// on Run's goroutine, or on the caller's in Sync; every other method is safe
// from any goroutine.
type Collector struct {
	opts   Options
	now    func() time.Time
	q      *queue
	latest atomic.Pointer[Snapshot]

	srcMu sync.Mutex
	srcs  []*sourceObserver

	mu  sync.Mutex // held while aggregating; guards agg
	agg aggregator
}

// NewCollector returns a collector (10 s window in 250 ms buckets,
// published every 100 ms by Run) with a first, empty snapshot published.
// Zero or negative option values fall back to the defaults.
func NewCollector(opts ...Option) *Collector {
	o := DefaultOptions()
	for _, f := range opts {
		f(&o)
	}
	d := DefaultOptions()
	if o.Interval <= 0 {
		o.Interval = d.Interval
	}
	if o.Window < o.Interval {
		o.Window = max(d.Window, o.Interval)
	}
	if o.PublishEvery <= 0 {
		o.PublishEvery = d.PublishEvery
	}
	if o.DrainEvery <= 0 || o.DrainEvery > o.PublishEvery {
		o.DrainEvery = min(d.DrainEvery, o.PublishEvery)
	}
	if o.QueueSize <= 0 {
		o.QueueSize = d.QueueSize
	}
	if o.MaxRecords <= 0 {
		o.MaxRecords = d.MaxRecords
	}
	if o.MaxDecodeSteps <= 0 {
		o.MaxDecodeSteps = d.MaxDecodeSteps
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	c := &Collector{opts: o, now: o.Clock, q: newQueue(o.QueueSize)}
	c.agg.init(o, c.now().UnixNano())
	c.agg.spare = batch{ev: make([]event, 0, o.QueueSize)}
	c.latest.Store(c.agg.snapshot(c.now().UnixNano(), 0))
	return c
}

// Run aggregates handed-off events on its own goroutine every DrainEvery
// (sooner when the queue fills to a quarter) and publishes a snapshot every
// PublishEvery, until ctx ends; then it aggregates what was handed off,
// publishes once more and returns. The observers never wake it per event
// or per step: a hand-off is a copy under an uncontended lock.
func (c *Collector) Run(ctx context.Context) {
	t := time.NewTicker(c.opts.PublishEvery)
	defer t.Stop()
	d := time.NewTicker(c.opts.DrainEvery)
	defer d.Stop()
	drain := func() {
		c.mu.Lock()
		// A few batches at most: a producer faster than the aggregator
		// must not starve the publishing tick (its excess is dropped).
		for i := 0; i < 4 && c.drainOnce(); i++ {
		}
		c.mu.Unlock()
	}
	for {
		select {
		case <-ctx.Done():
			_ = c.Sync(context.Background())
			return
		case <-c.q.wake:
			drain()
		case <-d.C:
			drain()
		case <-t.C:
			c.mu.Lock()
			c.drainOnce()
			c.publish()
			c.mu.Unlock()
		}
	}
}

// drainOnce aggregates the pending batch; false when it was empty. c.mu held.
func (c *Collector) drainOnce() bool {
	b, dropped := c.q.take(c.agg.spare)
	c.agg.dropped = dropped
	c.agg.win.horizon = c.now().UnixNano() + int64(time.Minute)
	c.agg.process(&b)
	c.agg.spare = b
	return len(b.ev) > 0
}

func (c *Collector) publish() {
	c.latest.Store(c.agg.snapshot(c.now().UnixNano(), c.agg.dropped))
}

// Sync returns once every event handed off before the call has been
// aggregated and a snapshot that includes it published (Latest returns it).
// It aggregates on the caller's goroutine, so it works whether or not Run
// is running. It fails only when ctx has ended.
func (c *Collector) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Whatever was pushed before the call is either in the pending batch
	// or was taken and fully aggregated by a holder of c.mu before us.
	c.drainOnce()
	c.publish()
	return nil
}

// Latest is the newest published snapshot; never nil. Safe from any
// goroutine (an atomic load).
func (c *Collector) Latest() *Snapshot { return c.latest.Load() }

// Mark records a change of settings or workload at a time and starts a new
// segment. It is ordered with the events through the queue and never
// dropped: events handed off before it belong to the old segment.
func (c *Collector) Mark(at time.Time, what string) {
	c.q.push(event{kind: kindMark, t: at.UnixNano()}, nil, what, true)
}

// Reset clears every statistic (markers, segments, records too) and starts
// a new clock now; ordered with the events like Mark. Requests in flight
// across a reset count in the token rates after it and nowhere else.
func (c *Collector) Reset() {
	c.q.push(event{kind: kindReset, t: c.now().UnixNano()}, nil, "", true)
}

// OnStep hands off a step of source 0 (engine.Observer).
func (c *Collector) OnStep(ev *engine.StepEvent) { c.onStep(0, ev) }

// OnRequest hands off a request event of source 0 (engine.Observer).
func (c *Collector) OnRequest(ev *engine.RequestEvent) { c.onRequest(0, ev) }

// OnRequests hands off a step's token events of source 0 in one go
// (engine.BatchObserver).
func (c *Collector) OnRequests(evs []engine.RequestEvent) { c.onRequests(0, evs) }

// OnConfig marks a configuration change (engine.ConfigObserver).
func (c *Collector) OnConfig(ev *engine.ConfigEvent) { c.Mark(ev.Time, ev.What) }

// Source returns an observer that tags its events with source i (a replica
// of a data-parallel engine, one of several remote servers). Snapshots carry
// a row per source beside the aggregate. Request IDs must be unique across
// sources. i is clamped to [0, MaxSources).
func (c *Collector) Source(i int) engine.Observer {
	i = min(max(i, 0), MaxSources-1)
	c.srcMu.Lock()
	defer c.srcMu.Unlock()
	for len(c.srcs) <= i {
		c.srcs = append(c.srcs, &sourceObserver{c: c, src: uint16(len(c.srcs))})
	}
	return c.srcs[i]
}

type sourceObserver struct {
	c   *Collector
	src uint16
}

func (s *sourceObserver) OnStep(ev *engine.StepEvent)          { s.c.onStep(s.src, ev) }
func (s *sourceObserver) OnRequest(ev *engine.RequestEvent)    { s.c.onRequest(s.src, ev) }
func (s *sourceObserver) OnRequests(evs []engine.RequestEvent) { s.c.onRequests(s.src, evs) }
func (s *sourceObserver) OnConfig(ev *engine.ConfigEvent)      { s.c.Mark(ev.Time, ev.What) }

func (c *Collector) onStep(src uint16, ev *engine.StepEvent) {
	end := ev.Start.Add(ev.Total)
	c.q.push(event{kind: kindStep, source: src, t: unixNano(end, c.now)}, ev, "", false)
}

func (c *Collector) onRequest(src uint16, ev *engine.RequestEvent) {
	text := ""
	if ev.Kind == engine.EvFinished {
		text = ev.Err
	}
	var e event
	setRequest(&e, src, ev, c.now)
	c.q.push(e, nil, text, false)
}

// onRequests hands off a step's token events under one lock; an event with
// a text goes through push.
func (c *Collector) onRequests(src uint16, evs []engine.RequestEvent) {
	c.q.pushRequests(src, evs, c.now, func(i int) { c.onRequest(src, &evs[i]) })
}
