#!/usr/bin/env bash
# benchtop's GPU checks and benchmarks in two calls on the GPU machine (it
# has no Go: build here and carry bin/, xz-compressed to fit the carried
# tree):
#   export CGO_CFLAGS="-O2 -g -Wno-deprecated-declarations"
#   go build -ldflags='-s -w' -o bin/benchtop .
#   for p in kernels/cuda engine session gpumon; do
#     go test -c -ldflags='-s -w' -o bin/$(basename $p).test ./$p; done
#   xz -T2 -f bin/benchtop bin/*.test
#   optional: bin/tokgz/NAME/tokenizer.json.xz (the npm tokenizer files)
# then there:
#   scripts/gpu_round.sh check   every correctness check at once (in parallel:
#                                light on the GPU), then the session's live-rate
#                                and collector checks, NVML energy, the presets
#   scripts/gpu_round.sh perf    timings with the GPU quiet: bench, latency,
#                                ttft, chat, long-context; data parallel N=1,2
# Logs are packed into $OUT/round-PHASE.tgz; a summary is printed last.
set -u
R=$PWD
O=/tmp/round # everything, packed into one file under $OUT at the end
mkdir -p "$O"
python3 -c 'import lzma,glob,os
for f in glob.glob("bin/*.xz"):
    open(f[:-3],"wb").write(lzma.open(f).read()); os.chmod(f[:-3],0o755)'
nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader
export PYTHONUNBUFFERED=1
B=bin/benchtop

check() {
  if [ -d bin/tokgz ] && [ ! -f tokenizer/testdata/hf_ids.json ]; then
    python3 - <<'PY'
import lzma, os, glob
for f in glob.glob("bin/tokgz/*/tokenizer.json.xz"):
    d = os.path.join("bin/tokenizers", os.path.basename(os.path.dirname(f)))
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "tokenizer.json"), "wb").write(lzma.open(f).read())
PY
    (timeout 200 python3 scripts/hf_tokenize.py --out "$O/hf_ids.json" > "$O/hf_tokenize.log" 2>&1; echo "exit $?" >> "$O/hf_tokenize.log") &
  fi
  (cd kernels/cuda && timeout 400 "$R/bin/cuda.test" -test.skip 'Bench' -test.v -test.timeout 390s > "$O/cuda.log" 2>&1; echo "exit $?" >> "$O/cuda.log") &
  (timeout 400 python3 scripts/compare_transformers.py --benchtop $B --out "$O/compare.json" > "$O/compare.log" 2>&1; echo "exit $?" >> "$O/compare.log") &
  wait
  # Alone on the card: its tiny-pool step sizes the KV pool from the memory
  # other processes hold, which must not move under it.
  (cd engine && timeout 400 "$R/bin/engine.test" -test.run 'CUDA|ChaosGPU' -chaos.duration=30s -test.v -test.timeout 390s > "$O/engine.log" 2>&1; echo "exit $?" >> "$O/engine.log")
  (cd gpumon && timeout 60 ../bin/gpumon.test -test.run TestSamplerPublishes -test.v > "$O/gpumon.log" 2>&1; echo "exit $?" >> "$O/gpumon.log")
  (cd session && timeout 200 ../bin/session.test -test.run 'TestGPU' -test.v -gpu-seconds 15s > "$O/session.log" 2>&1; echo "exit $?" >> "$O/session.log")
  OUT=$O/presets timeout 300 scripts/gpu_presets.sh > "$O/presets.log" 2>&1
  for f in hf_tokenize cuda engine compare gpumon session; do
    echo "######## $f"
    [ -f "$O/$f.log" ] || { echo "(not run)"; continue; }
    grep -E '^(--- FAIL|FAIL|panic)|^exit |wrote|strings|^PASS$|GPU |energy|parted|chaos' "$O/$f.log" | head -24
  done
  echo "######## compare"; grep -E "equal|part at|FAIL" "$O/compare.log" | grep -v "equal$" | head; tail -2 "$O/compare.log"
  echo "######## presets"; tail -12 "$O/presets.log"
}

perf() {
  {
    echo "## bench"; timeout 90 $B bench --quiet --json "$O/bench.json" 2>&1 | tail -42
    echo "## latency"; timeout 60 $B latency --quiet 2>&1 | tail -10
    echo "## ttft"; timeout 60 $B ttft --quiet 2>&1 | tail -12
    echo "## chat all"; timeout 120 $B run --workload chat --arrival all --requests 300 --quiet 2>&1 | tail -30
    echo "## chat poisson:25"; timeout 120 $B run --workload chat --arrival poisson:25 --requests 300 --quiet 2>&1 | tail -30
    echo "## long-context"; timeout 90 $B run --workload long-context --requests 40 --quiet 2>&1 | tail -30
  } > "$O/perf.log" 2>&1
  OUT=$O timeout 300 scripts/gpu_dp.sh --duration 15s --out "$O/dp" 1 2 > "$O/dp.log" 2>&1
  echo "rc $?" >> "$O/dp.log"
  grep -E '^## |Output tokens/s|Total tokens/s|Prompt tokens/s|Wall|^(TTFT|TPOT|ITL|E2E) |End-to-end|Ratio|Measured step' "$O/perf.log" | head -60
  echo "######## dp"; tail -30 "$O/dp.log"
}

phase=${1:-check}
"$phase"
[ -n "${OUT:-}" ] && tar czf "$OUT/round-$phase.tgz" -C /tmp round
