// Package experiments runs the vLLM performance-metrics tutorial's
// experiments as clients of a session — throughput, latency, TTFT, the
// comprehensive benchmark, the batch-size sweep, memory efficiency and the
// comparison of configurations — and renders each through package report
// as the tutorial's tables, charts and a typed JSON document. Every
// measured run is warmed first for the shapes it will run; sweeps and
// comparisons take repeats and report their spread.
package experiments
