package servermetrics

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Detect names the server from its metric names: the server whose prefix
// ("vllm:", "sglang:", "tgi_", "llamacpp:") most families carry; Unknown
// when none does.
func Detect(f Families) Server {
	best, bestN := Unknown, 0
	for _, m := range mappings {
		n := 0
		for name := range f {
			if strings.HasPrefix(name, m.prefix) {
				n++
			}
		}
		if n > bestN {
			best, bestN = m.server, n
		}
	}
	return best
}

// Map reads one parsed scrape with a server's names (Unknown: detected) and
// stamps it at. A measure the server does not expose stays NotExposed, never
// zero. Rates and windows need the previous scrape: see Sample.Since.
func Map(server Server, f Families, at time.Time) *Sample {
	if server == Unknown {
		server = Detect(f)
	}
	s := &Sample{At: at, Server: server}
	m := mappingFor(server)
	if m == nil {
		return s
	}
	s.Models = labelValues(f, m.prefix, "model_name")
	for i := range s.Values {
		s.Values[i] = m.read(f, m.gauges[i], Measure(i) == KVUsage)
	}
	for i, names := range m.hists {
		s.Hists[i] = m.readHist(f, names)
		s.Window[i] = s.Hists[i]
	}
	s.Engines = m.engines(f)
	return s
}

// series are one family's samples that the mapping reads: tensor- and
// pipeline-rank copies dropped.
func (m *mapping) series(fam *dto.MetricFamily) []*dto.Metric {
	var out []*dto.Metric
outer:
	for _, mt := range fam.GetMetric() {
		for _, lp := range mt.GetLabel() {
			for _, sh := range m.shards {
				if lp.GetName() == sh && lp.GetValue() != "0" {
					continue outer
				}
			}
		}
		out = append(out, mt)
	}
	return out
}

// find returns the first of names the scrape has, with its name.
func find(f Families, names []string) (*dto.MetricFamily, string) {
	for _, n := range names {
		if fam, ok := f[n]; ok && len(fam.GetMetric()) > 0 {
			return fam, n
		}
	}
	return nil, ""
}

// read sums (or, for a ratio, averages) the series of src's first exposed
// name; replica, when set, keeps only that replica's series.
func (m *mapping) read(f Families, src source, mean bool, replica ...string) Value {
	fam, name := find(f, src.names)
	if fam == nil {
		return Value{}
	}
	sum, n := 0.0, 0
	for _, mt := range m.series(fam) {
		if len(replica) == 1 && labelOf(mt, m.replica) != replica[0] {
			continue
		}
		v, ok := scalar(fam.GetType(), mt, src.fromSum)
		if !ok {
			continue
		}
		sum += v
		n++
	}
	if n == 0 {
		return Value{}
	}
	if mean {
		sum /= float64(n)
	}
	if src.fromSum {
		name += "_sum"
	}
	return Value{Exposed: true, Source: name, Value: sum}
}

// scalar is a sample's value: a gauge's, counter's or untyped one's, or a
// histogram's sum when fromSum.
func scalar(t dto.MetricType, mt *dto.Metric, fromSum bool) (float64, bool) {
	switch {
	case fromSum && mt.GetHistogram() != nil:
		return mt.GetHistogram().GetSampleSum(), true
	case fromSum:
		return 0, false
	case mt.GetGauge() != nil:
		return mt.GetGauge().GetValue(), true
	case mt.GetCounter() != nil:
		return mt.GetCounter().GetValue(), true
	case mt.GetUntyped() != nil:
		return mt.GetUntyped().GetValue(), true
	}
	return 0, false
}

// readHist merges every series of the first exposed histogram of names.
func (m *mapping) readHist(f Families, names []string) Histogram {
	fam, name := find(f, names)
	if fam == nil || (fam.GetType() != dto.MetricType_HISTOGRAM && fam.GetType() != dto.MetricType_GAUGE_HISTOGRAM) {
		return Histogram{}
	}
	h := Histogram{Source: name}
	for _, mt := range m.series(fam) {
		if x := mt.GetHistogram(); x != nil {
			h.add(fromDTO(x))
			h.Exposed = true
		}
	}
	return h
}

// fromDTO converts a parsed histogram into ascending cumulative buckets
// ending with +Inf (added from the sample count when the text had none).
func fromDTO(x *dto.Histogram) Histogram {
	count := float64(x.GetSampleCount())
	if x.SampleCountFloat != nil {
		count = x.GetSampleCountFloat()
	}
	h := Histogram{Exposed: true, Count: count, Sum: x.GetSampleSum()}
	for _, b := range x.GetBucket() {
		c := float64(b.GetCumulativeCount())
		if b.CumulativeCountFloat != nil {
			c = b.GetCumulativeCountFloat()
		}
		h.Buckets = append(h.Buckets, Bucket{UpperBound: b.GetUpperBound(), Count: c})
	}
	sort.SliceStable(h.Buckets, func(i, j int) bool { return h.Buckets[i].UpperBound < h.Buckets[j].UpperBound })
	if n := len(h.Buckets); n == 0 || !math.IsInf(h.Buckets[n-1].UpperBound, 1) {
		h.Buckets = append(h.Buckets, Bucket{UpperBound: math.Inf(1), Count: count})
	}
	return h
}

// engines lists each replica's running, waiting and KV usage, when the
// server labels replicas.
func (m *mapping) engines(f Families) []Engine {
	if m.replica == "" {
		return nil
	}
	var labels []string
	seen := map[string]bool{}
	for _, meas := range []Measure{Running, Waiting, KVUsage} {
		fam, _ := find(f, m.gauges[meas].names)
		if fam == nil {
			continue
		}
		for _, mt := range m.series(fam) {
			if l := labelOf(mt, m.replica); l != "" && !seen[l] {
				seen[l] = true
				labels = append(labels, l)
			}
		}
	}
	sortLabels(labels)
	out := make([]Engine, 0, len(labels))
	for _, l := range labels {
		out = append(out, Engine{Label: l,
			Running: m.read(f, m.gauges[Running], false, l),
			Waiting: m.read(f, m.gauges[Waiting], false, l),
			KVUsage: m.read(f, m.gauges[KVUsage], true, l)})
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func labelOf(mt *dto.Metric, name string) string {
	for _, lp := range mt.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
}

// labelValues collects one label's values over the families with prefix.
func labelValues(f Families, prefix, label string) []string {
	seen := map[string]bool{}
	var out []string
	for name, fam := range f {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		for _, mt := range fam.GetMetric() {
			if v := labelOf(mt, label); v != "" && !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	sort.Strings(out)
	return out
}

// sortLabels orders numerically where every label is a number.
func sortLabels(ls []string) {
	sort.SliceStable(ls, func(i, j int) bool {
		a, ea := strconv.Atoi(ls[i])
		b, eb := strconv.Atoi(ls[j])
		if ea == nil && eb == nil {
			return a < b
		}
		return ls[i] < ls[j]
	})
}

// Since fills s's counter rates and histogram windows from the previous
// scrape of the same server; a counter that went down (a restart) rates
// from zero.
func (s *Sample) Since(prev *Sample) {
	if prev == nil || prev.Server != s.Server {
		return
	}
	dt := s.At.Sub(prev.At).Seconds()
	if !(dt > 0) {
		return
	}
	for i := range s.Values {
		v, p := &s.Values[i], prev.Values[i]
		if !Measure(i).Counter() || !v.Exposed || !p.Exposed || math.IsNaN(v.Value) || math.IsNaN(p.Value) {
			continue
		}
		d := v.Value - p.Value
		if d < 0 {
			d = v.Value
		}
		v.Rate, v.HasRate = d/dt, true
	}
	for i := range s.Hists {
		s.Window[i] = s.Hists[i].Sub(prev.Hists[i])
	}
}
