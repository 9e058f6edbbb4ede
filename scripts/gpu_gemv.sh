#!/usr/bin/env bash
# The small-M GEMM check on the GPU machine, in one call. It has no Go: build
# here first and carry bin/ —
#   go test -c -o bin/cuda.test ./kernels/cuda
#   go test -c -o bin/engine.test ./engine      (optional: end-to-end tokens)
#   go build -o bin/benchtop .                  (optional: bench/latency A/B)
# Runs every CUDA kernel test (the small-M GEMMs' included), the engine's
# CUDA tests, an A/B of `benchtop latency` and `bench` with the small-M
# kernels off and on, then the micro-benchmark, and prints the benchmark's
# summary and its table in brief last. Full outputs land in $OUT:
# gemv_tests.txt, gemv_engine.txt, gemv_ab.txt, gemv_bench.txt (every table)
# and gemv_variants.csv (every variant's time at every shape).
set -o pipefail
R=$PWD
OUT=${OUT:-/tmp/gemv_out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,memory.total --format=csv,noheader

echo "### CUDA kernel tests (bin/cuda.test)"
(cd kernels/cuda && timeout 300 "$R/bin/cuda.test" -test.v -test.timeout 290s > "$OUT/gemv_tests.txt" 2>&1)
echo "exit $?"
grep -E "^(--- |ok|FAIL|PASS|panic)" "$OUT/gemv_tests.txt"
grep -E "relative error .* > |tie:|not timed|pending|refused|accepted|: (CUDA|cuBLAS) " "$OUT/gemv_tests.txt" | head -40

if [ -x bin/engine.test ]; then
  echo "### engine CUDA tests (greedy tokens of the CUDA engine, graphs and eager, against the CPU backend)"
  (cd engine && timeout 150 ../bin/engine.test -test.run CUDA -test.v > "$OUT/gemv_engine.txt" 2>&1)
  echo "exit $?"
  grep -E "^(--- |ok|FAIL|PASS|panic)|parted|differ" "$OUT/gemv_engine.txt" | head -20
fi

if [ -x bin/benchtop ]; then
  echo "### A/B: small-M kernels off (BENCHTOP_GEMV=off) and on, same card, same call"
  {
    for mode in off on; do
      echo "## BENCHTOP_GEMV=$mode latency"
      BENCHTOP_GEMV=$mode timeout 90 bin/benchtop latency --quiet 2>&1 | tail -8
      echo "## BENCHTOP_GEMV=$mode bench"
      BENCHTOP_GEMV=$mode timeout 120 bin/benchtop bench --quiet 2>&1 | tail -24
    done
  } > "$OUT/gemv_ab.txt" 2>&1
  grep -iE "BENCHTOP_GEMV|output tokens/s|e2e|latency|ratio|floor|batch" "$OUT/gemv_ab.txt" | head -40
fi

echo "### micro-benchmark (bin/cuda.test -test.bench GemvTable)"
(cd kernels/cuda && GEMV_CSV="$OUT/gemv_variants.csv" timeout 400 "$R/bin/cuda.test" -test.run '^$' \
  -test.bench '^BenchmarkGemvTable$' -test.benchtime 1x -test.timeout 390s > "$OUT/gemv_bench.txt" 2> "$OUT/gemv_bench_progress.txt")
echo "exit $?"
tail -3 "$OUT/gemv_bench_progress.txt"
# The detailed table stays in the file; the summaries and the table in brief come last.
sed -n '/^### Fused epilogues/,$p' "$OUT/gemv_bench.txt"
