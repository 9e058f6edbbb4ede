package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"benchtop/engine"
	"benchtop/openai"
	"benchtop/servermetrics"
)

// Two replicas behind one server: requests go to both, and /metrics lists
// each engine's series with vLLM's engine label, summed by the mapper.
func TestReplicasExposeEngineLabels(t *testing.T) {
	var engs []*engine.Engine
	for range 2 {
		e, _ := startEngine(t)
		engs = append(engs, e)
	}
	srv, err := NewReplicas(context.Background(), engs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c, err := openai.New(openai.Options{BaseURL: hs.URL, Model: "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := c.Stream(context.Background(), openai.Request{PromptTokens: []int32{5, 6, 7}, MaxTokens: 20, IgnoreEOS: true}, nil)
			if res.Err != nil || res.OutputTokens != 20 {
				t.Errorf("%v %d", res.Err, res.OutputTokens)
			}
		}()
	}
	wg.Wait()
	var smp *servermetrics.Sample
	deadline := time.Now().Add(30 * time.Second) // bounds a hang only
	for {
		smp, err = servermetrics.Fetch(context.Background(), servermetrics.Options{URL: hs.URL, Timeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if smp.Get(servermetrics.FinishedRequests).Value == 8 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if smp.Server != servermetrics.VLLM || len(smp.Engines) != 2 || smp.Engines[0].Label != "0" || smp.Engines[1].Label != "1" {
		t.Fatalf("server %q, engines %+v", smp.Server, smp.Engines)
	}
	if g := smp.Get(servermetrics.GenerationTokens).Value; g != 160 {
		t.Fatalf("generation tokens %g, want 160 summed over the engines", g)
	}
	if n := smp.Get(servermetrics.FinishedRequests).Value; n != 8 {
		t.Fatalf("finished %g", n)
	}
	h := smp.Hist(servermetrics.TTFT)
	if !h.Exposed || h.Count != 8 {
		t.Fatalf("TTFT histogram %+v", h)
	}
	// Both engines served: each one's generation counter grew.
	resp, err := http.Get(hs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	fams, err := servermetrics.Parse(resp.Body, 0)
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]float64{}
	for _, mt := range fams["vllm:generation_tokens_total"].GetMetric() {
		for _, l := range mt.GetLabel() {
			if l.GetName() == "engine" {
				per[l.GetValue()] = mt.GetCounter().GetValue()
			}
		}
	}
	if per["0"] <= 0 || per["1"] <= 0 || per["0"]+per["1"] != 160 {
		t.Fatalf("generation tokens per engine %v", per)
	}
}
