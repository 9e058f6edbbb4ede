package session

import (
	"strings"
	"testing"
	"time"

	"benchtop/engine"
	"benchtop/metrics"
	"benchtop/openai"
	"benchtop/report"
	"benchtop/server/servertest"
	"benchtop/workloads"
)

// remoteFrame is a fleet of n servers, up, each with gauges (2 running,
// nothing waiting, KV 40%), a closed loop of 4 clients all in flight, and
// client TTFT 20 ms and ITL 10 ms.
func remoteFrame(n int) *Frame {
	ms := time.Millisecond
	f := &Frame{Time: bt0, Workload: "chat", Load: LoadInfo{Clients: 4}, Policy: "least-outstanding",
		Status: &engine.Status{State: engine.StateRunning},
		Metrics: &metrics.Snapshot{Time: bt0, Window: 10 * time.Second,
			TTFT: metrics.Dist{Count: 40, P50: 20 * ms}, ITL: metrics.Dist{Count: 400, P50: 10 * ms}}}
	for i := range n {
		url := "http://10.0.0." + string(rune('1'+i)) + ":8000"
		f.Targets = append(f.Targets, report.Target{URL: url})
		f.Sources = append(f.Sources, report.Source{Index: i, Name: url, Kind: "server", Up: true, Outstanding: 4 / n,
			Running: fptr(2), Waiting: fptr(0), KVUsage: fptr(0.4)})
	}
	return f
}

func TestDiagnoseRemote(t *testing.T) {
	cases := []struct {
		name string
		prep func(f *Frame)
		kind string
		says []string
	}{
		{"nothing waits: the clients set the pace", func(f *Frame) {}, "client-bound",
			[]string{"all 4 clients waiting on responses", "nothing waiting at the servers", "more clients"}},
		{"an open loop with nothing waiting", func(f *Frame) { f.Load = LoadInfo{OpenLoop: true, Lag: time.Millisecond} },
			"client-bound", []string{"arrival rate sets the pace"}},
		{"an open loop running late", func(f *Frame) { f.Load = LoadInfo{OpenLoop: true, Lag: 400 * time.Millisecond} },
			"client-bound", []string{"400ms behind"}},
		{"requests waiting at a server", func(f *Frame) { f.Sources[1].Waiting = fptr(7) },
			"server queue-bound", []string{"7 waiting", "4 running", "max_num_seqs"}},
		{"a full KV cache with requests waiting", func(f *Frame) {
			f.Sources[0].Waiting, f.Sources[1].KVUsage = fptr(3), fptr(0.98)
		}, "server KV-bound", []string{"98% KV at http://10.0.0.2:8000", "3 waiting", "gpu_memory_utilization"}},
		{"a full KV cache with preemptions", func(f *Frame) {
			f.Sources[0].KVUsage = fptr(0.95)
			p0, p1 := 10.0, 14.0
			f.Targets[0].Gauges.Series = []report.ServerPoint{{At: bt0.Add(-5 * time.Second), PreemptionsTotal: &p0}, {At: bt0, PreemptionsTotal: &p1}}
		}, "server KV-bound", []string{"95% KV", "4 preemptions"}},
		{"a full KV cache with nothing waiting is not KV-bound", func(f *Frame) { f.Sources[0].KVUsage = fptr(0.99) },
			"client-bound", []string{"KV 99%"}},
		{"no waiting gauge, TTFT far above ITL", func(f *Frame) {
			for i := range f.Sources {
				f.Sources[i].Waiting = nil
			}
			f.Metrics.TTFT.P50 = 300 * time.Millisecond
		}, "server queue- or prefill-bound", []string{"30× ITL", "no waiting gauge"}},
		{"no waiting gauge, TTFT near ITL", func(f *Frame) {
			for i := range f.Sources {
				f.Sources[i].Waiting = nil
			}
		}, "client-bound", []string{"all 4 clients", "no waiting gauge"}},
		{"nothing to go on", func(f *Frame) {
			for i := range f.Sources {
				f.Sources[i].Running, f.Sources[i].Waiting, f.Sources[i].KVUsage = nil, nil, nil
			}
			f.Metrics.TTFT, f.Metrics.ITL = metrics.Dist{}, metrics.Dist{}
		}, "unknown", []string{"remote: no step data", "no waiting gauge"}},
		{"one server down", func(f *Frame) {
			f.Sources[1].Up, f.Sources[1].Why, f.Sources[1].Waiting = false, "connect: connection refused", fptr(9)
		}, "client-bound", []string{"1 of 2 servers down"}},
		{"every server down", func(f *Frame) {
			for i := range f.Sources {
				f.Sources[i].Up, f.Sources[i].Why = false, "connect: connection refused"
			}
		}, "servers down", []string{"all 2 down: connect: connection refused"}},
		{"no workload", func(f *Frame) {
			f.Workload = ""
			for i := range f.Sources {
				f.Sources[i].Outstanding = 0
			}
		}, "idle", []string{"no workload"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := remoteFrame(2)
			c.prep(f)
			b := wantDiagnosis(t, f, c.kind, c.says)
			// Never an engine's reason: a client sees no step.
			for _, w := range []string{"batch-bound", "token-budget", "sampler", "launch", "roofline", "compute-bound", "engine-bound", "batch", "sampling"} {
				if strings.Contains(b.Kind+" "+b.Why, w) {
					t.Errorf("%+v: an engine's reason (%q)", b, w)
				}
			}
		})
	}
}

// Against real servers the bottleneck comes from their gauges: one that
// runs a single sequence at a time with six clients queues the rest; one
// with room for every client leaves them all waiting on responses.
func TestDiagnoseRemoteOnRealServers(t *testing.T) {
	for _, c := range []struct {
		name    string
		maxSeqs int
		clients int
		kind    string
		says    string
	}{
		{"queue-bound", 1, 6, "server queue-bound", "waiting"},
		{"client-bound", 64, 2, "client-bound", "all 2 clients waiting on responses, nothing waiting at the servers"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := engine.DefaultConfig()
			cfg.MaxNumSeqs, cfg.MaxNumBatchedTokens = c.maxSeqs, 512
			s := openRemote(t, openai.Completions, servertest.Start(t, cfg).URL)
			w, _ := workloads.Lookup("bench")
			if err := s.Start(w.WithCount(64).WithArrival(workloads.Arrival{Kind: "closed", N: c.clients})); err != nil {
				t.Fatal(err)
			}
			var last Bottleneck
			waitFor(t, c.kind, func() bool {
				last = Diagnose(s.Frame())
				return last.Kind == c.kind && strings.Contains(last.Why, c.says)
			})
			t.Logf("%s: %s → %s", last.Kind, last.Why, last.Try)
			s.StopLoad()
		})
	}
}
