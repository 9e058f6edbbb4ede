package server

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"benchtop/openai"
	"benchtop/servermetrics"
)

// benchtop's client drives benchtop serve; the server's own counters, read
// back through benchtop's scraper, agree with what the client measured.
func TestMetricsRoundTrip(t *testing.T) {
	r := newRig(t, Options{})
	scraper, err := servermetrics.NewScraper(servermetrics.Options{URL: r.http.URL})
	if err != nil {
		t.Fatal(err)
	}
	before, err := scraper.Scrape(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if before.Server != servermetrics.VLLM || len(before.Models) != 1 || before.Models[0] != "tiny" {
		t.Fatalf("first scrape: server %q models %v", before.Server, before.Models)
	}
	for _, m := range []servermetrics.Measure{servermetrics.Running, servermetrics.Waiting, servermetrics.Preemptions,
		servermetrics.PromptTokens, servermetrics.GenerationTokens, servermetrics.FinishedRequests} {
		if v := before.Get(m); !v.Exposed || v.Value != 0 {
			t.Fatalf("%s before any request: %+v", m, v)
		}
	}
	for _, m := range []servermetrics.Measure{servermetrics.PrefixCacheHits, servermetrics.PrefixCacheQueries} {
		if before.Get(m).Exposed {
			t.Fatalf("%s is exposed: benchtop's engine has no prefix cache", m)
		}
	}

	const n = 8
	comp := r.client(t, openai.Completions, func(o *openai.Options) { o.ReturnTokenIDs = true })
	chat := r.client(t, openai.Chat, func(o *openai.Options) { o.ContinuousUsage = true })
	results := make([]openai.Result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				results[i] = comp.Stream(context.Background(), openai.Request{PromptTokens: []int32{int32(100 + i), 200, 300}, MaxTokens: 6 + i, IgnoreEOS: true}, nil)
			} else {
				results[i] = chat.Stream(context.Background(), openai.Request{Prompt: "Say something", MaxTokens: 6 + i, IgnoreEOS: true}, nil)
			}
		}()
	}
	wg.Wait()
	prompt, output := 0, 0
	var clientTTFT time.Duration
	for i, res := range results {
		if res.Err != nil {
			t.Fatalf("request %d: %v", i, res.Err)
		}
		if res.OutputTokens != 6+i || res.CountedTokens != res.OutputTokens {
			t.Fatalf("request %d: %d tokens (%d counted), want %d", i, res.OutputTokens, res.CountedTokens, 6+i)
		}
		prompt += res.PromptTokens
		output += res.OutputTokens
		clientTTFT += res.TTFT()
	}
	r.idle(t)
	after, err := scraper.Scrape(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	check := func(m servermetrics.Measure, want float64) {
		t.Helper()
		if v := after.Get(m); !v.Exposed || v.Value != want {
			t.Errorf("%s: server says %+v, the client measured %g", m, v, want)
		}
	}
	check(servermetrics.GenerationTokens, float64(output))
	check(servermetrics.PromptTokens, float64(prompt))
	check(servermetrics.FinishedRequests, n)
	check(servermetrics.Running, 0)
	check(servermetrics.Waiting, 0)
	check(servermetrics.KVUsage, 0)
	if v := after.Get(servermetrics.GenerationTokens); !v.HasRate || v.Rate <= 0 {
		t.Errorf("generation rate %+v", v)
	}
	ttft := after.Hist(servermetrics.TTFT)
	if ttft.Count != n || after.Window[servermetrics.TTFT].Count != n {
		t.Fatalf("server TTFT count %g (window %g), want %d", ttft.Count, after.Window[servermetrics.TTFT].Count, n)
	}
	// The client's TTFT includes the server's (arrival at the engine to the
	// first token) plus connecting, parsing and the network.
	if serverTTFT := time.Duration(ttft.Sum * float64(time.Second)); clientTTFT < serverTTFT {
		t.Errorf("client TTFT sum %v below the server's %v", clientTTFT, serverTTFT)
	}
	if itl := after.Hist(servermetrics.ITL); itl.Count != float64(output-n) {
		t.Errorf("server ITL samples %g, want %d", itl.Count, output-n)
	}
	for _, h := range []servermetrics.Hist{servermetrics.E2E, servermetrics.Queue, servermetrics.TPOT} {
		if x := after.Hist(h); x.Count != n {
			t.Errorf("%s count %g", h, x.Count)
		}
	}
	var text strings.Builder
	if err := after.WriteText(&text); err != nil || !strings.Contains(text.String(), "vllm:generation_tokens_total") {
		t.Fatalf("text %v:\n%s", err, text.String())
	}
}
