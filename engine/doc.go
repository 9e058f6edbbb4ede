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
//
// Guarantees, whatever the settings:
//   - a step never holds more than max_num_seqs sequences: lowering it
//     preempts the newest running ones (recompute, counted and emitted);
//   - every request finishes exactly once, and every outcome other than
//     length carries its reason in words (Result.Err, the finish event's
//     Err), with the tokens asked beside those given;
//   - the loop never spins: a request that can never run under the current
//     settings is rejected at admission, a sequence that outgrew the step
//     budget is recomputed in chunks even with chunked prefill off, and a
//     configuration change that would leave a queued or running request
//     unable to finish is refused (ErrWouldStrand), so pool changes lose none;
//   - sizes from flags and files are bounded (Config.Validate) and computed
//     without overflow, and a workspace the device cannot hold is refused
//     before anything is allocated.
//
// A zero max_num_seqs, max_num_batched_tokens or gpu_memory_utilization is
// "auto" (AutoConfig): vLLM's defaults on a GPU, and on the CPU a step budget
// sized for the CPU, with the reason on MemoryPlan.Reason. The engine keeps
// the configuration as asked (Status.Requested) and sizes its auto fields
// again on every change; on the CPU every KV pool, at start or later, is
// capped at what max_num_seqs sequences of max_model_len tokens can use.
package engine
