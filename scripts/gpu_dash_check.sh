#!/usr/bin/env bash
# Issue 9's checks on the GPU machine (no Go there: build here first,
#   go build -o bin/benchtop . && go test -c -o bin/gpumon.test ./gpumon
# and carry bin/):
#   1. NVML's energy counter and power: the sampler test logs "energy counter
#      … J; power over the run … W (NVML energy counter)" and PASSes;
#   2. a 15 s headless dashboard run writes a snapshot whose GPU samples carry
#      energy_j (not -1) and the process's CPU/RSS, and whose engine settings
#      are vLLM's defaults (auto on a GPU: 256, 8192, 0.90) with no auto reason.
# Success: "gpu_dash_check: ok" on the last line.
set -euo pipefail
out=${OUT:-.}
log="$out/gpu_dash_check.txt"
: >"$log"
(cd gpumon 2>/dev/null || true; ../bin/gpumon.test -test.run TestSamplerPublishes -test.v 2>&1) | tee -a "$log"
grep -q -- "--- PASS: TestSamplerPublishes" "$log"
dir=$(mktemp -d)
bin/benchtop dash --headless --duration 15s --snapshot-on-exit --snapshot-dir "$dir" --workload bench 2>&1 | tee -a "$log"
snap=$(ls "$dir"/benchtop-snapshot-*.json | head -1)
python3 - "$snap" <<'PY' | tee -a "$log"
import json, sys
f = json.load(open(sys.argv[1]))
g = f["gpu"]
assert g["available"], g.get("reason")
hist = g["history"]
e = [x["energy_j"] for s in hist for x in s["gpus"]]
assert hist and all(v > 0 for v in e), "energy counter missing: %s" % e[:4]
assert hist[-1].get("process", {}).get("rss_bytes", 0) > 0, "no process samples"
c = f["status"]["config"]
print("settings:", c)
assert c["max_num_seqs"] == 256 and c["max_num_batched_tokens"] == 8192, c
dt = (hist[-1]["gpus"][0]["energy_j"] - hist[0]["gpus"][0]["energy_j"])
print("GPU0 energy over the run: %.0f J; output tokens %d" % (dt, f["metrics"]["output_tokens"]))
print("gpu_dash_check: ok")
PY
