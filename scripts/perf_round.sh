#!/usr/bin/env bash
# Issue 12's measurements in one call on the GPU machine (no Go there):
# correctness of the new kernels and the engine on the GPU, then, with the
# GPU quiet, A/B timings (the base binary, this branch, and this branch
# with each change switched off by its variable), the kernel profiles
# (BENCHTOP_PROFILE_KERNELS) and ncu per-kernel tables of batch-1 and
# batch-100 decode steps (BENCHTOP_CUPROFILE windows), before (every
# switch off) and after, and the serving targets. Build here and carry
# bin/perf (xz-compressed; see BENCHMARKS.md "Decode and prefill on the
# H200"):
#   go build -ldflags='-s -w' -o bin/perf/benchtop .
#   go test -c -ldflags='-s -w' -o bin/perf/cuda.test ./kernels/cuda
#   go test -c -ldflags='-s -w' -o bin/perf/engine.test ./engine
#   bin/perf/benchtop-base: built from the commit to compare with
#   cp scripts/perf_round.sh scripts/ncu_steps.py bin/perf/; xz -T0 bin/perf/*[^hy]
# and run `bash bin/perf/perf_round.sh`. Logs go to $OUT/logs.tgz, the
# summary to $OUT/summary.md. Phases start only while the elapsed time is
# under LIMIT seconds (default 170).
set -u
R=$PWD
P=bin/perf
O=${OUT:-/tmp/perf}
L=$O/logs
mkdir -p "$L"
LIMIT=${LIMIT:-170}
T0=$(date +%s)
el() { echo $(( $(date +%s) - T0 )); }
phase() { echo "=== $1 at $(el)s" | tee -a "$L/phases.txt"; [ "$(el)" -lt "$LIMIT" ]; }
python3 -c 'import lzma,glob,os
for f in glob.glob("bin/perf/*.xz"):
    open(f[:-3],"wb").write(lzma.open(f).read()); os.chmod(f[:-3],0o755)'
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv > "$L/gpu.txt" 2>&1
export PYTHONUNBUFFERED=1
B=$P/benchtop
BASE=$P/benchtop-base
OFF="BENCHTOP_FUSE=off BENCHTOP_SAMPLE=legacy BENCHTOP_ATTN_SPLIT=512,64 BENCHTOP_PUREGO=reflect BENCHTOP_WARMUP=off"

if phase "correctness"; then
  (cd kernels/cuda && timeout 50 "$R/$P/cuda.test" -test.run 'TestFused|TestSampleKernels|TestSample$|TestKernelProfile|TestGemvEpilogues|TestArgmaxLinear|TestLinear$|TestGraphReplay|TestLlamaKernels|TestWriteKV' -test.v > "$L/cuda_test.log" 2>&1; echo "exit $?" >> "$L/cuda_test.log") &
  (cd engine && timeout 50 "$R/$P/engine.test" -test.run CUDA -test.v > "$L/engine_test.log" 2>&1; echo "exit $?" >> "$L/engine_test.log") &
  (timeout 55 python3 scripts/compare_transformers.py --benchtop $B --device cuda > "$L/compare.log" 2>&1; echo "exit $?" >> "$L/compare.log") &
  wait
fi
# The runs below share the small-M choice table (timed once, by the first).
export BENCHTOP_GEMV_CACHE=/tmp/gemv_cache.json

# run NAME ENV... -- ARGS: one timed benchtop run, its tables in $L/NAME.txt.
run() {
  local name=$1; shift
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  echo "## $name: ${envs[*]} $*" > "$L/$name.txt"
  env "${envs[@]}" timeout 45 "$@" --quiet >> "$L/$name.txt" 2>&1
  echo "exit $?" >> "$L/$name.txt"
}

if phase "timings"; then
  run base_bench X=1 -- $BASE bench
  run base_latency X=1 -- $BASE latency
  run new_bench X=1 -- $B bench
  run new_latency X=1 -- $B latency
  run new_latency_fuse_off BENCHTOP_FUSE=off -- $B latency
  run new_latency_sample_legacy BENCHTOP_SAMPLE=legacy -- $B latency
  run new_bench_warmup_off BENCHTOP_WARMUP=off -- $B bench
  run new_bench_reflect BENCHTOP_PUREGO=reflect -- $B bench
  run base_ttft X=1 -- $BASE ttft
  run new_ttft X=1 -- $B ttft
  run new_latency_smollm2 X=1 -- $B latency --model smollm2-135m
  run new_latency_smollm2_fuse_off BENCHTOP_FUSE=off -- $B latency --model smollm2-135m
fi

if phase "kernel profiles"; then
  run prof_new_latency BENCHTOP_PROFILE_KERNELS=$L/prof_new_latency.md -- $B latency
  run prof_new_bench BENCHTOP_PROFILE_KERNELS=$L/prof_new_bench.md -- $B bench
  run prof_off_latency $OFF BENCHTOP_PROFILE_KERNELS=$L/prof_off_latency.md -- $B latency
  run prof_off_bench $OFF BENCHTOP_PROFILE_KERNELS=$L/prof_off_bench.md -- $B bench
fi

NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
if phase "ncu"; then
  for cfg in new off; do
    envs="X=1"; [ $cfg = off ] && envs=$OFF
    env $envs BENCHTOP_CUPROFILE="decode,1,10,2;decode,100,10,2" timeout 60 $NCU --profile-from-start off --clock-control none \
      --metrics gpu__time_duration.sum --csv --log-file "$L/ncu_$cfg.csv" $B bench --warmup 1 --quiet > "$L/ncu_${cfg}_run.txt" 2>&1
    echo "exit $?" >> "$L/ncu_${cfg}_run.txt"
    python3 $P/ncu_steps.py "$L/ncu_$cfg.csv" 2 "batch 1 ($cfg)" "batch 100 ($cfg)" > "$L/ncu_$cfg.md" 2>&1
  done
fi

if phase "serving"; then
  run new_chat_all X=1 -- $B run --workload chat --arrival all --requests 300
  run new_long_context X=1 -- $B run --workload long-context --requests 40
  run new_chat_poisson25 X=1 -- $B run --workload chat --arrival poisson:25 --requests 300
fi

phase "summary" || true
{
  echo "# perf round $(date -u +%FT%TZ)"; cat "$L/gpu.txt"; cat "$L/phases.txt"
  for f in cuda_test engine_test compare; do
    echo "## $f"; [ -f "$L/$f.log" ] && grep -E '^(--- FAIL|FAIL|panic|ok )|^exit |PASS$|rows equal|parted|equal|part at|Error' "$L/$f.log" | head -40
  done
  for f in "$L"/base_*.txt "$L"/new_*.txt "$L"/prof_*.txt; do
    [ -f "$f" ] || continue
    echo "## $(head -1 "$f")"
    grep -E 'Output tokens/s|Time to first token|Time per output|End-to-end latency|^TTFT|^TPOT|^ITL|^(mean|p50|p90) |floor|device \(|host \(|Ratio|Wall time|Prompt tokens|exit|loaded|rror' "$f" | head -24
  done
  for f in "$L"/ncu_new.md "$L"/ncu_off.md; do [ -f "$f" ] && cat "$f"; done
  for f in "$L"/prof_*.md; do [ -f "$f" ] && { echo "## $f"; head -80 "$f"; }; done
} > "$O/summary.md" 2>&1
tar -C "$O" -czf "$O/logs.tgz" logs && rm -rf "$L"
head -c 11000 "$O/summary.md"
