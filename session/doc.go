// Package session is the runtime of one run: it opens the backend and the
// engine on the device goroutine (runtime.LockOSThread; every CUDA call is
// made there), owns the metrics collector and the NVML sampler, and drives
// a workload against a Target with ONE driver — open loop (constant,
// poisson, gamma, ramp, trace) and closed loop (N clients, or "all": one
// client per request starting together) — for the dashboard and for every
// headless command alike.
//
// A Target is the driven thing: the in-process engine today; an
// OpenAI-compatible server, a fleet of them, or N engines one per GPU
// next. Changing settings mid-run (Controls) is a capability a target may
// lack; the frame says which it has.
//
// A finite run (Run) counts failed and truncated requests by reason beside
// the rest and goes on; when its context ends or the target fails, it
// returns what finished, marked partial, with an error wrapping ErrStopped.
//
// Goroutines: the device goroutine owns the backend, the model and the
// engine; the collector aggregates events handed off by the engine's
// observer; the sampler polls NVML; a publisher builds one immutable Frame
// ten times a second and stores it in an atomic pointer, which the TUI's
// tick and the headless commands read. Driver clients are a bounded pool.
// Nothing here waits on an engine step to show a number; the one place that
// still reads the current collector through the engine goroutine is
// stats.go, which the lock-free collector replaces.
package session
