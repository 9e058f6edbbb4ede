package server

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"benchtop/engine"
)

// The /metrics exposition uses vLLM v1's names, types, labels (model_name,
// engine) and histogram buckets, read in vllm/v1/metrics/loggers.py
// (PrometheusStatLogger), so tools built for vLLM read benchtop serve. vLLM
// declares counters without "_total" and prometheus_client appends it;
// client_golang does not, so the names here carry it.

// Bucket bounds as vLLM sets them.
var (
	ttftBuckets = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
		7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0}
	itlBuckets = []float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
		10.0, 20.0, 40.0, 80.0}
	requestLatencyBuckets = []float64{0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0,
		50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0}
	iterationTokenBuckets = []float64{1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384}
)

// buckets125 is vLLM's build_1_2_5_buckets: 1, 2, 5, 10, 20, 50, ... up to max.
func buckets125(max int) []float64 {
	var out []float64
	for e := 1; ; e *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*e > max {
				return out
			}
			out = append(out, float64(m*e))
		}
	}
}

// finishLabel is vLLM's finished_reason label for a finish: "stop" (EOS or
// a stop token), "length" (max_tokens or the context), "abort".
func finishLabel(f engine.FinishReason) string {
	switch f {
	case engine.FinishEOS, engine.FinishStop:
		return "stop"
	case engine.FinishLength, engine.FinishMaxModelLen:
		return "length"
	}
	return "abort"
}

// reqState is what the metrics keep of a request until it finishes
// (engine goroutine only).
type reqState struct {
	arrival, scheduled, first, last time.Time
	outputs                         int
	running                         bool
}

// metrics is an engine.Observer that keeps vLLM's metrics. Its callbacks
// run on the engine goroutine and only touch client_golang's atomic
// metrics and a map that goroutine owns.
type metrics struct {
	reg                              *prometheus.Registry
	running, waiting, kvUsage        prometheus.Gauge
	preemptions, prompt, generation  prometheus.Counter
	success                          *prometheus.CounterVec
	ttft, itl, e2e, queue, tpot      prometheus.Histogram
	reqPrompt, reqGeneration, iterTk prometheus.Histogram

	reqs                 map[string]*reqState // engine goroutine only
	numRunning, numQueue int                  // engine goroutine only

	mu       sync.Mutex // guards kvUsed/kvTotal against the scrape's refresh
	kvUsed   int
	kvTotal  int
	kvReader func(ctx context.Context) (used, total int, err error)
}

// newMetrics registers one engine's series in reg, labelled with the model
// and the engine's index (vLLM's data-parallel engines share a name and
// differ in their engine label).
func newMetrics(reg *prometheus.Registry, modelName, engineLabel string, maxModelLen int) *metrics {
	labels := prometheus.Labels{"model_name": modelName, "engine": engineLabel}
	m := &metrics{reg: reg, reqs: map[string]*reqState{}}
	gauge := func(name, help string) prometheus.Gauge {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels})
		m.reg.MustRegister(g)
		return g
	}
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels})
		m.reg.MustRegister(c)
		return c
	}
	hist := func(name, help string, buckets []float64) prometheus.Histogram {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets, ConstLabels: labels})
		m.reg.MustRegister(h)
		return h
	}
	m.running = gauge("vllm:num_requests_running", "Number of requests in model execution batches.")
	m.waiting = gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.")
	m.kvUsage = gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.")
	m.preemptions = counter("vllm:num_preemptions_total", "Cumulative number of preemption from the engine.")
	m.prompt = counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.")
	m.generation = counter("vllm:generation_tokens_total", "Number of generation tokens processed.")
	m.success = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vllm:request_success_total",
		Help: "Count of successfully processed requests.", ConstLabels: labels}, []string{"finished_reason"})
	m.reg.MustRegister(m.success)
	for _, r := range []string{"stop", "length", "abort"} {
		m.success.WithLabelValues(r) // every reason is exposed from the start, as vLLM does
	}
	m.ttft = hist("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", ttftBuckets)
	m.itl = hist("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", itlBuckets)
	m.tpot = hist("vllm:request_time_per_output_token_seconds", "Histogram of time_per_output_token_seconds per request.", itlBuckets)
	m.e2e = hist("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", requestLatencyBuckets)
	m.queue = hist("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", requestLatencyBuckets)
	m.reqPrompt = hist("vllm:request_prompt_tokens", "Number of prefill tokens processed.", buckets125(maxModelLen))
	m.reqGeneration = hist("vllm:request_generation_tokens", "Number of generation tokens processed.", buckets125(maxModelLen))
	m.iterTk = hist("vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.", iterationTokenBuckets)
	return m
}

// OnStep records the KV usage and the step's tokens.
func (m *metrics) OnStep(ev *engine.StepEvent) {
	m.setKV(ev.KVBlocksUsed, ev.KVBlocksTotal)
	m.iterTk.Observe(float64(ev.PrefillTokens + ev.DecodeTokens))
}

func (m *metrics) setKV(used, total int) {
	m.mu.Lock()
	m.kvUsed, m.kvTotal = used, total
	m.mu.Unlock()
	if total > 0 {
		m.kvUsage.Set(float64(used) / float64(total))
	}
}

// OnRequest follows each request: the queue counts move at every event, so
// they are right between steps too (after an abort, say).
func (m *metrics) OnRequest(ev *engine.RequestEvent) {
	st := m.reqs[ev.ID]
	if st == nil && ev.Kind != engine.EvArrived {
		return // a request from before the server attached
	}
	switch ev.Kind {
	case engine.EvArrived:
		m.reqs[ev.ID] = &reqState{arrival: ev.Arrival}
		m.numQueue++
	case engine.EvScheduled:
		if st.scheduled.IsZero() {
			st.scheduled = ev.Time
		}
		if !st.running {
			st.running = true
			m.numQueue--
			m.numRunning++
		}
	case engine.EvPreempted:
		m.preemptions.Inc()
		if st.running {
			st.running = false
			m.numRunning--
			m.numQueue++
		}
	case engine.EvFirstToken, engine.EvToken:
		n := ev.OutputTokens - st.outputs
		if n <= 0 {
			break
		}
		if st.outputs == 0 {
			m.ttft.Observe(ev.Time.Sub(st.arrival).Seconds())
			m.prompt.Add(float64(ev.PromptTokens))
			st.first = ev.Time
		} else {
			gap := ev.Time.Sub(st.last).Seconds() / float64(n)
			for range n {
				m.itl.Observe(gap)
			}
		}
		m.generation.Add(float64(n))
		st.outputs, st.last = ev.OutputTokens, ev.Time
	case engine.EvFinished:
		delete(m.reqs, ev.ID)
		if st.running {
			m.numRunning--
		} else {
			m.numQueue--
		}
		if ev.Finish != engine.FinishRejected { // vLLM refuses those before they count
			m.success.WithLabelValues(finishLabel(ev.Finish)).Inc()
			m.e2e.Observe(ev.Time.Sub(st.arrival).Seconds())
			if !st.scheduled.IsZero() {
				m.queue.Observe(st.scheduled.Sub(st.arrival).Seconds())
			}
			if st.outputs > 1 {
				m.tpot.Observe(st.last.Sub(st.first).Seconds() / float64(st.outputs-1))
			}
			m.reqPrompt.Observe(float64(ev.PromptTokens))
			m.reqGeneration.Observe(float64(st.outputs))
		}
	}
	m.running.Set(float64(m.numRunning))
	m.waiting.Set(float64(m.numQueue))
}

// refresh re-reads the KV usage from the engine before a scrape (blocks
// freed by an abort show before the next step); on failure (the engine is
// busy past the timeout or stopped) the last step's value stays.
func (m *metrics) refresh(ctx context.Context) {
	if m.kvReader == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if used, total, err := m.kvReader(ctx); err == nil {
		m.setKV(used, total)
	}
}

var _ engine.Observer = (*metrics)(nil)
