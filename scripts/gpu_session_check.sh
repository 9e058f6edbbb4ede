#!/usr/bin/env bash
# Issue 8's checks on the GPU machine (no Go there: build the test binary
# here first, `go test -c -o bin/session.test ./session`, and carry bin/):
#   1. the dashboard's live output tokens/s (the published frame) against the
#      tokens counted over the same window, closed-loop bench workload: within 2%;
#   2. the engine's median decode step with the collector attached vs without: within 2%.
# Success: both tests PASS; the log lines give the numbers for BENCHMARKS.md.
#   scripts/gpu_session_check.sh [seconds per check, default 15s]
set -o pipefail
secs=${1:-15s}
out=${OUT:-.}
cd session 2>/dev/null || true
timeout 300 ../bin/session.test -test.run 'TestGPU' -test.v -gpu-seconds "$secs" 2>&1 | grep -E '^(=== RUN|--- |PASS|FAIL|ok)|GPU ' | tee "$out/gpu_session_check.txt"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,power.draw --format=csv | tee -a "$out/gpu_session_check.txt"
