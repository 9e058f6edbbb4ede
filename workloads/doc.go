// Package workloads generates the requests benchtop runs: the vLLM
// performance-metrics tutorial's fixed prompt sets, length distributions,
// dataset files (ShareGPT-style JSON and JSONL traces) and arrival
// processes. It imports nothing of benchtop's: a workload is text prompts
// with sampling settings and arrival offsets, tokenized by whoever runs it.
// Every generator is seeded and deterministic, and every number parsed from
// a flag or a file is checked against stated bounds (MaxLength, MinRate to
// MaxRate, MaxClients...), so no input yields a negative period, an
// overflowed offset or an unbounded number of clients.
package workloads
