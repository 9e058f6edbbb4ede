package snapshot

import (
	"time"

	"benchtop/metrics"
)

// Segments splits finished requests by the segment they arrived in and
// summarises each; markers name the changes that started segments 1, 2, …
func Segments(recs []metrics.RequestRecord, markers []metrics.Marker, start, now time.Time) []Segment {
	n := len(markers) + 1
	segs := make([]Segment, n)
	for i := range segs {
		segs[i].Index = i
		segs[i].What = "start"
		segs[i].Start = start
		if i > 0 {
			segs[i].What, segs[i].Start = markers[i-1].What, markers[i-1].Time
		}
	}
	ttft := make([][]time.Duration, n)
	tpot := make([][]time.Duration, n)
	e2e := make([][]time.Duration, n)
	tokens := make([]int, n)
	for _, r := range recs {
		i := min(max(r.Segment, 0), n-1)
		segs[i].Requests++
		tokens[i] += r.OutputTokens
		if r.OutputTokens > 0 {
			ttft[i] = append(ttft[i], r.TTFT)
			e2e[i] = append(e2e[i], r.E2E)
		}
		if r.OutputTokens > 1 {
			tpot[i] = append(tpot[i], r.TPOT)
		}
	}
	for i := range segs {
		end := now
		if i+1 < n {
			end = segs[i+1].Start
		}
		if d := end.Sub(segs[i].Start).Seconds(); d > 0 {
			segs[i].OutputTPS = float64(tokens[i]) / d
		}
		t := metrics.Summarize(ttft[i])
		segs[i].TTFTP50, segs[i].TTFTP99 = t.P50, t.P99
		segs[i].TPOTP50 = metrics.Summarize(tpot[i]).P50
		segs[i].E2EP50 = metrics.Summarize(e2e[i]).P50
	}
	return segs
}
