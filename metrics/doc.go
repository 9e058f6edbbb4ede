// Package metrics aggregates the engine's events into the measures of
// shared/DESIGN.md — output and total tokens/s, requests/s, TTFT, TPOT, ITL,
// E2E and queueing distributions (p50/p90/p99/max/mean with counts), chunk
// gaps and tokens per chunk, the step time and its phases, batch occupancy,
// KV usage, goodput against an SLO — and publishes immutable Snapshots.
//
// Goroutines. A Collector is an engine.Observer (and ConfigObserver); the
// observers Source(i) returns tag events with a source (a replica, a remote
// server). Their methods run on the caller's goroutine — the engine's — and
// only copy the event into a bounded queue (queue.go): when QueueSize events
// wait, further ones are dropped and counted (Snapshot.DroppedEvents). They
// never wait for the aggregator, nor wake it: Run drains the queue every
// DrainEvery (10 ms), or at once when it is a quarter full, so an engine
// step hands off its events (its tokens in one OnRequests call) as a copy
// under an uncontended lock, with no system call and no allocation. The
// aggregator runs on Run's goroutine (or in Sync, on the caller's), under
// the collector's mutex, which every reader (Records, SummarySince,
// Segments, DecodeStepsSince) also takes. Mark and Reset travel through the
// same queue, in order, never dropped. Latest is an atomic load of the
// newest snapshot.
//
// Measures. The live window (window.go) is a ring of per-Interval buckets by
// event time, each with exact counts and histograms; the window is the
// closed buckets of the last Window, so its span is exact and its rates are
// exact counts over it. Distributions are HDR histograms
// (github.com/HdrHistogram/hdrhistogram-go, two significant digits: within
// Precision) merged when a bucket closes, never sorted samples. Whole-run
// summaries (summary.go) come from histograms kept per arrival epoch;
// segments (segments.go) from histograms kept per segment until it is
// frozen. A Dist with Count 0 means no sample, not zero.
//
// Memory is bounded whatever the run's length: the window's buckets, at
// most MaxEpochs epochs, MaxSegments segments, MaxRecords finished-request
// records (the newest; RecordsDropped counts the rest), MaxDecodeSteps decode
// steps, MaxPoints series points and the queue.
package metrics
