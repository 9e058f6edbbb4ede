// Package experiments runs the vLLM performance-metrics tutorial's
// experiments headless on benchtop's engine — throughput, latency, TTFT, the
// comprehensive benchmark, the batch-size sweep, memory efficiency and the
// comparison of configurations — and renders each as the tutorial's table
// and as JSON (the tutorial's MetricsCollector fields and more).
package experiments
