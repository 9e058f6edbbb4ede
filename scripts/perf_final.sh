#!/usr/bin/env bash
# The short second call of issue 12's round (after scripts/perf_round.sh):
# the fixed sampler and the faster fused kernels checked on the GPU, then
# this branch against itself with every change switched off, in one call.
# Carry bin/perf (benchtop, cuda.test, engine.test, xz-compressed, and this
# script); run `bash bin/perf/perf_final.sh`. Output: $OUT/final.md.
set -u
R=$PWD; P=bin/perf; O=${OUT:-/tmp/perf}; mkdir -p "$O"; F=$O/final.md
python3 -c 'import lzma,glob,os
for f in glob.glob("bin/perf/*.xz"):
    open(f[:-3],"wb").write(lzma.open(f).read()); os.chmod(f[:-3],0o755)'
T0=$(date +%s)
B=$P/benchtop
OFF="BENCHTOP_FUSE=off BENCHTOP_SAMPLE=legacy BENCHTOP_ATTN_SPLIT=512,64 BENCHTOP_PUREGO=reflect BENCHTOP_WARMUP=off BENCHTOP_GEMM_ROWS=exact"
(cd kernels/cuda && timeout 25 "$R/$P/cuda.test" -test.run 'TestFused|TestSampleKernels' -test.v > /tmp/cuda.log 2>&1; echo "exit $?" >> /tmp/cuda.log) &
(cd engine && timeout 25 "$R/$P/engine.test" -test.run 'CUDAGreedyMatchesCPU|CUDAQwen3BF16|CUDALlamaMHA' -test.v > /tmp/engine.log 2>&1; echo "exit $?" >> /tmp/engine.log) &
wait
export BENCHTOP_GEMV_CACHE=/tmp/gemv_cache.json
{
echo "# final $(date -u +%FT%TZ) $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"
echo "## tests"; grep -hE '^(--- |ok|FAIL|exit)|parted|rows equal' /tmp/cuda.log /tmp/engine.log | grep -v "^    gpu_gemv"
run() { local name=$1; shift; echo "## $name ($(( $(date +%s) - T0 ))s)"; env "$@" --quiet 2>&1 | grep -E 'Output tokens/s|Time to first|Time per output|End-to-end|^TTFT|^TPOT|^ITL|^(mean|p50|p90) |floor|device \(|host \(|Ratio|loaded|rror'; }
run new_latency X=1 timeout 30 $B latency
run off_latency $OFF timeout 30 $B latency
run new_latency_fuse_off BENCHTOP_FUSE=off timeout 30 $B latency
run new_bench X=1 timeout 30 $B bench
run off_bench $OFF timeout 30 $B bench
run new_ttft X=1 timeout 30 $B ttft
run new_chat_all X=1 timeout 30 $B run --workload chat --arrival all --requests 300
echo "## done at $(( $(date +%s) - T0 ))s"
} > "$F" 2>&1
cat "$F"
