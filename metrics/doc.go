// Package metrics aggregates the engine's events into the measures of
// shared/DESIGN.md — windowed output tokens/s and requests/s, TTFT, TPOT,
// ITL and E2E distributions (p50/p90/p99/max with counts), batch occupancy
// and KV usage — and publishes immutable Snapshots.
//
// A Collector is an engine.Observer: its On* methods run on the engine
// goroutine, do a little bookkeeping and never block. At most every
// PublishEvery it builds a Snapshot and stores it in an atomic pointer that
// any goroutine (the TUI's tick, a headless report) reads with Latest.
package metrics
