package kernels

import "syscall"

// threadCPU is the calling thread's CPU time in ns (lock the goroutine to
// its thread first): benchmarks report it beside wall time, which on a
// shared machine counts other processes' time slices.
func threadCPU() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
