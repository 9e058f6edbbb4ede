#!/usr/bin/env bash
# Issue 8's checks on the GPU machine (no Go there: build the test binary
# here first, `go test -c -o bin/session.test ./session`, and carry bin/):
#   1. the dashboard's live output tokens/s (the published frame) against the
#      tokens counted over the same window, closed-loop bench workload: within 2%;
#   2. what the collector costs the engine: one session, the collector
#      switched off and on in 3 pairs of alternating rounds of seconds/2 each;
#      the medians over the pairs of the decode step and of the step period
#      (attached/detached − 1): each within 2%.
# Success: both tests PASS; the log lines (each round, the per-pair ratios,
# the medians) give the numbers for BENCHMARKS.md. With 10s: about 60 s.
#   scripts/gpu_session_check.sh [seconds per check, default 10s]
set -o pipefail
secs=${1:-10s}
out=${OUT:-.}
cd session 2>/dev/null || true
timeout 300 ../bin/session.test -test.run 'TestGPULiveRate|TestGPUCollectorOverhead' -test.v -gpu-seconds "$secs" 2>&1 |
	grep -E '^(=== RUN|--- |PASS|FAIL|ok)|GPU |round [0-9]|attached / detached' | tee "$out/gpu_session_check.txt"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,power.draw --format=csv | tee -a "$out/gpu_session_check.txt"
