package servermetrics

import (
	"fmt"
	"math"
	"time"
)

// Measure is one of benchtop's server-side gauges and counters.
type Measure int

const (
	Running            Measure = iota // requests in the running batch
	Waiting                           // requests queued
	KVUsage                           // fraction of the KV cache in use, 0..1
	Preemptions                       // counter: preempted (SGLang: retracted) requests
	PromptTokens                      // counter: prompt tokens processed
	GenerationTokens                  // counter: output tokens generated
	PrefixCacheHits                   // counter: prompt tokens found in the prefix cache
	PrefixCacheQueries                // counter: prompt tokens looked up in it
	FinishedRequests                  // counter: requests finished
	numMeasures
)

var measureInfo = [numMeasures]struct {
	key, label string
	counter    bool
}{
	{"running_requests", "running requests", false},
	{"waiting_requests", "waiting requests", false},
	{"kv_cache_usage", "KV-cache usage (0..1)", false},
	{"preemptions", "preemptions", true},
	{"prompt_tokens", "prompt tokens", true},
	{"generation_tokens", "generation tokens", true},
	{"prefix_cache_hits", "prefix-cache hits (tokens)", true},
	{"prefix_cache_queries", "prefix-cache queries (tokens)", true},
	{"finished_requests", "finished requests", true},
}

// Measures lists every measure in order.
func Measures() []Measure { return upTo(numMeasures) }

// Key is the measure's snake_case JSON name.
func (m Measure) Key() string { return measureInfo[m].key }

// String is the measure's label on screen.
func (m Measure) String() string { return measureInfo[m].label }

// Counter says whether the measure only grows (its rate is what to show).
func (m Measure) Counter() bool { return measureInfo[m].counter }

// Hist is one of the server-side latency histograms.
type Hist int

const (
	TTFT  Hist = iota // time to first token
	ITL               // inter-token latency
	TPOT              // time per output token, per request
	E2E               // end-to-end request latency
	Queue             // time queued before running
	numHists
)

var histInfo = [numHists]struct{ key, label string }{
	{"ttft", "TTFT"}, {"itl", "ITL"}, {"tpot", "TPOT"}, {"e2e", "E2E"}, {"queue", "queue time"},
}

// Hists lists every histogram in order.
func Hists() []Hist { return upTo(numHists) }

// upTo lists 0, 1, …, n-1 of an enumeration.
func upTo[T ~int](n T) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = T(i)
	}
	return out
}

// Key is the histogram's snake_case JSON name.
func (h Hist) Key() string { return histInfo[h].key }

// String is its label on screen.
func (h Hist) String() string { return histInfo[h].label }

// NotExposed is how a measure the server does not expose is shown: a
// distinct state, never zero.
const NotExposed = "not exposed by this server"

// Value is one measure of one scrape. A measure the server does not expose
// has Exposed false (and is shown as NotExposed); Value may be NaN when the
// server exposed NaN.
type Value struct {
	Exposed bool
	Source  string  // the server's metric name it was read from
	Value   float64 // summed over the series read (KV usage: their mean)
	// Rate is the counter's growth per second since the previous scrape;
	// HasRate is false for gauges, a first scrape, or a NaN.
	Rate    float64
	HasRate bool
}

// String is the value as shown: NotExposed, or the number.
func (v Value) String() string {
	if !v.Exposed {
		return NotExposed
	}
	return fmtFloat(v.Value)
}

// Engine is one data-parallel engine's (replica's) gauges.
type Engine struct {
	Label   string `json:"engine"` // the replica label's value
	Running Value  `json:"running_requests"`
	Waiting Value  `json:"waiting_requests"`
	KVUsage Value  `json:"kv_cache_usage"`
}

// Sample is one scrape, mapped: the measures and histograms benchtop shows,
// each with its source, on the client's clock.
type Sample struct {
	At     time.Time
	Server Server
	Models []string // values of the model_name label, when the server labels by model
	Values [numMeasures]Value
	Hists  [numHists]Histogram
	// Window holds each histogram's observations since the previous scrape
	// (the same as Hists on a first scrape).
	Window  [numHists]Histogram
	Engines []Engine // one per replica label value, when there are several or one is named
}

// Get returns one measure.
func (s *Sample) Get(m Measure) Value { return s.Values[m] }

// Hist returns one histogram (cumulative since the server started).
func (s *Sample) Hist(h Hist) *Histogram { return &s.Hists[h] }

func fmtFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case f == math.Trunc(f) && math.Abs(f) < 1e15:
		return fmt.Sprintf("%.0f", f)
	case math.Abs(f) < 1:
		return fmt.Sprintf("%.4g", f)
	}
	return fmt.Sprintf("%.2f", f)
}
