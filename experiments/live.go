package experiments

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"benchtop/engine"
	"benchtop/snapshot"
	"benchtop/workloads"
)

// Live keeps a workload running on a session for the dashboard: a closed
// loop of clients, one per request of the workload (or its concurrency),
// each sending the workload's next request as soon as its last one
// finishes. It implements the dashboard's controller: every change goes to
// the engine between steps and no request is lost (a workload switch lets
// requests in flight finish).
type Live struct {
	s        *Session
	ctx      context.Context
	cancel   context.CancelFunc
	mu       sync.Mutex
	workload workloads.Workload
	stopLoad context.CancelFunc
	clients  sync.WaitGroup
	segments atomic.Pointer[[]snapshot.Segment]
	seq      atomic.Int64
	names    []string // the picker's list, read-only
}

// NewLive starts the segment summariser and the workload; a workload that
// cannot be tokenized for the model is an error.
func NewLive(s *Session, w workloads.Workload) (*Live, error) {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Live{s: s, ctx: ctx, cancel: cancel}
	for _, b := range workloads.Builtin() {
		l.names = append(l.names, b.Name)
	}
	tmpl, arrivals, err := l.prepare(w)
	if err != nil {
		cancel()
		return nil, err
	}
	go l.summarise()
	l.launch(w, tmpl, arrivals)
	return l, nil
}

// summarise recomputes per-segment summaries once a second.
func (l *Live) summarise() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		segs := l.segmentsNow()
		l.segments.Store(&segs)
		select {
		case <-l.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// segmentsNow is the collector's segments as the snapshot file has them.
func (l *Live) segmentsNow() []snapshot.Segment {
	ms := l.s.Collector.Segments()
	segs := make([]snapshot.Segment, len(ms))
	for i, s := range ms {
		segs[i] = snapshot.Segment{Index: s.Index, What: s.What, Start: s.Start, Requests: s.Requests, OutputTPS: s.OutputTPS,
			TTFTP50: s.TTFT.P50, TTFTP99: s.TTFT.P99, TPOTP50: s.TPOT.P50, E2EP50: s.E2E.P50}
	}
	return segs
}

// prepare tokenizes a workload once: each send copies one of its requests.
func (l *Live) prepare(w workloads.Workload) ([]*engine.Request, []time.Duration, error) {
	return l.s.Requests(w, int64(l.s.Opts.Engine.Seed), "")
}

// launch starts sending a prepared workload.
func (l *Live) launch(w workloads.Workload, tmpl []*engine.Request, arrivals []time.Duration) {
	ctx, stop := context.WithCancel(l.ctx)
	l.workload, l.stopLoad = w, stop
	send := func(i int) bool {
		req := *tmpl[i%len(tmpl)]
		req.ID = fmt.Sprintf("%s-%d", w.Name, l.seq.Add(1))
		// An error means switched away or stopped; the request itself still finishes.
		_, err := l.s.Engine.Generate(ctx, []*engine.Request{&req})
		return err == nil
	}
	switch w.Arrival.Kind {
	case "constant", "poisson", "gamma", "ramp", "trace":
		// Open loop: each request at its offset, the list repeated end to end.
		l.clients.Add(1)
		go func() {
			defer l.clients.Done()
			span := arrivals[len(arrivals)-1] + time.Second
			for round, start := 0, time.Now(); ctx.Err() == nil; round, start = round+1, start.Add(span) {
				for i, at := range arrivals {
					select {
					case <-ctx.Done():
						return
					case <-time.After(time.Until(start.Add(at))):
					}
					l.clients.Add(1)
					go func(i int) { defer l.clients.Done(); send(round*len(arrivals) + i) }(i)
				}
			}
		}()
		return
	}
	// Closed loop: one client a request (or the workload's concurrency),
	// each sending the next request when its last one finishes.
	clients := w.Concurrency
	if clients <= 0 {
		clients = len(tmpl)
	}
	for c := 0; c < clients; c++ {
		l.clients.Add(1)
		go func(next int) {
			defer l.clients.Done()
			for ctx.Err() == nil && send(next) {
				next += clients
			}
		}(c)
	}
}

// Frame is the dashboard's current data.
func (l *Live) Frame() snapshot.Frame {
	l.mu.Lock()
	w := l.workload.Name
	l.mu.Unlock()
	f := snapshot.Frame{Metrics: l.s.Collector.Latest(), Status: l.s.Engine.Status(), GPU: l.s.GPU.Latest(), Workload: w}
	if segs := l.segments.Load(); segs != nil {
		f.Segments = *segs
	}
	f.Workloads = l.names
	return f
}

// SwitchWorkload stops sending the current workload and starts another.
func (l *Live) SwitchWorkload(name string) error {
	w, err := workloads.Lookup(name)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w.Name == l.workload.Name {
		return nil
	}
	tmpl, arrivals, err := l.prepare(w)
	if err != nil {
		return err
	}
	l.stopLoad()
	l.mark("workload=" + w.Name) // before the new workload's first request
	l.launch(w, tmpl, arrivals)
	return nil
}

func (l *Live) mark(what string) {
	l.s.Collector.Mark(time.Now(), what)
}

// SetMaxNumSeqs changes the batch size.
func (l *Live) SetMaxNumSeqs(n int) error { return l.s.Engine.SetMaxNumSeqs(l.ctx, n) }

// Reconfigure applies a changed copy of the engine's configuration.
func (l *Live) Reconfigure(change func(*engine.Config), what string) error {
	c := l.s.Engine.Status().Config
	change(&c)
	return l.s.Engine.Reconfigure(l.ctx, c, what)
}

// SetPaused pauses or resumes the engine.
func (l *Live) SetPaused(p bool) error { return l.s.Engine.SetPaused(l.ctx, p) }

// ResetStats clears every statistic and starts the session clock again.
func (l *Live) ResetStats() error {
	l.s.Collector.Reset()
	return nil
}

// Snapshot writes the session to dir as snapshot-<time>.{json,csv,md}.
func (l *Live) Snapshot(dir string) ([]string, error) {
	if err := l.s.Collector.Sync(l.ctx); err != nil {
		return nil, err
	}
	segs, recs := l.segmentsNow(), l.s.Collector.Records()
	now := time.Now()
	f := l.Frame()
	f.Segments = segs
	base := filepath.Join(dir, "benchtop-snapshot-"+now.Format("20060102-150405.000"))
	return snapshot.Write(base, snapshot.FromFrame(f, recs, now))
}

// Close stops the workload and the sampler (the session is closed apart).
func (l *Live) Close() {
	l.mu.Lock()
	l.stopLoad()
	l.mu.Unlock()
	l.cancel()
	l.clients.Wait()
}
