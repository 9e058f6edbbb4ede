#!/usr/bin/env bash
# The live-metrics collector on the real engine (issue 8), for the GPU
# machine, which has no Go. Build the test binary here first:
#
#   go test -c -o bin/metrics.test ./metrics
#
# then run there: scripts/collector_check.sh [bin/metrics.test]
#
# It drives the engine with the dashboard's closed-loop bench workload and
# prints two verdicts (and the collector benchmark on that host's CPU):
#   collector check: live output tok/s … counted …; difference ±x% … — PASS
#       the live window's tokens/s against an exact count over the same
#       window (must be within 2%, no event dropped)
#   collector check: decode step time p50 at batch N: … with …, … without …; ±x% — PASS
#       the engine's step time with the collector attached against without
#       (must be at most 2% slower), alternating every 2 s
# Exit status 0 when both pass. Writes collector_check.txt under $OUT if set.
set -o pipefail
T=${1:-bin/metrics.test}
[ -x "$T" ] || { echo "no $T: build it with: go test -c -o bin/metrics.test ./metrics" >&2; exit 2; }
L=${OUT:-/tmp}/collector_check.txt
{
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>&1 | head -1
timeout 120 "$T" -test.run 'CollectorOnEngine' -test.v 2>&1 | grep -E "^(collector check|---|ok|FAIL|PASS)|engine_check"
timeout 120 "$T" -test.run - -test.bench Collector -test.cpu 1 -test.benchtime 3s 2>&1 | grep -E "^Benchmark"
} 2>&1 | tee "$L"
grep -q "^--- PASS: TestCollectorOnEngine" "$L" && ! grep -q "— FAIL" "$L"
