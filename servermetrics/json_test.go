package servermetrics

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// A sample written as JSON reads back: every measure with its source and
// state, histograms with their quantiles, the engines.
func TestSampleJSONRoundTrip(t *testing.T) {
	text := `# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 3
vllm:num_requests_running{engine="1",model_name="m"} 4
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="m"} NaN
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{engine="0",model_name="m"} 120
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",model_name="m",le="0.1"} 2
vllm:time_to_first_token_seconds_bucket{engine="0",model_name="m",le="1"} 4
vllm:time_to_first_token_seconds_bucket{engine="0",model_name="m",le="+Inf"} 4
vllm:time_to_first_token_seconds_sum{engine="0",model_name="m"} 1.5
vllm:time_to_first_token_seconds_count{engine="0",model_name="m"} 4
`
	s := mapText(t, Unknown, text, time.Unix(100, 0).UTC())
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Sample
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Server != VLLM || !back.At.Equal(s.At) || len(back.Engines) != 2 || back.Engines[1].Running.Value != 4 {
		t.Fatalf("back %+v", back)
	}
	for _, m := range Measures() {
		a, z := s.Values[m], back.Values[m]
		if a.Exposed != z.Exposed || a.Source != z.Source || (a.Exposed && !math.IsNaN(a.Value) && a.Value != z.Value) {
			t.Errorf("%s: %+v, read back %+v", m.Key(), a, z)
		}
	}
	if v := back.Get(KVUsage); !v.Exposed || !math.IsNaN(v.Value) {
		t.Errorf("NaN KV usage read back as %+v", v)
	}
	if v := back.Get(Waiting); v.Exposed || v.String() != NotExposed {
		t.Errorf("a measure not exposed read back as %+v", v)
	}
	h, h0 := back.Hist(TTFT), s.Hist(TTFT)
	if !h.Exposed || h.Count != 4 || h.Quantile(0.5) != h0.Quantile(0.5) || h.Source != "vllm:time_to_first_token_seconds" {
		t.Errorf("TTFT read back %+v (p50 %g, want %g)", h, h.Quantile(0.5), h0.Quantile(0.5))
	}
	if back.Hist(E2E).Exposed {
		t.Error("E2E was not exposed")
	}
	if err := json.Unmarshal([]byte(`{"values":[1]}`), &back); err == nil {
		t.Error("garbage read")
	}
}
