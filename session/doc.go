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
// Goroutines: the device goroutine owns the backend, the model and the
// engine; the collector aggregates events handed off by the engine's
// observer; the sampler polls NVML; a publisher builds one immutable Frame
// ten times a second and stores it in an atomic pointer, which the TUI's
// tick and the headless commands read. Driver clients are a bounded pool.
// Nothing here waits on an engine step to show a number or write a
// snapshot: the frame carries the step in progress (inferred from the
// engine's events, since a step is published only when it ends) and how
// the workload is sent, and Diagnose says from a frame what limits the run.
// Only settings changes (they apply between steps) and Close (it waits for
// the step in flight) wait for the engine.
package session
