package session

import (
	"context"
	"math"
	"sync"
	"time"

	"benchtop/report"
	"benchtop/servermetrics"
)

// MaxServerPoints bounds each server's gauge series (four hours at 1 Hz);
// older points are dropped, in halves.
const MaxServerPoints = 4 * 3600

// gaugeKeeper holds one server's scrapes: the latest sample, the latest
// failure while it lasts, and the series of the main gauges. The series is
// append-only until it is halved into a fresh array, so a published view
// (a slice header capped at its length) is never written again.
type gaugeKeeper struct {
	mu       sync.Mutex
	url      string
	interval time.Duration
	scrapes  int
	failures int
	err      string
	latest   *servermetrics.Sample
	series   []report.ServerPoint
}

// startScraper scrapes the server's /metrics every interval on a goroutine
// of the session's (none when the path is "off").
func (rt *remote) startScraper(s *Session) error {
	path := rt.opts.MetricsPath
	if path == "off" || path == "none" {
		return nil
	}
	sc, err := servermetrics.NewScraper(servermetrics.Options{URL: rt.url, Path: path, Interval: rt.opts.MetricsInterval,
		Server: rt.opts.MetricsServer, APIKeyEnv: rt.opts.APIKeyEnv})
	if err != nil {
		return err
	}
	rt.gauges.mu.Lock()
	rt.gauges.url, rt.gauges.interval = sc.URL(), sc.Interval()
	rt.gauges.mu.Unlock()
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		sc.Run(s.ctx, rt.gauges.add)
	}()
	return nil
}

// Scrape fetches every remote target's /metrics once now (for checks that
// compare the client with the server at a known moment); the samples also
// enter the gauges.
func (s *Session) Scrape(ctx context.Context) ([]*servermetrics.Sample, error) {
	out := make([]*servermetrics.Sample, len(s.remotes))
	for i, rt := range s.remotes {
		rt.gauges.mu.Lock()
		url := rt.gauges.url
		rt.gauges.mu.Unlock()
		if url == "" {
			continue
		}
		smp, err := servermetrics.Fetch(ctx, servermetrics.Options{URL: url, Server: rt.opts.MetricsServer, APIKeyEnv: rt.opts.APIKeyEnv})
		if err != nil {
			return nil, err
		}
		out[i] = smp
	}
	return out, nil
}

// add takes one scrape (the scraper's goroutine).
func (g *gaugeKeeper) add(smp *servermetrics.Sample, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		g.failures++
		g.err = err.Error()
		return
	}
	g.scrapes++
	g.err, g.latest = "", smp
	g.series = keepLastPoints(append(g.series, pointOf(smp)), MaxServerPoints)
}

// view is the gauges as published (shared, immutable parts).
func (g *gaugeKeeper) view() report.ServerGauges {
	g.mu.Lock()
	defer g.mu.Unlock()
	series := g.series[:len(g.series):len(g.series)]
	if series == nil {
		series = []report.ServerPoint{}
	}
	return report.ServerGauges{MetricsURL: g.url, Interval: g.interval, Scrapes: g.scrapes, Failures: g.failures, Error: g.err,
		Latest: g.latest, Series: series}
}

func keepLastPoints(s []report.ServerPoint, n int) []report.ServerPoint {
	if len(s) <= 2*n {
		return s
	}
	return append([]report.ServerPoint(nil), s[len(s)-n:]...)
}

// pointOf is a sample's main gauges (nil: not exposed, or NaN).
func pointOf(s *servermetrics.Sample) report.ServerPoint {
	val := func(m servermetrics.Measure) *float64 {
		v := s.Get(m)
		if !v.Exposed || math.IsNaN(v.Value) {
			return nil
		}
		x := v.Value
		return &x
	}
	rate := func(m servermetrics.Measure) *float64 {
		v := s.Get(m)
		if !v.Exposed || !v.HasRate || math.IsNaN(v.Rate) {
			return nil
		}
		x := v.Rate
		return &x
	}
	p := report.ServerPoint{At: s.At, Running: val(servermetrics.Running), Waiting: val(servermetrics.Waiting),
		KVUsage: val(servermetrics.KVUsage), GenerationTPS: rate(servermetrics.GenerationTokens),
		PromptTPS: rate(servermetrics.PromptTokens), PreemptionsTotal: val(servermetrics.Preemptions)}
	if h, q := rate(servermetrics.PrefixCacheHits), rate(servermetrics.PrefixCacheQueries); h != nil && q != nil && *q > 0 {
		x := 100 * *h / *q
		p.PrefixCacheHitPct = &x
	}
	return p
}
