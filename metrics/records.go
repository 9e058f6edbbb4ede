package metrics

import (
	"time"

	"benchtop/engine"
)

// RequestRecord is one finished request, as exported.
type RequestRecord struct {
	ID           string        `json:"id"`
	Source       int           `json:"source"`
	PromptTokens int           `json:"prompt_tokens"`
	OutputTokens int           `json:"output_tokens"`
	Arrival      time.Time     `json:"arrival"`
	TTFT         time.Duration `json:"ttft_ns"` // 0 with no output token
	E2E          time.Duration `json:"e2e_ns"`
	TPOT         time.Duration `json:"tpot_ns"`  // 0 with fewer than two output tokens
	Queue        time.Duration `json:"queue_ns"` // arrival → first scheduled; 0 if never scheduled
	Preemptions  int           `json:"preemptions"`
	Finish       string        `json:"finish"`
	Error        string        `json:"error,omitempty"` // why it failed, where known
	Segment      int           `json:"segment"`
}

// Failed says whether the request was rejected, aborted or failed with an
// error. An output cut at max_model_len (its reason in Error) is not a
// failure: the request completed, short.
func (r *RequestRecord) Failed() bool {
	switch r.Finish {
	case "rejected", "aborted", "error":
		return true
	case "max_model_len":
		return false
	}
	return r.Error != ""
}

// ring keeps the newest max values in order of arrival.
type ring[T any] struct {
	buf   []T
	head  int // the oldest, once full
	max   int
	total int64
}

func (r *ring[T]) add(v T) {
	r.total++
	if len(r.buf) < r.max {
		if len(r.buf) == cap(r.buf) {
			grown := make([]T, len(r.buf), min(max(2*cap(r.buf), 64), r.max))
			copy(grown, r.buf)
			r.buf = grown
		}
		r.buf = append(r.buf, v)
		return
	}
	r.buf[r.head] = v
	r.head = (r.head + 1) % r.max
}

// each visits the values oldest first.
func (r *ring[T]) each(f func(*T)) {
	for i := range r.buf {
		f(&r.buf[(r.head+i)%len(r.buf)])
	}
}

func (r *ring[T]) dropped() int64 { return r.total - int64(len(r.buf)) }

// Records returns a copy of the finished requests kept (the newest
// MaxRecords, in finish order; Snapshot.RecordsDropped counts the rest), as
// aggregated so far: Sync first for everything handed off.
func (c *Collector) Records() []RequestRecord { return c.RecordsSince(time.Time{}) }

// RecordsSince is Records restricted to requests that arrived at or after
// t.
func (c *Collector) RecordsSince(t time.Time) []RequestRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []RequestRecord{}
	c.agg.records.each(func(r *RequestRecord) {
		if t.IsZero() || !r.Arrival.Before(t) {
			out = append(out, *r)
		}
	})
	return out
}

// DecodeStepsSince returns copies of the pure-decode steps kept (the newest
// MaxDecodeSteps) that started at or after t, for the roofline.
func (c *Collector) DecodeStepsSince(t time.Time) []engine.StepEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []engine.StepEvent{}
	c.agg.decode.each(func(s *engine.StepEvent) {
		if !s.Start.Before(t) {
			out = append(out, *s)
		}
	})
	return out
}
