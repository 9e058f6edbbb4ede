package metrics

import (
	"time"
)

// Segment summarises the run between two changes (Mark): the requests that
// arrived in it (their TTFT, TPOT and E2E, whenever they finished) and the
// output tokens produced inside it (by any request), over its span.
type Segment struct {
	Index        int           `json:"index"`
	What         string        `json:"what"` // the change that started it
	Start        time.Time     `json:"start"`
	End          time.Time     `json:"end"`      // the next segment's start, or now
	Span         time.Duration `json:"span_ns"`  // End − Start
	Requests     int           `json:"requests"` // finished, of those that arrived in it
	OutputTokens int64         `json:"output_tokens"`
	OutputTPS    float64       `json:"output_tps"` // OutputTokens over Span
	TTFT         Dist          `json:"ttft"`
	TPOT         Dist          `json:"tpot"`
	E2E          Dist          `json:"e2e"`
}

// The histograms of a segment.
const (
	sTTFT = iota
	sTPOT
	sE2E
	numSegHists
)

// segment is a segment's state. Its histograms live while it is current or
// has requests in flight; then it is frozen into Dists and they are freed.
type segment struct {
	index            int
	what             string
	start, end       int64 // end 0 while current
	requests, outTok int64
	live             int // requests in flight that arrived in it
	h                [numSegHists]hist
	frozen           bool
	d                [numSegHists]Dist
}

func (s *segment) freeze(p *histPool) {
	if s.frozen {
		return
	}
	for i := range s.h {
		s.d[i] = s.h[i].dist()
		s.h[i].release(p)
	}
	s.frozen = true
}

func (s *segment) release(p *histPool) {
	for i := range s.h {
		s.h[i].release(p)
	}
}

func (s *segment) summary(now int64) Segment {
	end := s.end
	if end == 0 {
		end = max(now, s.start)
	}
	out := Segment{Index: s.index, What: s.what, Start: time.Unix(0, s.start), End: time.Unix(0, end),
		Span: time.Duration(end - s.start), Requests: int(s.requests), OutputTokens: s.outTok}
	if out.Span > 0 {
		out.OutputTPS = float64(s.outTok) / out.Span.Seconds()
	}
	d := s.d
	if !s.frozen {
		for i := range s.h {
			d[i] = s.h[i].dist()
		}
	}
	out.TTFT, out.TPOT, out.E2E = d[sTTFT], d[sTPOT], d[sE2E]
	return out
}

// mark ends the current segment at `at` and starts the next.
func (a *aggregator) mark(at int64, what string) {
	cur := a.segs[len(a.segs)-1]
	cur.end = max(at, cur.start)
	if cur.live == 0 {
		cur.freeze(&a.pool)
	}
	a.segs = append(a.segs, &segment{index: cur.index + 1, what: what, start: cur.end})
	if len(a.segs) > MaxSegments {
		a.segs[0].release(&a.pool)
		a.segs = append([]*segment(nil), a.segs[1:]...)
	}
	a.markers = keepLast(append(a.markers, Marker{Time: time.Unix(0, at), What: what}), MaxMarkers)
	a.cutNext = true
}

// Segments summarises every segment kept (at most MaxSegments, the newest),
// as aggregated so far: Sync first for everything handed off.
func (c *Collector) Segments() []Segment {
	now := c.now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	now = max(now, c.agg.lastT)
	out := make([]Segment, len(c.agg.segs))
	for i, s := range c.agg.segs {
		out[i] = s.summary(now)
	}
	return out
}
