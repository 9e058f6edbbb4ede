// Package gpumon samples every GPU's NVML counters — utilization, memory,
// power, temperature, SM clock — at a fixed rate on its own goroutine and
// publishes immutable snapshot.GPUState values. NVML is loaded at run time
// (github.com/NVIDIA/go-nvml); a function the installed driver does not
// export is looked up before it is called, since calling a missing one kills
// the process. No NVML or no GPU: the state says why, and nothing else stops.
package gpumon
