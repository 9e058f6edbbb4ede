package servermetrics

// Server names the kind of server whose metric names a scrape is read with.
type Server string

const (
	Unknown  Server = ""
	VLLM     Server = "vllm"
	SGLang   Server = "sglang"
	TGI      Server = "tgi"
	LlamaCpp Server = "llamacpp"
)

// Servers lists the servers benchtop maps, in detection order.
func Servers() []Server { return []Server{VLLM, SGLang, TGI, LlamaCpp} }

// ParseServer reads a server name; "" and "auto" are Unknown (detect).
func ParseServer(s string) (Server, bool) {
	switch s {
	case "", "auto":
		return Unknown, true
	case "vllm", "sglang", "tgi", "llamacpp":
		return Server(s), true
	case "llama.cpp":
		return LlamaCpp, true
	}
	return Unknown, false
}

// source says where one measure comes from on one server: the first of
// names that the scrape has (older names after newer ones).
type source struct {
	names []string
	// fromSum reads a histogram's _sum as a counter (TGI counts tokens in
	// histograms only).
	fromSum bool
}

// mapping is one server's names for benchtop's measures.
type mapping struct {
	server Server
	prefix string
	// replica is the label whose values are separate engines, summed (or
	// averaged, for ratios) and listed: vLLM's data-parallel "engine",
	// SGLang's "dp_rank".
	replica string
	// shards are labels whose series repeat one engine's numbers (tensor
	// and pipeline ranks): only rank "0" (or no such label) is read.
	shards []string
	gauges [numMeasures]source
	hists  [numHists][]string
}

// The mappings. Each name was read in the server's own source:
//
// vLLM v1: vllm/v1/metrics/loggers.py, PrometheusStatLogger (labels
// model_name and engine; counters are declared without "_total", which
// prometheus_client appends on exposition). kv_cache_usage_perc replaced
// gpu_cache_usage_perc, prefix_cache_{queries,hits} replaced
// gpu_prefix_cache_*, and inter_token_latency_seconds replaced
// time_per_output_token_seconds (0.11), so the older names are read after.
//
// SGLang: python/sglang/srt/metrics/collector.py (newer releases:
// srt/observability/metrics_collector.py), SchedulerMetricsCollector and
// TokenizerMetricsCollector (labels model_name, tp_rank, pp_rank, dp_rank
// among others). token_usage is the fraction of the KV token pool in use;
// SGLang calls preemption "retraction"; cached_tokens_total counts prompt
// tokens served from the radix (prefix) cache, so its queries are the
// prompt tokens.
//
// TGI: router/src/server.rs and backends/v3/src/{backend,queue}.rs (the
// metrics crate: counters without "_total"); docs/source/reference/metrics.md
// lists them. It exposes no KV usage, preemptions, TTFT or prefix cache;
// its token counts exist only as the _sum of per-request histograms
// (tgi_request_input_length at validation, tgi_request_generated_tokens at
// the end of a request), and tgi_request_mean_time_per_token_duration is
// a per-request mean: TPOT, not ITL.
//
// llama.cpp: tools/server/server-context.cpp, the /metrics handler (with
// --metrics): counters and gauges only, no histograms; kv_cache_usage_ratio
// exists in older builds only.
var mappings = []mapping{
	{
		server: VLLM, prefix: "vllm:", replica: "engine",
		gauges: [numMeasures]source{
			Running:            {names: []string{"vllm:num_requests_running"}},
			Waiting:            {names: []string{"vllm:num_requests_waiting"}},
			KVUsage:            {names: []string{"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"}},
			Preemptions:        {names: []string{"vllm:num_preemptions_total"}},
			PromptTokens:       {names: []string{"vllm:prompt_tokens_total"}},
			GenerationTokens:   {names: []string{"vllm:generation_tokens_total"}},
			PrefixCacheHits:    {names: []string{"vllm:prefix_cache_hits_total", "vllm:gpu_prefix_cache_hits_total"}},
			PrefixCacheQueries: {names: []string{"vllm:prefix_cache_queries_total", "vllm:gpu_prefix_cache_queries_total"}},
			FinishedRequests:   {names: []string{"vllm:request_success_total"}},
		},
		hists: [numHists][]string{
			TTFT:  {"vllm:time_to_first_token_seconds"},
			ITL:   {"vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"},
			TPOT:  {"vllm:request_time_per_output_token_seconds"},
			E2E:   {"vllm:e2e_request_latency_seconds"},
			Queue: {"vllm:request_queue_time_seconds"},
		},
	},
	{
		server: SGLang, prefix: "sglang:", replica: "dp_rank", shards: []string{"tp_rank", "pp_rank", "moe_ep_rank"},
		gauges: [numMeasures]source{
			Running:            {names: []string{"sglang:num_running_reqs"}},
			Waiting:            {names: []string{"sglang:num_queue_reqs"}},
			KVUsage:            {names: []string{"sglang:token_usage"}},
			Preemptions:        {names: []string{"sglang:num_retracted_requests_total"}},
			PromptTokens:       {names: []string{"sglang:prompt_tokens_total"}},
			GenerationTokens:   {names: []string{"sglang:generation_tokens_total"}},
			PrefixCacheHits:    {names: []string{"sglang:cached_tokens_total"}},
			PrefixCacheQueries: {names: []string{"sglang:prompt_tokens_total"}},
			FinishedRequests:   {names: []string{"sglang:num_requests_total"}},
		},
		hists: [numHists][]string{
			TTFT: {"sglang:time_to_first_token_seconds"},
			ITL:  {"sglang:inter_token_latency_seconds"},
			TPOT: {"sglang:time_per_output_token_seconds"},
			E2E:  {"sglang:e2e_request_latency_seconds"},
		},
	},
	{
		server: TGI, prefix: "tgi_",
		gauges: [numMeasures]source{
			Running:          {names: []string{"tgi_batch_current_size"}},
			Waiting:          {names: []string{"tgi_queue_size"}},
			PromptTokens:     {names: []string{"tgi_request_input_length"}, fromSum: true},
			GenerationTokens: {names: []string{"tgi_request_generated_tokens"}, fromSum: true},
			FinishedRequests: {names: []string{"tgi_request_success"}},
		},
		hists: [numHists][]string{
			TPOT:  {"tgi_request_mean_time_per_token_duration"},
			E2E:   {"tgi_request_duration"},
			Queue: {"tgi_request_queue_duration"},
		},
	},
	{
		server: LlamaCpp, prefix: "llamacpp:",
		gauges: [numMeasures]source{
			Running:          {names: []string{"llamacpp:requests_processing"}},
			Waiting:          {names: []string{"llamacpp:requests_deferred"}},
			KVUsage:          {names: []string{"llamacpp:kv_cache_usage_ratio"}},
			PromptTokens:     {names: []string{"llamacpp:prompt_tokens_total"}},
			GenerationTokens: {names: []string{"llamacpp:tokens_predicted_total"}},
		},
	},
}

func mappingFor(s Server) *mapping {
	for i := range mappings {
		if mappings[i].server == s {
			return &mappings[i]
		}
	}
	return nil
}
