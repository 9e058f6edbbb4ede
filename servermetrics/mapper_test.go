package servermetrics

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// expfmt alone rejects a body without its final newline; Parse does not.
func TestParseWithoutFinalNewline(t *testing.T) {
	b, err := os.ReadFile("testdata/vllm.txt")
	if err != nil {
		t.Fatal(err)
	}
	if b[len(b)-1] == '\n' {
		t.Fatal("testdata/vllm.txt must end without a newline")
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	if _, err := p.TextToMetricFamilies(bytes.NewReader(b)); err == nil {
		t.Log("expfmt now parses a body without a final newline; Parse's fix is harmless")
	} else if !strings.Contains(err.Error(), "unexpected end of input stream") {
		t.Fatalf("expfmt: %v", err)
	}
	if _, err := Parse(bytes.NewReader(b), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(strings.NewReader("vllm:num_requests_running 3"), 0); err != nil {
		t.Fatal(err)
	}
}

func TestMapVLLMDataParallel(t *testing.T) {
	s := mapFile(t, "vllm.txt", VLLM)
	want(t, s, Running, 8, "vllm:num_requests_running")
	want(t, s, Waiting, 1, "vllm:num_requests_waiting")
	want(t, s, KVUsage, 0.5, "vllm:kv_cache_usage_perc") // the engines' mean
	want(t, s, Preemptions, 3, "vllm:num_preemptions_total")
	want(t, s, PromptTokens, 2000, "vllm:prompt_tokens_total")
	want(t, s, GenerationTokens, 9000, "vllm:generation_tokens_total")
	want(t, s, PrefixCacheHits, 300, "vllm:prefix_cache_hits_total")
	want(t, s, PrefixCacheQueries, 1600, "vllm:prefix_cache_queries_total")
	want(t, s, FinishedRequests, 62, "vllm:request_success_total")
	if len(s.Models) != 1 || s.Models[0] != "meta-llama/Llama-3.1-8B-Instruct" {
		t.Errorf("models %q", s.Models)
	}
	if len(s.Engines) != 2 || s.Engines[0].Label != "0" || s.Engines[0].Running.Value != 3 || s.Engines[1].Running.Value != 5 ||
		s.Engines[0].KVUsage.Value != 0.25 || s.Engines[1].Waiting.Value != 0 || !s.Engines[1].Waiting.Exposed {
		t.Errorf("engines %+v", s.Engines)
	}
	ttft := s.Hist(TTFT)
	if !ttft.Exposed || ttft.Count != 20 || !near(ttft.Sum, 1.2) || ttft.Source != "vllm:time_to_first_token_seconds" {
		t.Fatalf("ttft %+v", ttft)
	}
	wantQuantile(t, ttft, 0.25, 0.05) // 10 in (0.04, 0.06] on engine 0, 10 in (0.06, 0.08] on engine 1
	wantQuantile(t, ttft, 0.5, 0.06)
	wantQuantile(t, ttft, 0.75, 0.07)
	if itl := s.Hist(ITL); itl.Source != "vllm:inter_token_latency_seconds" || itl.Count != 2000 {
		t.Errorf("itl %+v", itl)
	}
	wantQuantile(t, s.Hist(ITL), 0.45, 0.0175)
	wantQuantile(t, s.Hist(ITL), 0.9, 0.025)
	wantQuantile(t, s.Hist(E2E), 0.5, 0.9)
	wantHidden(t, s, TPOT, Queue)
}

// vLLM before 0.11 had other names for KV usage, prefix cache and ITL.
func TestMapVLLMOlderNames(t *testing.T) {
	s := mapText(t, VLLM, `# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{engine="0",model_name="m"} 0.3
# TYPE vllm:gpu_prefix_cache_hits_total counter
vllm:gpu_prefix_cache_hits_total{engine="0",model_name="m"} 7
# TYPE vllm:time_per_output_token_seconds histogram
vllm:time_per_output_token_seconds_bucket{engine="0",le="0.01",model_name="m"} 4
vllm:time_per_output_token_seconds_bucket{engine="0",le="+Inf",model_name="m"} 4
vllm:time_per_output_token_seconds_sum{engine="0",model_name="m"} 0.02
vllm:time_per_output_token_seconds_count{engine="0",model_name="m"} 4
`, time.Now())
	want(t, s, KVUsage, 0.3, "vllm:gpu_cache_usage_perc")
	want(t, s, PrefixCacheHits, 7, "vllm:gpu_prefix_cache_hits_total")
	want(t, s, Running, -1, "")
	if s.Hist(ITL).Source != "vllm:time_per_output_token_seconds" {
		t.Errorf("itl %+v", s.Hist(ITL))
	}
	wantQuantile(t, s.Hist(ITL), 0.5, 0.005)
}

func TestMapSGLang(t *testing.T) {
	s := mapFile(t, "sglang.txt", SGLang)
	want(t, s, Running, 7, "sglang:num_running_reqs") // tp_rank 1 repeats rank 0: read once
	want(t, s, Waiting, 2, "sglang:num_queue_reqs")
	want(t, s, KVUsage, 0.42, "sglang:token_usage")
	want(t, s, Preemptions, 3, "sglang:num_retracted_requests_total")
	want(t, s, PromptTokens, 8.128902e6, "sglang:prompt_tokens_total")
	want(t, s, GenerationTokens, 7.557572e6, "sglang:generation_tokens_total")
	want(t, s, PrefixCacheHits, 2e6, "sglang:cached_tokens_total")
	want(t, s, PrefixCacheQueries, 8.128902e6, "sglang:prompt_tokens_total")
	want(t, s, FinishedRequests, 4200, "sglang:num_requests_total")
	wantQuantile(t, s.Hist(TTFT), 0.5, 0.1)
	wantQuantile(t, s.Hist(TTFT), 0.75, 0.15)
	wantQuantile(t, s.Hist(ITL), 0.5, 0.009)
	wantQuantile(t, s.Hist(E2E), 0.99, 1.99)
	wantHidden(t, s, TPOT, Queue)
	if s.Engines != nil {
		t.Errorf("engines %v", s.Engines)
	}
}

func TestMapSGLangDataParallel(t *testing.T) {
	s := mapText(t, Unknown, `# TYPE sglang:num_running_reqs gauge
sglang:num_running_reqs{dp_rank="0",model_name="m",tp_rank="0"} 4
sglang:num_running_reqs{dp_rank="0",model_name="m",tp_rank="1"} 4
sglang:num_running_reqs{dp_rank="1",model_name="m",tp_rank="0"} 6
# TYPE sglang:token_usage gauge
sglang:token_usage{dp_rank="0",model_name="m",tp_rank="0"} 0.2
sglang:token_usage{dp_rank="1",model_name="m",tp_rank="0"} 0.4
`, time.Now())
	want(t, s, Running, 10, "sglang:num_running_reqs")
	want(t, s, KVUsage, 0.3, "sglang:token_usage")
	if len(s.Engines) != 2 || s.Engines[1].Running.Value != 6 || s.Engines[0].Waiting.Exposed {
		t.Errorf("engines %+v", s.Engines)
	}
}

func TestMapTGI(t *testing.T) {
	s := mapFile(t, "tgi.txt", TGI)
	want(t, s, Running, 4, "tgi_batch_current_size")
	want(t, s, Waiting, 3, "tgi_queue_size")
	want(t, s, KVUsage, -1, "")
	want(t, s, Preemptions, -1, "")
	want(t, s, PromptTokens, 700, "tgi_request_input_length_sum")
	want(t, s, GenerationTokens, 1280, "tgi_request_generated_tokens_sum")
	want(t, s, PrefixCacheHits, -1, "")
	want(t, s, FinishedRequests, 10, "tgi_request_success")
	wantHidden(t, s, TTFT, ITL)
	wantQuantile(t, s.Hist(TPOT), 0.5, 0.0175)
	wantQuantile(t, s.Hist(E2E), 0.5, 0.75)
	wantQuantile(t, s.Hist(Queue), 0.5, 0.00175)
	if s.Models != nil || s.Engines != nil {
		t.Errorf("models %v engines %v", s.Models, s.Engines)
	}
}

func TestMapLlamaCpp(t *testing.T) {
	s := mapFile(t, "llamacpp.txt", LlamaCpp)
	want(t, s, Running, 2, "llamacpp:requests_processing")
	want(t, s, Waiting, 1, "llamacpp:requests_deferred")
	want(t, s, KVUsage, -1, "")
	want(t, s, PromptTokens, 1523, "llamacpp:prompt_tokens_total")
	want(t, s, GenerationTokens, 4096, "llamacpp:tokens_predicted_total")
	want(t, s, Preemptions, -1, "")
	want(t, s, FinishedRequests, -1, "")
	wantHidden(t, s, Hists()...)
	// Older builds exposed the KV usage.
	older := mapText(t, Unknown, "# TYPE llamacpp:kv_cache_usage_ratio gauge\nllamacpp:kv_cache_usage_ratio 0.125\n", time.Now())
	want(t, older, KVUsage, 0.125, "llamacpp:kv_cache_usage_ratio")
}

func TestMapMissingAndUnknown(t *testing.T) {
	s := mapText(t, Unknown, "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{engine=\"0\"} 0\n", time.Now())
	want(t, s, Running, 0, "vllm:num_requests_running") // an exposed zero is a zero
	for _, m := range Measures()[1:] {
		want(t, s, m, -1, "")
	}
	var out bytes.Buffer
	if err := s.WriteText(&out); err != nil || strings.Count(out.String(), NotExposed) != len(Measures())-1+len(Hists())+2 {
		t.Errorf("text:\n%s", out.String())
	}
	u := mapText(t, Unknown, "process_cpu_seconds_total 12\ngo_goroutines 40\n", time.Now())
	if u.Server != Unknown {
		t.Fatalf("server %q", u.Server)
	}
	for _, m := range Measures() {
		want(t, u, m, -1, "")
	}
}

func TestMapNaN(t *testing.T) {
	s := mapText(t, Unknown, `# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0"} NaN
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0"} NaN
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1"} NaN
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf"} NaN
vllm:time_to_first_token_seconds_sum{engine="0"} NaN
vllm:time_to_first_token_seconds_count{engine="0"} NaN
`, time.Now())
	if v := s.Get(KVUsage); !v.Exposed || !math.IsNaN(v.Value) || v.String() != "NaN" {
		t.Fatalf("kv %+v", v)
	}
	if q := s.Hist(TTFT).Quantile(0.5); !math.IsNaN(q) {
		t.Fatalf("quantile of NaN buckets: %g", q)
	}
	later := *s
	later.At = s.At.Add(time.Second)
	later.Since(s)
	if later.Get(PromptTokens).HasRate {
		t.Fatal("a NaN counter has a rate")
	}
	b, err := json.Marshal(&later)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"kv_cache_usage":{"exposed":true,"source":"vllm:kv_cache_usage_perc","value":null}`) {
		t.Fatalf("json %s", b)
	}
}

func TestParseGarbage(t *testing.T) {
	for _, in := range []string{
		"this is not an exposition",
		"vllm:num_requests_running{engine=0} 3\n",
		"# TYPE x gauge\nx 1\n# TYPE x counter\nx 2\n",
		"vllm:num_requests_running three\n",
		"\x00\xff\xfe",
	} {
		if _, err := Parse(strings.NewReader(in), 0); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
	if _, err := Parse(strings.NewReader(strings.Repeat("x 1\n", 100)), 100); err == nil {
		t.Error("over the size limit parsed")
	}
}

func TestRatesAndWindows(t *testing.T) {
	at := time.Now()
	text := func(tokens, obsFast, obsSlow int) string {
		return "# TYPE vllm:generation_tokens_total counter\n" +
			"vllm:generation_tokens_total{engine=\"0\"} " + itoa(tokens) + "\n" +
			"# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{engine=\"0\"} 4\n" +
			"# TYPE vllm:time_to_first_token_seconds histogram\n" +
			"vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"0.1\"} " + itoa(obsFast) + "\n" +
			"vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"1\"} " + itoa(obsFast+obsSlow) + "\n" +
			"vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"+Inf\"} " + itoa(obsFast+obsSlow) + "\n" +
			"vllm:time_to_first_token_seconds_sum{engine=\"0\"} 1\n" +
			"vllm:time_to_first_token_seconds_count{engine=\"0\"} " + itoa(obsFast+obsSlow) + "\n"
	}
	a := mapText(t, Unknown, text(1000, 100, 0), at)
	b := mapText(t, Unknown, text(1500, 100, 10), at.Add(500*time.Millisecond))
	b.Since(a)
	if v := b.Get(GenerationTokens); !v.HasRate || !near(v.Rate, 1000) {
		t.Fatalf("rate %+v", v)
	}
	if b.Get(Running).HasRate {
		t.Fatal("a gauge has a rate")
	}
	// Cumulative p50 is fast; the window holds only the 10 slow ones.
	if q := b.Hist(TTFT).Quantile(0.5); q > 0.1 {
		t.Fatalf("cumulative p50 %g", q)
	}
	if w := b.Window[TTFT]; w.Count != 10 || w.Quantile(0.5) < 0.1 {
		t.Fatalf("window %+v p50 %g", w, w.Quantile(0.5))
	}
	// A restart: the counter went down; its rate counts from zero.
	c := mapText(t, Unknown, text(200, 0, 0), at.Add(time.Second))
	c.Since(b)
	if v := c.Get(GenerationTokens); !near(v.Rate, 400) || c.Window[TTFT].Count != 0 {
		t.Fatalf("after restart: %+v window %+v", v, c.Window[TTFT])
	}
}

func TestQuantileEdges(t *testing.T) {
	inf := math.Inf(1)
	h := Histogram{Exposed: true, Buckets: []Bucket{{1, 0}, {2, 10}, {inf, 20}}, Count: 20}
	wantQuantile(t, &h, 0, 1) // the lowest non-empty bucket's lower bound
	wantQuantile(t, &h, 0.25, 1.5)
	wantQuantile(t, &h, 0.9, 2) // in +Inf: the highest finite bound
	for _, q := range []float64{-0.1, 1.1, math.NaN()} {
		if !math.IsNaN(h.Quantile(q)) {
			t.Errorf("q=%g answered", q)
		}
	}
	empty := Histogram{Exposed: true, Buckets: []Bucket{{1, 0}, {inf, 0}}}
	if !math.IsNaN(empty.Quantile(0.5)) || !math.IsNaN(empty.Mean()) {
		t.Error("an empty histogram has quantiles")
	}
	onlyInf := Histogram{Exposed: true, Buckets: []Bucket{{inf, 3}}, Count: 3}
	if !math.IsNaN(onlyInf.Quantile(0.5)) {
		t.Error("a histogram of +Inf alone has quantiles")
	}
	// Merging series with different bounds keeps the cumulative counts.
	var m Histogram
	m.add(Histogram{Buckets: []Bucket{{1, 2}, {inf, 4}}, Count: 4, Sum: 3})
	m.add(Histogram{Buckets: []Bucket{{0.5, 1}, {2, 3}, {inf, 3}}, Count: 3, Sum: 1})
	if got := m.Buckets; len(got) != 4 || got[0].Count != 1 || got[1].Count != 3 || got[2].Count != 5 || got[3].Count != 7 || m.Count != 7 {
		t.Fatalf("merged %+v", got)
	}
}

func TestSampleJSON(t *testing.T) {
	s := Map(Unknown, load(t, "vllm.txt"), time.Unix(1700000000, 0).UTC())
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	vals := back["values"].(map[string]any)
	if r := vals["running_requests"].(map[string]any); r["source"] != "vllm:num_requests_running" || r["value"] != 8.0 {
		t.Fatalf("running %v", r)
	}
	h := back["histograms"].(map[string]any)
	if tp := h["tpot"].(map[string]any); tp["exposed"] != false || len(tp) != 1 {
		t.Fatalf("tpot %v", tp)
	}
	if tt := h["ttft"].(map[string]any); tt["quantiles_estimated_from_buckets"] != true || tt["p50"] != 0.06 {
		t.Fatalf("ttft %v", tt)
	}
	if e := back["engines"].([]any); len(e) != 2 {
		t.Fatalf("engines %v", e)
	}
	empty, _ := json.Marshal(&Sample{})
	if !strings.Contains(string(empty), `"models":[]`) || !strings.Contains(string(empty), `"engines":[]`) {
		t.Fatalf("empty lists: %s", empty)
	}
}

func itoa(n int) string { return fmtFloat(float64(n)) }
