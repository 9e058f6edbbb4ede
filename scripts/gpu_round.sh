#!/usr/bin/env bash
# One call on the GPU machine that checks everything correctness-related at
# once (jobs in parallel: they are light on the GPU and the machine has 16
# cores), then times benchtop against a baseline binary with the GPU quiet.
# Build here first (bin/ is carried):
#   go build -ldflags='-s -w' -o bin/benchtop .
#   go test -c -ldflags='-s -w' -o bin/cuda.test ./kernels/cuda
#   go test -c -ldflags='-s -w' -o bin/engine.test ./engine
#   bin/benchtop-base: a benchtop built from the commit to compare with (optional)
#   bin/tokgz/NAME/tokenizer.json.xz: the four npm tokenizer files (optional)
# Everything lands in $OUT; a summary is printed last.
set -u
R=$PWD
O=${OUT:-/tmp/round}
mkdir -p "$O"
# Binaries travel xz-compressed (the carried tree is limited): unpack them.
python3 -c 'import lzma,glob,os
for f in glob.glob("bin/*.xz"):
    open(f[:-3],"wb").write(lzma.open(f).read()); os.chmod(f[:-3],0o755)'
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
export PYTHONUNBUFFERED=1

if [ -d bin/tokgz ]; then
  python3 - <<'PY'
import lzma, os, glob
for f in glob.glob("bin/tokgz/*/tokenizer.json.xz"):
    d = os.path.join("bin/tokenizers", os.path.basename(os.path.dirname(f)))
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "tokenizer.json"), "wb").write(lzma.open(f).read())
PY
  (timeout 200 python3 scripts/hf_tokenize.py --out "$O/hf_ids.json" > "$O/hf_tokenize.log" 2>&1; echo "exit $?" >> "$O/hf_tokenize.log") &
fi
(cd kernels/cuda && timeout 420 "$R/bin/cuda.test" -test.run 'Attention' -test.skip 'Bench' -test.v -test.timeout 410s > "$O/cuda_attention.log" 2>&1; echo "exit $?" >> "$O/cuda_attention.log") &
(cd kernels/cuda && timeout 420 "$R/bin/cuda.test" -test.skip 'Attention|Bench' -test.v -test.timeout 410s > "$O/cuda_other.log" 2>&1; echo "exit $?" >> "$O/cuda_other.log") &
(cd engine && timeout 420 "$R/bin/engine.test" -test.run CUDA -test.v -test.timeout 410s > "$O/engine_cuda.log" 2>&1; echo "exit $?" >> "$O/engine_cuda.log") &
(timeout 420 python3 scripts/compare_transformers.py --benchtop bin/benchtop --out "$O/compare.json" > "$O/compare.log" 2>&1; echo "exit $?" >> "$O/compare.log") &
wait

# Timings: nothing else runs now.
{
for b in bin/benchtop-base bin/benchtop; do
  [ -x $b ] || continue
  echo "## $b bench"; timeout 120 $b bench --quiet 2>&1 | tail -40
  echo "## $b latency"; timeout 60 $b latency --quiet 2>&1 | tail -12
done
} > "$O/perf.log" 2>&1

for f in hf_tokenize cuda_attention cuda_other engine_cuda compare; do
  echo "######## $f"
  [ -f "$O/$f.log" ] || { echo "(not run)"; continue; }
  grep -E '^(--- FAIL|FAIL|panic|ok )|^exit |wrote|strings|PASS$|Error|error:' "$O/$f.log" | head -30
done
echo "######## compare table"; tail -30 "$O/compare.log"
echo "######## perf"; grep -E '^## |Output tokens/s|output tok|Throughput|Average latency|TTFT|floor|ratio|latency' "$O/perf.log" | head -40
