package servermetrics

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// A sample's JSON, written into a snapshot and read back when one is
// reopened. One wire type per object serves both directions; numbers that
// are NaN or infinite are written as null and read back as NaN.

// valueJSON is a Value on the wire.
type valueJSON struct {
	Exposed bool     `json:"exposed"`
	Source  string   `json:"source"`
	Value   *float64 `json:"value"`
	Rate    *float64 `json:"rate_per_s,omitempty"`
}

// histogramJSON is a Histogram on the wire: its finite buckets (the +Inf
// bucket is the count) and the quantiles estimated from them.
type histogramJSON struct {
	Exposed   bool     `json:"exposed"`
	Source    string   `json:"source"`
	Count     *float64 `json:"count"`
	Sum       *float64 `json:"sum"`
	P50       *float64 `json:"p50"`
	P90       *float64 `json:"p90"`
	P99       *float64 `json:"p99"`
	Estimated bool     `json:"quantiles_estimated_from_buckets"`
	Buckets   []Bucket `json:"buckets"`
}

// sampleJSON is a Sample on the wire: measures and histograms keyed by
// their Key. The windows since the previous scrape are not written.
type sampleJSON struct {
	At      time.Time            `json:"at"`
	Server  Server               `json:"server"`
	Models  []string             `json:"models"`
	Values  map[string]Value     `json:"values"`
	Hists   map[string]Histogram `json:"histograms"`
	Engines []Engine             `json:"engines"`
}

// notExposedJSON is what a measure or histogram not exposed is written as.
const notExposedJSON = `{"exposed":false}`

// MarshalJSON writes {"exposed":false} or the value with its source (NaN
// as null).
func (v Value) MarshalJSON() ([]byte, error) {
	if !v.Exposed {
		return []byte(notExposedJSON), nil
	}
	out := valueJSON{Exposed: true, Source: v.Source, Value: finite(v.Value)}
	if v.HasRate {
		out.Rate = finite(v.Rate)
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON wrote (a snapshot reopened): a null
// value reads as NaN. The rate reads back only when it was written.
func (v *Value) UnmarshalJSON(b []byte) error {
	var in valueJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*v = Value{Exposed: in.Exposed, Source: in.Source, Value: orNaN(in.Value)}
	if in.Rate != nil {
		v.Rate, v.HasRate = *in.Rate, true
	}
	return nil
}

// MarshalJSON writes the histogram's source, count, sum and estimated
// quantiles (NaN as null).
func (h Histogram) MarshalJSON() ([]byte, error) {
	if !h.Exposed {
		return []byte(notExposedJSON), nil
	}
	return json.Marshal(histogramJSON{true, h.Source, finite(h.Count), finite(h.Sum), finite(h.Quantile(0.5)),
		finite(h.Quantile(0.9)), finite(h.Quantile(0.99)), true, finiteBuckets(h.Buckets)})
}

// UnmarshalJSON reads what MarshalJSON wrote: the finite buckets, then the
// +Inf bucket from the count; quantiles are recomputed from them.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var in histogramJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*h = Histogram{Exposed: in.Exposed, Source: in.Source, Count: orNaN(in.Count), Sum: orNaN(in.Sum)}
	if in.Exposed {
		h.Buckets = append(in.Buckets, Bucket{UpperBound: math.Inf(1), Count: h.Count})
	}
	return nil
}

// MarshalJSON writes the sample with snake_case keys; measures and
// histograms are objects keyed by their Key.
func (s *Sample) MarshalJSON() ([]byte, error) {
	out := sampleJSON{At: s.At, Server: s.Server, Models: s.Models, Values: map[string]Value{},
		Hists: map[string]Histogram{}, Engines: s.Engines}
	for _, m := range Measures() {
		out.Values[m.Key()] = s.Values[m]
	}
	for _, h := range Hists() {
		out.Hists[h.Key()] = s.Hists[h]
	}
	if out.Models == nil {
		out.Models = []string{}
	}
	if out.Engines == nil {
		out.Engines = []Engine{}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON wrote. Unknown keys are skipped (a
// newer file), and the windows, which are not written, read as the
// cumulative histograms.
func (s *Sample) UnmarshalJSON(b []byte) error {
	var in sampleJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return fmt.Errorf("server metrics sample: %w", err)
	}
	*s = Sample{At: in.At, Server: in.Server, Models: in.Models, Engines: in.Engines}
	for _, m := range Measures() {
		s.Values[m] = in.Values[m.Key()]
	}
	for _, h := range Hists() {
		s.Hists[h] = in.Hists[h.Key()]
		s.Window[h] = s.Hists[h]
	}
	return nil
}

func finite(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

func finiteBuckets(bs []Bucket) []Bucket {
	out := make([]Bucket, 0, len(bs))
	for _, b := range bs {
		if !math.IsInf(b.UpperBound, 0) && !math.IsNaN(b.Count) && !math.IsNaN(b.UpperBound) {
			out = append(out, b) // JSON has no +Inf: the total is Count
		}
	}
	return out
}

func orNaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
