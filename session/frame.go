package session

import (
	"context"
	"path/filepath"
	"time"

	"benchtop/engine"
	"benchtop/gpumon"
	"benchtop/metrics"
	"benchtop/report"
	"benchtop/snapshot"
)

// Frame is everything the dashboard draws at one moment, published as one
// immutable value: nothing it points to is written again.
type Frame struct {
	Time      time.Time
	Metrics   *metrics.Snapshot
	Status    *engine.Status
	GPU       *gpumon.State
	Segments  []snapshot.Segment
	Workload  string   // the workload being sent ("" when none)
	Workloads []string // the picker's list
	Caps      Caps     // the settings the target takes
	ReadOnly  bool     // a reopened snapshot
	Source    string   // the file it came from
	// Progress is the step or pool rebuild under way at Time (the engine
	// publishes a step only when it ends); Load is how the workload is sent.
	Progress Progress
	Load     LoadInfo

	// With several sources (data-parallel replicas, a fleet) or a remote
	// target: a row per source, how unevenly they share the work
	// (report.Imbalance), the dispatch policy, and each server as found
	// with its scraped gauges. Nil for one in-process engine.
	Sources   []report.Source
	Imbalance float64
	Policy    string
	Targets   []report.Target
}

// PublishEvery is how often the publisher builds a frame; SegmentsEvery
// how often it refreshes the per-segment summaries.
const (
	PublishEvery  = 100 * time.Millisecond
	SegmentsEvery = time.Second
)

// Frame is the latest published frame; safe from any goroutine, never nil
// after Open.
func (s *Session) Frame() *Frame { return s.frame.Load() }

// publisher builds a frame every PublishEvery until ctx ends.
func (s *Session) publisher(ctx context.Context) {
	t := time.NewTicker(PublishEvery)
	defer t.Stop()
	var lastSegs time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if now.Sub(lastSegs) >= SegmentsEvery {
				lastSegs = now
				s.refreshSegments(ctx)
			}
			s.publish()
		}
	}
}

// refreshSegments recomputes the segments (and, with the current
// collector, publishes its snapshot while the engine is idle).
func (s *Session) refreshSegments(ctx context.Context) {
	segs, err := s.stats.Segments(ctx)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.segs = segs
	s.mu.Unlock()
}

// publish stores a new frame from the parts' latest published values.
func (s *Session) publish() {
	s.mu.Lock()
	segs := s.segs
	s.mu.Unlock()
	name, load := s.liveInfo()
	now, st := time.Now(), s.target.Status()
	f := &Frame{Time: now, Metrics: s.stats.Latest(), Status: st, GPU: s.gpu.Latest(),
		Segments: segs, Workload: name, Workloads: s.names, Caps: CapsOf(s.target), Load: load}
	if st != nil {
		since := time.Time{}
		if st.State == engine.StateSwitching {
			s.switchSince.CompareAndSwap(0, now.UnixNano())
			since = time.Unix(0, s.switchSince.Load())
		} else {
			s.switchSince.Store(0)
		}
		f.Progress = s.prog.at(st.State, since)
	}
	s.addSources(f)
	s.frame.Store(f)
}

// FrameOf reopens a snapshot file as a read-only frame.
func FrameOf(f *snapshot.File, source string) *Frame {
	return &Frame{Time: f.Created, Metrics: f.Metrics, Status: f.Status.Engine(), GPU: f.GPU, Segments: f.Segments,
		Workload: f.Workload, ReadOnly: true, Source: source,
		Sources: f.Sources, Imbalance: f.Imbalance, Policy: f.Policy, Targets: f.Targets}
}

// SnapshotFile is the session as exported now: the published frame and
// every finished request.
func (s *Session) SnapshotFile(ctx context.Context) (*snapshot.File, error) {
	if err := s.stats.Sync(ctx); err != nil {
		return nil, err
	}
	s.refreshSegments(ctx)
	s.publish()
	f := s.Frame()
	recs, err := s.stats.RecordsSince(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	out := &snapshot.File{Schema: snapshot.Schema, Created: f.Time.UTC(), Workload: f.Workload, Status: report.StatusOf(f.Status),
		Metrics: f.Metrics, GPU: f.GPU, Segments: f.Segments, Requests: recs,
		Sources: f.Sources, Imbalance: f.Imbalance, Policy: f.Policy, Targets: f.Targets}
	if f.Metrics != nil {
		out.Changes = f.Metrics.Markers
	}
	return out, nil
}

// WriteSnapshot writes the session to dir as
// benchtop-snapshot-<time>.{json,csv,md} and returns the paths.
func (s *Session) WriteSnapshot(ctx context.Context, dir string) ([]string, error) {
	f, err := s.SnapshotFile(ctx)
	if err != nil {
		return nil, err
	}
	return snapshot.Write(filepath.Join(dir, snapshot.Name(f.Created)), f)
}
