#!/usr/bin/env bash
# The Llama-family presets on the GPU: bench, memory and latency for
# smollm2-135m, qwen3-0.6b and llama-3.2-1b (opt-125m for reference), then
# one table. About a minute on an H200; each command is cut at 60 s.
#
# The GPU machine has no Go: build here with `go build -o bin/benchtop .`
# and carry bin/. Run from the repository root:
#   scripts/gpu_presets.sh                 # writes under $OUT (else /tmp/gpu_presets)
#   MODELS="tiny tiny-llama tiny-qwen3" scripts/gpu_presets.sh   # any presets
#
# Success: the last lines are the table with a row per model and no
# "FAILED" line above it; weights ≈ 0.25 GB (opt-125m, fp16), 0.27
# (smollm2-135m, bf16), 1.19 (qwen3-0.6b, bf16) and 2.47 (llama-3.2-1b,
# bf16) — the presets' published shapes, synthetic weights.
set -o pipefail
O=${OUT:-/tmp/gpu_presets}
mkdir -p "$O"
MODELS=${MODELS:-"opt-125m smollm2-135m qwen3-0.6b llama-3.2-1b"}
BIN=${BENCHTOP:-bin/benchtop}
start=$SECONDS
for m in $MODELS; do
  for c in bench memory latency; do
    t0=$SECONDS
    timeout 60 "$BIN" "$c" --model "$m" --quiet --json "$O/$m-$c.json" $EXTRA > "$O/$m-$c.txt" 2>&1
    rc=$?
    if [ $rc -ne 0 ]; then
      echo "FAILED: $m $c: exit $rc (log: $O/$m-$c.txt)"
      tail -3 "$O/$m-$c.txt"
    else
      echo "$m $c: $((SECONDS - t0)) s"
    fi
  done
done
echo "total $((SECONDS - start)) s"
python3 - "$O" $MODELS <<'PY'
import json, os, re, sys
out, models = sys.argv[1], sys.argv[2:]
def load(m, c):
    try:
        return json.load(open(os.path.join(out, f"{m}-{c}.json")))
    except (OSError, ValueError):
        return None
rows = [("model", "device", "params", "dtype", "out tok/s", "TTFT p50 ms", "latency ms", "KV tokens", "max seqs", "weights GB")]
for m in models:
    b, mem, lat = load(m, "bench"), load(m, "memory"), load(m, "latency")
    row = [m, "-", "-", "-", "-", "-", "-", "-", "-", "-"]
    any_ = b or mem or lat
    if any_:
        row[1] = any_.get("device", "-")[:24]
        row[2] = f'{any_.get("parameters", 0) / 1e6:.0f}M'
    try:  # the load line: "benchtop: model M (...), 135M params in bf16 on ..."
        row[3] = re.search(r"params in (\S+)", open(os.path.join(out, f"{m}-memory.txt")).read()).group(1)
    except (OSError, AttributeError):
        pass
    if b:
        row[4] = f'{b["throughput_tps"]:.0f}'
        row[5] = f'{b["ttft"]["p50_ns"] / 1e6:.2f}'
    if lat:
        row[6] = f'{lat["e2e"]["p50_ns"] / 1e6:.1f}'
    if mem:
        mm = mem["memory"]
        row[7] = f'{mm["kv_tokens"]}'
        row[8] = str(mem.get("max_concurrent_sequences", "-"))
        row[9] = f'{mm["weights_bytes"] / 1e9:.3f}'
    rows.append(row)
w = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
for i, r in enumerate(rows):
    print("  ".join(str(x).ljust(w[j]) if j < 2 else str(x).rjust(w[j]) for j, x in enumerate(r)))
    if i == 0:
        print("  ".join("-" * n for n in w))
PY
