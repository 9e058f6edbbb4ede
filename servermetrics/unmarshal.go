package servermetrics

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// UnmarshalJSON reads what MarshalJSON wrote (a snapshot reopened): a null
// value reads as NaN. The rate reads back only when it was written.
func (v *Value) UnmarshalJSON(b []byte) error {
	var in struct {
		Exposed bool     `json:"exposed"`
		Source  string   `json:"source"`
		Value   *float64 `json:"value"`
		Rate    *float64 `json:"rate_per_s"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*v = Value{Exposed: in.Exposed, Source: in.Source, Value: orNaN(in.Value)}
	if in.Rate != nil {
		v.Rate, v.HasRate = *in.Rate, true
	}
	return nil
}

// UnmarshalJSON reads what MarshalJSON wrote: the finite buckets, then the
// +Inf bucket from the count; quantiles are recomputed from them.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var in struct {
		Exposed bool     `json:"exposed"`
		Source  string   `json:"source"`
		Count   *float64 `json:"count"`
		Sum     *float64 `json:"sum"`
		Buckets []Bucket `json:"buckets"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*h = Histogram{Exposed: in.Exposed, Source: in.Source, Count: orNaN(in.Count), Sum: orNaN(in.Sum)}
	if in.Exposed {
		h.Buckets = append(in.Buckets, Bucket{UpperBound: math.Inf(1), Count: h.Count})
	}
	return nil
}

// UnmarshalJSON reads what MarshalJSON wrote. Measures and histograms are
// keyed by their Key; unknown keys are skipped (a newer file), and the
// windows since the previous scrape, which are not written, read as the
// cumulative histograms.
func (s *Sample) UnmarshalJSON(b []byte) error {
	var in struct {
		At      time.Time            `json:"at"`
		Server  Server               `json:"server"`
		Models  []string             `json:"models"`
		Values  map[string]Value     `json:"values"`
		Hists   map[string]Histogram `json:"histograms"`
		Engines []Engine             `json:"engines"`
	}
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

func orNaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
