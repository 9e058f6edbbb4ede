#!/usr/bin/env bash
# Everything the GPU machine checks in one call (it has no Go: build bin/ here
# first — benchtop, cuda.test, engine.test, gpumon.test — and carry it).
# Writes log.txt, bench.json, hf.json and a dashboard snapshot under $OUT.
set -o pipefail; export PYTHONUNBUFFERED=1; R=$PWD; L=$OUT/log.txt
{
echo "### GPU tests"; (cd kernels/cuda && timeout 90 $R/bin/cuda.test -test.v 2>&1 | grep -E "^(---|ok|FAIL|PASS)|sampled")
(cd engine && timeout 120 ../bin/engine.test -test.run CUDA -test.v 2>&1 | grep -E "^(---|ok|FAIL|PASS)|parted|pool")
timeout 30 bin/gpumon.test -test.v 2>&1 | grep -E "^(---|ok|FAIL|PASS)|GPU"
echo "### transformers"; timeout 120 python3 scripts/compare_transformers.py --benchtop bin/benchtop --device cpu 2>&1 | grep -v Writing
timeout 120 python3 scripts/compare_transformers.py --benchtop bin/benchtop --device cuda --dtype float16 2>&1 | grep -v Writing
echo "### bench"; timeout 120 bin/benchtop bench --quiet --json $OUT/bench.json 2>&1
echo "### latency"; timeout 60 bin/benchtop latency --quiet 2>&1 | tail -8
echo "### ttft"; timeout 60 bin/benchtop ttft --quiet 2>&1 | tail -8
echo "### memory"; timeout 60 bin/benchtop memory --quiet 2>&1 | tail -17
echo "### compare"; timeout 120 bin/benchtop compare --quiet 2>&1 | tail -8
echo "### sweep"; timeout 120 bin/benchtop sweep --quiet 2>&1 | tail -10
echo "### transformers peer"; bin/benchtop tokenize --workload bench > /tmp/bench.json && timeout 200 python3 scripts/hf_generate_bench.py --requests /tmp/bench.json --out $OUT/hf.json 2>&1 | grep -v -i warn
echo "### dashboard"; which script && (sleep 12; printf q) | timeout 60 script -qfc "bin/benchtop --snapshot-on-exit --snapshot-dir $OUT" /dev/null > /dev/null 2>&1; ls -la $OUT
nvidia-smi --query-gpu=name,driver_version,clocks.sm,power.draw --format=csv
} 2>&1 | tee $L
