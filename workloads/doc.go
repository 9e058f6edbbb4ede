// Package workloads generates the requests benchtop runs: the vLLM
// performance-metrics tutorial's fixed prompt sets (and, later, length
// distributions, datasets and arrival processes). It imports nothing of
// benchtop's: a workload is text prompts with sampling settings and arrival
// offsets, tokenized by whoever runs it. Every generator is seeded and
// deterministic.
package workloads
