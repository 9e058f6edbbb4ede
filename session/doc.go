// Package session is the runtime of one run: it opens each backend and
// engine on its device goroutine (runtime.LockOSThread; every CUDA call is
// made there), owns the metrics collector and the NVML sampler, and drives
// a workload against a Target with ONE driver — open loop (constant,
// poisson, gamma, ramp, trace) and closed loop (N clients, or "all": one
// client per request starting together) — for the dashboard and for every
// headless command alike.
//
// A Target is the driven thing: the in-process engine; N engine replicas,
// one per GPU, each on its own device goroutine with its own copy of the
// weights (replicas.go); or OpenAI-compatible servers (remote.go), each
// request a stream timed per chunk whose moments reach the collector as the
// engine's do, beside the servers' scraped gauges (remote_gauges.go).
// Several replicas or any server sit behind a Pool (pool.go): a dispatch
// policy (least outstanding, round robin), members marked down with the
// failure and checked again, failures counted by kind, settings changes
// sent to every member that takes them. Changing settings mid-run
// (Controls) is a capability a target may lack; the frame says which it
// has, and carries a row per source (sources.go).
//
// A finite run (Run) counts failed and truncated requests by reason beside
// the rest and goes on; when its context ends or the target fails, it
// returns what finished, marked partial, with an error wrapping ErrStopped.
//
// Goroutines: each device goroutine owns its backend, model and engine;
// each remote request streams on its own goroutine and each server's
// scraper on another; the collector aggregates events handed off by the
// engines' observers and the streams; the sampler polls NVML; a publisher builds one immutable Frame
// ten times a second and stores it in an atomic pointer, which the TUI's
// tick and the headless commands read. Driver clients are a bounded pool.
// Nothing here waits on an engine step to show a number or write a
// snapshot: the frame carries the step in progress (inferred from the
// engine's events, since a step is published only when it ends) and how
// the workload is sent, and Diagnose says from a frame what limits the run
// (against servers, from their gauges and the client's numbers).
// Only settings changes (they apply between steps) and Close (it waits for
// the step in flight) wait for the engine.
package session
