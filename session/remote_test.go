package session

import (
	"context"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"benchtop/engine"
	"benchtop/openai"
	"benchtop/server/servertest"
	"benchtop/servermetrics"
	"benchtop/workloads"
)

// serve is `benchtop serve` over a tiny CPU engine on loopback, at most
// 64 sequences a step.
func serve(t *testing.T) *servertest.Server {
	t.Helper()
	cfg := engine.DefaultConfig()
	cfg.MaxNumSeqs, cfg.MaxNumBatchedTokens = 64, 512
	return servertest.Start(t, cfg)
}

func openRemote(t *testing.T, api openai.API, urls ...string) *Session {
	t.Helper()
	// A scrape may take as long as its interval: a second, for a loaded
	// machine's server to answer.
	s, err := Open(Options{Model: "tiny", Engine: engine.DefaultConfig(), Remote: RemoteOptions{URLs: urls, API: api,
		MetricsInterval: time.Second, RetryEvery: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func scrape(t *testing.T, url string) *servermetrics.Sample {
	t.Helper()
	smp, err := servermetrics.Fetch(context.Background(), servermetrics.Options{URL: url, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return smp
}

// A run against `benchtop serve` agrees with the server's own /metrics:
// the same requests and tokens, and TTFT and E2E that exceed the server's
// by the client's overhead only.
func TestRemoteRunAgreesWithTheServer(t *testing.T) {
	srv := serve(t)
	for _, api := range []openai.API{openai.Completions, openai.Chat} {
		t.Run(api.String(), func(t *testing.T) {
			s := openRemote(t, api, srv.URL)
			if !s.Remote() || s.Model() != nil || s.Device().Backend != "remote" {
				t.Fatalf("remote %v, device %+v", s.Remote(), s.Device())
			}
			if err := s.Exec(context.Background(), func(*engine.Engine) {}); err != ErrNoEngine {
				t.Fatalf("exec: %v", err)
			}
			before := scrape(t, srv.URL)
			w, _ := workloads.Lookup("bench")
			run, err := s.Run(context.Background(), w.WithCount(8), 1)
			if err != nil {
				t.Fatal(err)
			}
			after := scrape(t, srv.URL)
			delta := func(m servermetrics.Measure) float64 { return after.Get(m).Value - before.Get(m).Value }
			sm := run.Summary
			if sm.Requests != 8 || sm.OutputTokens != 8*50 || run.Failed != 0 {
				t.Fatalf("summary %+v", sm)
			}
			if g, n := delta(servermetrics.GenerationTokens), delta(servermetrics.FinishedRequests); g != float64(sm.OutputTokens) || n != 8 {
				t.Fatalf("server: %g generation tokens, %g finished; client: %d tokens", g, n, sm.OutputTokens)
			}
			if api == openai.Completions {
				if p := delta(servermetrics.PromptTokens); p != float64(sm.PromptTokens) {
					t.Fatalf("server %g prompt tokens, client %d", p, sm.PromptTokens)
				}
			}
			serverMean := func(h servermetrics.Hist) (time.Duration, float64) {
				win := after.Hist(h).Sub(*before.Hist(h))
				return time.Duration(win.Sum / win.Count * 1e9), win.Count
			}
			// The client's overhead (HTTP, JSON, the server's handler
			// waiting for the CPU while the engine steps the requests that
			// reached it first) is CPU time like the requests' own, so it
			// grows with the machine's load as they do: it is bounded by
			// 250 ms (stalls) plus a quarter of a request's time on the
			// server, not by a fixed time. Requests queued at the client (a
			// connection limit, an early arrival stamp, a late end stamp)
			// add whole requests' time and fail it; a client mean below the
			// server's (TTFT stamped before the first content) fails it too.
			serverE2E, _ := serverMean(servermetrics.E2E)
			limit := 250*time.Millisecond + serverE2E/4
			for _, c := range []struct {
				name   string
				h      servermetrics.Hist
				client time.Duration
			}{{"TTFT", servermetrics.TTFT, sm.TTFT.Mean}, {"E2E", servermetrics.E2E, sm.E2E.Mean}} {
				mean, n := serverMean(c.h)
				overhead := c.client - mean
				t.Logf("%s %s: client mean %s, server mean %s, client overhead %s (limit %s)", api, c.name, c.client, mean, overhead, limit)
				if n != 8 || overhead < -time.Millisecond || overhead > limit {
					t.Errorf("%s: the client's mean %s against the server's %s (%g observations; overhead limit %s)", c.name, c.client, mean, n, limit)
				}
			}
			if sm.ITL.Count == 0 {
				t.Fatalf("no ITL: %+v", sm)
			}
			// The live window shows closed buckets (250 ms): a run this short
			// reaches it once its bucket closes.
			waitFor(t, "tokens per chunk and chunk gaps in the live window", func() bool {
				live := s.Frame().Metrics
				return live != nil && live.TokensPerChunk.Count > 0 && live.ChunkGap.Count > 0
			})
			waitFor(t, "a scrape in the frame", func() bool {
				f := s.Frame()
				return len(f.Targets) == 1 && f.Targets[0].Gauges.Latest != nil && len(f.Sources) == 1 && f.Sources[0].Running != nil &&
					f.Sources[0].Finished >= 8
			})
			f := s.Frame()
			tg, row := f.Targets[0], f.Sources[0]
			if tg.Model != "tiny" || tg.Listed[0] != "tiny" || tg.Answered != "tiny" || !tg.ContinuousUsage || tg.API != api.String() {
				t.Fatalf("target %+v", tg)
			}
			if !row.Up || row.Kind != "server" || row.GaugeSources["running"] != "vllm:num_requests_running" ||
				row.GaugeSources["kv_usage"] != "vllm:kv_cache_usage_perc" || row.Finished < 8 {
				t.Fatalf("row %+v", row)
			}
			if c := f.Caps; c.MaxNumSeqs || c.Reconfigure || c.Pause {
				t.Fatalf("a server takes no settings: %+v", c)
			}
			if err := s.SetMaxNumSeqs(4); err == nil {
				t.Fatal("max_num_seqs on a server")
			}
			if d := s.Describe(); !strings.Contains(d, "tiny at "+srv.URL) {
				t.Fatalf("describe %q", d)
			}
		})
	}
}

// A fleet of two servers with one killed mid-run: the run goes on, the
// dead one shows down with why, and its failed requests are counted by
// kind; the client's finished requests are the live server's.
func TestRemoteFleetSurvivesAKill(t *testing.T) {
	a, b := serve(t), serve(t)
	s := openRemote(t, openai.Completions, a.URL, b.URL)
	w, _ := workloads.Lookup("bench")
	w = w.WithCount(8).WithArrival(workloads.Arrival{Kind: "closed", N: 4})
	if err := s.Start(w); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both servers to serve", func() bool {
		f := s.Frame()
		return len(f.Sources) == 2 && f.Sources[0].Finished > 0 && f.Sources[1].Finished > 0
	})
	b.Kill()
	waitFor(t, "the killed server to show down", func() bool {
		f := s.Frame()
		return !f.Sources[1].Up
	})
	f := s.Frame()
	fin := f.Sources[0].Finished
	waitFor(t, "the run to go on", func() bool { return s.Frame().Sources[0].Finished > fin+8 })
	s.StopLoad()
	f = s.Frame()
	dead := f.Sources[1]
	failed := 0
	for _, n := range dead.FailedByKind {
		failed += n
	}
	t.Logf("down: %s; failed by kind %v; the live one finished %d", dead.Why, dead.FailedByKind, f.Sources[0].Finished)
	if dead.Up || dead.Why == "" || failed == 0 || !f.Sources[0].Up {
		t.Fatalf("rows %+v", f.Sources)
	}
	if f.Metrics.Failed == 0 {
		t.Fatalf("the collector counted no failed request")
	}
	if math.IsNaN(f.Imbalance) || f.Imbalance < 0 {
		t.Fatalf("imbalance %g", f.Imbalance)
	}
}

// Against a server that is not there at all: a clear error at open.
func TestRemoteNothingAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	_, err = Open(Options{Model: "tiny", Engine: engine.DefaultConfig(), Remote: RemoteOptions{URLs: []string{url}}})
	if err == nil || !strings.Contains(err.Error(), "no target answered") || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("%v", err)
	}
	if _, err := Open(Options{Model: "tiny", Engine: engine.DefaultConfig(), Remote: RemoteOptions{URLs: []string{"ftp://x"}}}); err == nil {
		t.Fatal("ftp")
	}
}
