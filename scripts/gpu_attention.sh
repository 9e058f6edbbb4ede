#!/bin/sh
# The attention kernels on the GPU machine (it has no Go: build the test
# binary here first and carry bin/):
#   go test -c -o bin/cuda.test ./kernels/cuda
#   scripts/gpu_attention.sh            # there, from the repository root
# 1. the attention GPU tests against the CPU twin (decode, large decode,
#    prefill, mixed, graph replay, rejects, and the older WriteKV test;
#    each comparison's relative error is in the log),
# 2. every other CUDA kernel test (nothing else may break), and the
#    engine's CUDA tests (greedy tokens equal the CPU backend's, through
#    graphs) when bin/engine.test is there (go test -c -o bin/engine.test ./engine),
# 3. the micro-benchmark: the split knobs' sweep, prefill, then the decode
#    table last.
# Success: "status 0" after each test step and no FAIL line; then the
# tables. Full logs are left in ${OUT:-/tmp}/attention_*.log. A few minutes;
# each step has its own timeout, all of them together under 10 minutes.
set -u
cd "$(dirname "$0")/.."
T=$PWD/bin/cuda.test
L=${OUT:-/tmp}
[ -x "$T" ] || { echo "no $T: build it with go test -c -o bin/cuda.test ./kernels/cuda"; exit 2; }
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv,noheader 2>/dev/null
rc=0

echo "### attention tests"
(cd kernels/cuda && timeout 180 "$T" -test.run 'Attention' -test.skip 'AttentionBench' -test.v -test.timeout 170s) > "$L/attention_tests.log" 2>&1
s=$?
grep -E '^(--- |ok|FAIL|PASS|panic)|relative error|CUDA error|emulator' "$L/attention_tests.log"
echo "status $s"
[ $s -eq 0 ] || rc=1

echo "### other CUDA kernel tests"
(cd kernels/cuda && timeout 60 "$T" -test.skip 'Attention' -test.v -test.timeout 55s) > "$L/attention_others.log" 2>&1
s=$?
grep -E '^(--- |ok|FAIL|PASS|panic)' "$L/attention_others.log"
echo "status $s"
[ $s -eq 0 ] || rc=1

if [ -x bin/engine.test ]; then
	echo "### engine CUDA tests"
	(cd engine && timeout 100 ../bin/engine.test -test.run CUDA -test.v -test.timeout 95s) > "$L/attention_engine.log" 2>&1
	s=$?
	grep -E '^(--- |ok|FAIL|PASS|panic)' "$L/attention_engine.log"
	echo "status $s"
	[ $s -eq 0 ] || rc=1
fi

echo "### attention micro-benchmark"
(cd kernels/cuda && timeout 240 "$T" -test.run 'AttentionBench' -attn.bench -test.v -test.timeout 230s) > "$L/attention_bench.log" 2>&1
s=$?
grep -v -E '^(=== RUN|--- PASS|PASS$)' "$L/attention_bench.log"
[ $s -eq 0 ] || { echo "status $s"; rc=1; }
exit $rc
