// Package engine is benchtop's inference engine: requests and sequences, a
// paged KV block manager, a continuous-batching scheduler (FCFS, chunked
// prefill, preemption by recompute), the model runner and the step loop.
//
// Ownership: one goroutine — the one running Engine.Run, or the caller of
// Engine.Step when the loop is not running — owns every mutable field of the
// Engine, its scheduler, block manager, sequences and backend. Other
// goroutines talk to it only through commands on a channel (Submit,
// SetMaxNumSeqs, Reconfigure, Pause, Resume, Stop), which take effect between
// steps. Observers are called on the engine goroutine and must not block; the
// metrics package aggregates there and publishes immutable snapshots.
package engine
