#!/usr/bin/env bash
# Data-parallel scaling on a GPU machine, in one call: for each N given
# (default: 1 2), the seed `bench` with 10× the tutorial's requests and the
# closed-loop headless dashboard run for a fixed duration, each with
# --data-parallel-size N; then a table of output tokens/s, the scaling
# against the first N (goal at N = 2: ≥ 1.9×), NVML's mean utilization of
# each GPU over the run, and the dispatcher's imbalance (busiest replica's
# output tok/s over the mean, less one).
#
# Build here (a development machine with Go; cgo on, for NVML):
#   export CGO_CFLAGS="-O2 -g -Wno-deprecated-declarations"
#   go build -o bin/benchtop .
#   go test -c -o bin/session.test ./session     # optional: TestGPUDataParallel runs first
# Run there (the repository's root with bin/benchtop carried over):
#   scripts/gpu_dp.sh 1 2                      # nvidia-h200-x2
#   scripts/gpu_dp.sh 1 2 4 8                  # nvidia-h200-x4 / -x8 (issue 15)
# Options (before the N values): --bin PATH (bin/benchtop), --model NAME
# (opt-125m), --requests N (1000: 10× the tutorial's 100), --duration D
# (30s, the dashboard run), --clients-per-gpu N (256: the closed loop has
# N × this many clients, so each replica's batch stays full), --policy
# least-outstanding|round-robin, --out DIR (gpu_dp-<time>).
#
# Success: every run exits 0; the table has a row per N; at N = 2 the
# scaling column reads about 1.9× or more, both GPUs show utilization and
# the imbalance is near 0. Everything is kept under --out (JSON reports,
# snapshots, logs).
set -euo pipefail

BIN=bin/benchtop MODEL=opt-125m REQUESTS=1000 DURATION=30s CPG=256 POLICY=least-outstanding
OUT="gpu_dp-$(date +%Y%m%d-%H%M%S)"
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --bin) BIN=$2 ;;
    --model) MODEL=$2 ;;
    --requests) REQUESTS=$2 ;;
    --duration) DURATION=$2 ;;
    --clients-per-gpu) CPG=$2 ;;
    --policy) POLICY=$2 ;;
    --out) OUT=$2 ;;
    *) echo "gpu_dp.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
NS=("$@")
[[ ${#NS[@]} -gt 0 ]] || NS=(1 2)
[[ -x $BIN ]] || { echo "gpu_dp.sh: $BIN is not an executable (build it: go build -o bin/benchtop .)" >&2; exit 1; }
mkdir -p "$OUT"
nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader > "$OUT/gpus.txt" 2>/dev/null || true
echo "== $($BIN --version); GPUs:"; cat "$OUT/gpus.txt" 2>/dev/null || echo "(no nvidia-smi)"

if [[ -x bin/session.test ]]; then
  echo "== TestGPUDataParallel (two replicas: every request once, half each, one engine's tokens)"
  bin/session.test -test.run 'GPUDataParallel' -test.v 2>&1 | tee "$OUT/gpu_dp_test.log" | grep -E "^(---|ok|FAIL|PASS)|replicas_gpu_test" || true
fi

for n in "${NS[@]}"; do
  echo "== N=$n: bench --requests $REQUESTS"
  "$BIN" bench --model "$MODEL" --requests "$REQUESTS" --data-parallel-size "$n" --dp-policy "$POLICY" \
    --json "$OUT/bench-N$n.json" --quiet > "$OUT/bench-N$n.txt" 2> "$OUT/bench-N$n.log" || { cat "$OUT/bench-N$n.log" >&2; exit 1; }
  grep -E "Output tokens/s|Per replica|replica [0-9]|Imbalance" "$OUT/bench-N$n.txt" || true
  echo "== N=$n: dash --headless --duration $DURATION --arrival closed:$((CPG * n))"
  mkdir -p "$OUT/dash-N$n"
  "$BIN" dash --headless --model "$MODEL" --duration "$DURATION" --workload bench --arrival "closed:$((CPG * n))" \
    --data-parallel-size "$n" --dp-policy "$POLICY" --snapshot-on-exit --snapshot-dir "$OUT/dash-N$n" \
    2> "$OUT/dash-N$n.log" || { cat "$OUT/dash-N$n.log" >&2; exit 1; }
  grep "output tok/s" "$OUT/dash-N$n.log" || true
done

python3 - "$OUT" "${NS[@]}" <<'EOF'
import glob, json, re, sys
from datetime import datetime

out, ns = sys.argv[1], [int(x) for x in sys.argv[2:]]

def ts(s):  # RFC 3339 with nanoseconds → seconds since the epoch
    s = s.replace("Z", "+00:00")
    m = re.match(r"(.*\.\d{6})\d*(.*)", s)
    if m:
        s = m.group(1) + m.group(2)
    return datetime.fromisoformat(s).timestamp()

def per_gpu(history, t0, t1):
    sums, cnt = {}, {}
    for smp in history:
        t = ts(smp["time"])
        if t < t0 or t > t1:
            continue
        for g in smp["gpus"]:
            if g["utilization_pct"] >= 0:
                sums[g["index"]] = sums.get(g["index"], 0) + g["utilization_pct"]
                cnt[g["index"]] = cnt.get(g["index"], 0) + 1
    return [sums[i] / cnt[i] for i in sorted(sums)]

def fmt_util(u):
    return " ".join(f"{x:.0f}" for x in u) if u else "n/a"

rows = []
for n in ns:
    b = json.load(open(f"{out}/bench-N{n}.json"))
    snap = sorted(glob.glob(f"{out}/dash-N{n}/benchtop-snapshot-*.json"))[-1]
    d = json.load(open(snap))
    log = open(f"{out}/dash-N{n}.log").read()
    m = re.search(r"([\d.]+) output tok/s", log)
    dash_tps = float(m.group(1)) if m else float("nan")
    t1 = ts(d["created"])
    t0 = t1 - d["metrics"]["elapsed_ns"] / 1e9
    dash_util = per_gpu((d.get("gpu") or {}).get("history") or [], t0 + 5, t1)  # past the first 5 s of loading the loop
    rows.append(dict(n=n, bench=b["throughput_tps"], bench_imb=b.get("imbalance", 0.0),
                     bench_util=b.get("gpu_utilization_per_gpu_pct") or [], dash=dash_tps,
                     dash_imb=d.get("imbalance", 0.0), dash_util=dash_util,
                     bench_src=[s["output_tps"] for s in b.get("sources", [])]))

base = rows[0]
print()
print(f"Data-parallel scaling ({len(rows)} runs; scaling against N={base['n']})")
hdr = f"{'N':>3}  {'bench tok/s':>12} {'scaling':>8} {'imbal.':>7}  {'dash tok/s':>11} {'scaling':>8} {'imbal.':>7}  {'GPU util % (bench)':<22} {'GPU util % (dash)':<22}"
print(hdr)
print("-" * len(hdr))
for r in rows:
    print(f"{r['n']:>3}  {r['bench']:>12.0f} {r['bench'] / base['bench']:>7.2f}× {r['bench_imb']:>7.3f}  "
          f"{r['dash']:>11.0f} {r['dash'] / base['dash']:>7.2f}× {r['dash_imb']:>7.3f}  {fmt_util(r['bench_util']):<22} {fmt_util(r['dash_util']):<22}")
print()
for r in rows:
    if r["bench_src"]:
        print(f"N={r['n']} bench per replica tok/s: " + ", ".join(f"{x:.0f}" for x in r["bench_src"]))
print(f"Files: {out}/ (bench-N*.json reports, dash-N*/ snapshots, *.log)")
EOF
