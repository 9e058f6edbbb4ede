package session

import (
	"context"
	"maps"
	"math"
	"time"

	"benchtop/metrics"
	"benchtop/report"
	"benchtop/servermetrics"
)

// addSources fills the frame's per-source rows, imbalance, policy and
// targets (nothing for one in-process engine).
func (s *Session) addSources(f *Frame) {
	if s.pool == nil {
		return
	}
	f.Targets = s.Targets()
	f.Sources = s.rows(f.Metrics, f.Targets)
	f.Imbalance = report.Imbalance(f.Sources)
	f.Policy = s.pool.Policy().String()
}

// rows joins what the dispatcher, the collector, the engines and the
// servers' gauges know of each source.
func (s *Session) rows(m *metrics.Snapshot, targets []report.Target) []report.Source {
	members := s.pool.Members()
	rows := make([]report.Source, len(members))
	for i, mi := range members {
		r := report.Source{Index: i, Name: mi.Name, Kind: mi.Kind, Up: mi.Up, Why: mi.Why, Outstanding: mi.Outstanding,
			Sent: mi.Sent, FailedByKind: mi.Failed}
		if m != nil && i < len(m.Sources) {
			st := m.Sources[i]
			r.OutputTPS, r.Finished, r.Failed = st.OutputTPS, st.Finished, st.Failed
			if mi.Kind == "replica" {
				r.Running, r.Waiting, r.KVUsage = fptr(float64(st.Running)), fptr(float64(st.Waiting)), fptr(st.KVUsage)
				r.StepP50 = st.StepTime.P50
			}
		} else if mi.Kind == "replica" {
			r.Running, r.Waiting, r.KVUsage = fptr(0), fptr(0), fptr(0)
		}
		if mi.Kind == "replica" && i < len(s.replicas) && r.Up {
			r.Up, r.Why = s.replicaState(i)
		}
		if i < len(targets) {
			serverGauges(&r, targets[i].Gauges.Latest)
		}
		rows[i] = r
	}
	return rows
}

func fptr(x float64) *float64 { return &x }

// serverGauges puts a server's latest scrape into its row, each field with
// the metric it came from; what the server does not expose stays null.
func serverGauges(r *report.Source, smp *servermetrics.Sample) {
	if smp == nil {
		return
	}
	r.GaugeSources = map[string]string{}
	for _, x := range []struct {
		key string
		m   servermetrics.Measure
		dst **float64
	}{{"running", servermetrics.Running, &r.Running}, {"waiting", servermetrics.Waiting, &r.Waiting}, {"kv_usage", servermetrics.KVUsage, &r.KVUsage}} {
		if v := smp.Get(x.m); v.Exposed && !math.IsNaN(v.Value) {
			*x.dst = fptr(v.Value)
			r.GaugeSources[x.key] = v.Source
		}
	}
	for _, x := range []struct {
		key string
		h   servermetrics.Hist
		dst *time.Duration
	}{{"server_ttft", servermetrics.TTFT, &r.ServerTTFTP50}, {"server_itl", servermetrics.ITL, &r.ServerITLP50}, {"server_e2e", servermetrics.E2E, &r.ServerE2EP50}} {
		w := smp.Window[x.h]
		if q := w.Quantile(0.5); w.Exposed && w.Count > 0 && !math.IsNaN(q) {
			*x.dst = time.Duration(q * 1e9)
			r.GaugeSources[x.key] = w.Source
		}
	}
}

// SourcesOver are the per-source rows of a run that started at start and
// took wall: each source's finished and failed requests, output tokens and
// output tok/s over the run (from the requests that arrived since start),
// beside the dispatcher's view and the servers' latest gauges now. Nil for
// one in-process engine.
func (s *Session) SourcesOver(ctx context.Context, start time.Time, wall time.Duration) ([]report.Source, error) {
	if s.pool == nil {
		return nil, nil
	}
	recs, err := s.stats.RecordsSince(ctx, start)
	if err != nil {
		return nil, err
	}
	rows := s.rows(s.stats.Latest(), s.Targets())
	for i := range rows {
		rows[i].OutputTPS, rows[i].Finished, rows[i].Failed, rows[i].OutputTok = 0, 0, 0, 0
		rows[i].FailedByKind = maps.Clone(rows[i].FailedByKind)
	}
	for _, r := range recs {
		if r.Source < 0 || r.Source >= len(rows) {
			continue
		}
		row := &rows[r.Source]
		row.Finished++
		row.OutputTok += int64(r.OutputTokens)
		if r.Failed() {
			row.Failed++
		}
	}
	if wall > 0 {
		for i := range rows {
			rows[i].OutputTPS = float64(rows[i].OutputTok) / wall.Seconds()
		}
	}
	return rows, nil
}
