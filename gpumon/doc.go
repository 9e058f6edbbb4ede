// Package gpumon samples every GPU's NVML counters — utilization, memory,
// power, temperature, SM clock — at a fixed rate on its own goroutine and
// publishes immutable State values; it owns those types. NVML sits behind
// the Source interface: the cgo build loads it at run time through
// github.com/NVIDIA/go-nvml (a function the installed driver does not export
// is looked up before it is called, since calling a missing one kills the
// process); a CGO_ENABLED=0 build has no NVML and says so. No NVML or no
// GPU: the state says why, and nothing else stops. Every sample also carries
// this process's CPU use and resident memory (gopsutil), which the
// dashboard shows where there is no NVML; with NVML, the total energy
// counter (an optional symbol) gives J per output token (State.Power).
package gpumon
