package session

import (
	"fmt"
	"strings"
	"time"

	"benchtop/metrics"
	"benchtop/report"
)

// TTFTOverITL is how many times its ITL p50 a client's TTFT p50 must be
// for requests to count as waiting before their first token (in a queue,
// or behind long prefills) when no server exposes a waiting gauge.
const TTFTOverITL = 10.0

// remoteView is what a frame against servers says about them: the
// servers' gauges (summed over those up that expose them; nil where none
// does), the client's requests in flight, and the servers down.
type remoteView struct {
	servers, down    int
	downWhy          string // the first down server's failure
	running, waiting *float64
	kv               *float64 // the fullest server's KV usage (0–1)
	kvAt             string   // that server
	preempts         int      // the servers' preemptions over the last preemptSpan
	inFlight         int
}

func viewRemote(f *Frame) remoteView {
	v := remoteView{servers: len(f.Sources)}
	add := func(sum **float64, x *float64) {
		if x != nil {
			if *sum == nil {
				*sum = new(float64)
			}
			**sum += *x
		}
	}
	for _, r := range f.Sources {
		v.inFlight += r.Outstanding
		if !r.Up {
			if v.down == 0 {
				v.downWhy = r.Why
			}
			v.down++
			continue
		}
		add(&v.running, r.Running)
		add(&v.waiting, r.Waiting)
		if r.KVUsage != nil && (v.kv == nil || *r.KVUsage > *v.kv) {
			v.kv, v.kvAt = r.KVUsage, r.Name
		}
	}
	for _, t := range f.Targets {
		v.preempts += serverPreemptions(t.Gauges.Series)
	}
	return v
}

// serverPreemptions is how much a server's preemption counter rose over the
// series' last preemptSpan (0 when it exposes none).
func serverPreemptions(pts []report.ServerPoint) int {
	if len(pts) == 0 || pts[len(pts)-1].PreemptionsTotal == nil {
		return 0
	}
	last := pts[len(pts)-1]
	from := last
	for i := len(pts) - 2; i >= 0 && last.At.Sub(pts[i].At) <= preemptSpan; i-- {
		if pts[i].PreemptionsTotal != nil {
			from = pts[i]
		}
	}
	return max(0, int(*last.PreemptionsTotal-*from.PreemptionsTotal))
}

// diagnoseRemote is Diagnose against servers, from what a client sees and
// the servers' scraped gauges; never an engine's reason (a client sees no
// step). Rules, first match wins: every server down; the open-loop
// generator running late; server KV-bound (a server's KV usage at KVFull
// with requests waiting or preempted); server queue-bound (requests
// waiting at the servers); then, with nothing waiting there, client-bound
// (the clients or the arrival rate set the pace); without a waiting gauge,
// a TTFT p50 TTFTOverITL times the ITL p50 says requests wait before their
// first token, and one near it that they do not; with none of that, it is
// unknown and says so.
func diagnoseRemote(f *Frame) Bottleneck {
	m := f.Metrics
	v := viewRemote(f)
	if f.Workload == "" && !f.ReadOnly && v.inFlight == 0 {
		return Bottleneck{Kind: "idle", Why: "no workload is running", Try: "start one (1-9, w)"}
	}
	if v.servers > 0 && v.down == v.servers {
		return Bottleneck{Kind: "servers down", Why: fmt.Sprintf("all %d down: %s", v.servers, v.downWhy),
			Try: "check the servers; benchtop checks each again every few seconds"}
	}
	b := diagnoseServers(f, m, v)
	if v.down > 0 {
		b.Why += fmt.Sprintf("; %d of %d servers down", v.down, v.servers)
	}
	return b
}

func diagnoseServers(f *Frame, m *metrics.Snapshot, v remoteView) Bottleneck {
	if f.Load.OpenLoop && f.Load.Lag >= LagHigh {
		return Bottleneck{Kind: "client-bound", Why: fmt.Sprintf("the generator sends %s behind its arrival times", f.Load.Lag.Round(time.Millisecond)),
			Try: "a lower arrival rate, or the client on another machine"}
	}
	waiting := 0.0
	if v.waiting != nil {
		waiting = *v.waiting
	}
	if v.kv != nil && *v.kv >= KVFull && (waiting > 0 || v.preempts > 0) {
		why := fmt.Sprintf("%.0f%% KV", 100**v.kv)
		if v.servers > 1 {
			why += " at " + v.kvAt
		}
		if waiting > 0 {
			why += fmt.Sprintf(", %.0f waiting", waiting)
		}
		if v.preempts > 0 {
			why += fmt.Sprintf(", %d preemptions in the last %s", v.preempts, preemptSpan)
		}
		return Bottleneck{Kind: "server KV-bound", Why: why,
			Try: "more KV on the server (gpu_memory_utilization), or fewer requests at once"}
	}
	if waiting > 0 {
		why := fmt.Sprintf("%.0f waiting", waiting)
		if v.running != nil {
			why += fmt.Sprintf(", %.0f running", *v.running)
		}
		if v.kv != nil {
			why += fmt.Sprintf(", KV %.0f%%", 100**v.kv)
		}
		return Bottleneck{Kind: "server queue-bound", Why: why,
			Try: "a larger max_num_seqs on the server, more servers, or less load"}
	}
	ttft, itl := m.TTFT, m.ITL
	if v.waiting == nil && ttft.Valid() && itl.Valid() && itl.P50 > 0 {
		ratio := float64(ttft.P50) / float64(itl.P50)
		if ratio >= TTFTOverITL {
			return Bottleneck{Kind: "server queue- or prefill-bound",
				Why: fmt.Sprintf("TTFT p50 %s is %.0f× ITL p50 %s (no waiting gauge to tell queueing from prefill)", ms1(ttft.P50), ratio, ms1(itl.P50)),
				Try: "scrape the servers' /metrics (--metrics-path) to see their queue; more servers or shorter prompts"}
		}
	}
	if v.waiting != nil || ttft.Valid() && itl.Valid() {
		// Nothing waits at the servers (or, without their gauge, the first
		// token comes soon): the load, not the servers, sets the pace.
		why := "nothing waiting at the servers"
		if v.waiting == nil {
			why = fmt.Sprintf("TTFT p50 %s, ITL p50 %s: little waiting before the first token (no waiting gauge)", ms1(ttft.P50), ms1(itl.P50))
		}
		if v.running != nil {
			why += fmt.Sprintf(", %.0f running", *v.running)
		}
		if v.kv != nil {
			why += fmt.Sprintf(", KV %.0f%%", 100**v.kv)
		}
		switch {
		case f.Load.Clients > 0:
			lead := fmt.Sprintf("all %d clients waiting on responses", f.Load.Clients)
			if v.inFlight < f.Load.Clients {
				lead = fmt.Sprintf("%d of %d clients waiting on responses", v.inFlight, f.Load.Clients)
			}
			return Bottleneck{Kind: "client-bound", Why: lead + ", " + why, Try: "more clients (closed:N)"}
		case f.Load.OpenLoop:
			return Bottleneck{Kind: "client-bound", Why: fmt.Sprintf("%d in flight, %s: the arrival rate sets the pace", v.inFlight, why),
				Try: "a higher arrival rate"}
		}
		return Bottleneck{Kind: "client-bound", Why: fmt.Sprintf("%d in flight, %s", v.inFlight, why), Try: "more load: clients or a higher rate"}
	}
	var missing []string
	if v.waiting == nil {
		missing = append(missing, "no waiting gauge")
	}
	if !ttft.Valid() || !itl.Valid() {
		missing = append(missing, "no TTFT/ITL sample yet")
	}
	return Bottleneck{Kind: "unknown", Why: "remote: no step data (" + strings.Join(missing, ", ") + ")",
		Try: "wait for finished requests, or scrape the servers' /metrics (--metrics-path)"}
}

// ms1 is a duration in ms with one decimal, "12.3 ms".
func ms1(d time.Duration) string { return fmt.Sprintf("%.1f ms", metrics.Ms(d)) }
