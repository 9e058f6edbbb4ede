// Package servermetrics scrapes an inference server's Prometheus /metrics
// (text format, parsed with github.com/prometheus/common/expfmt) and maps
// the server's own names onto one set of measures: running and waiting
// requests, KV-cache usage, preemptions, prompt and generation tokens,
// prefix-cache hits and queries, finished requests, and the server-side
// TTFT, ITL, TPOT, E2E and queue-time histograms where the server has them.
//
// Servers: vLLM v1 ("vllm:" names, model_name and engine labels: the
// data-parallel engines are summed, KV usage averaged, and each listed),
// SGLang ("sglang:"; tensor- and pipeline-rank copies are read once, dp_rank
// replicas summed), TGI ("tgi_", counters without "_total", token counts
// from histogram sums) and llama.cpp ("llamacpp:"). servers.go cites where
// each name was read. The server is detected from the names' prefix unless
// given.
//
// A measure the server does not expose is a distinct state (Value.Exposed
// false, shown as "not exposed by this server"), never zero; every value
// records the metric it came from. Counter rates and histogram windows come
// from consecutive scrapes (Sample.Since; a Scraper does it). Quantiles are
// estimated from the server's buckets by linear interpolation, as
// Prometheus' histogram_quantile does, so they are only as fine as those
// buckets: reports say "estimated from buckets".
//
// A body without a final newline parses (expfmt alone rejects it); bodies
// are size-limited; a body that does not parse is an error for that scrape,
// not a sample of zeros.
package servermetrics
