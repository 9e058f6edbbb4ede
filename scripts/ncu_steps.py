#!/usr/bin/env python3
"""Split an `ncu --csv --metrics gpu__time_duration.sum` log of benchtop run
with BENCHTOP_CUPROFILE into decode steps (a step starts at its embed kernel,
the first of every forward) and print, per group of steps, a per-kernel
table: launches per step, µs per step, mean µs, share. Groups are the
windows in order, each `per` steps long (argv[2], default 2), named by
argv[3:] (e.g. "batch 1" "batch 100")."""
import collections
import csv
import re
import sys

path = sys.argv[1]
per = int(sys.argv[2]) if len(sys.argv) > 2 else 2
names = sys.argv[3:]
rows = [r for r in csv.reader(open(path, errors="replace")) if len(r) > 10]
if not rows:
    print(f"{path}: no ncu rows")
    sys.exit(0)
head = rows[0]
ki, vi, mi = head.index("Kernel Name"), head.index("Metric Value"), head.index("Metric Name")
steps = []
for r in rows[1:]:
    if r[mi] != "gpu__time_duration.sum":
        continue
    name = re.sub(r"\(.*", "", r[ki])[:60]
    ns = float(r[vi].replace(",", ""))
    if name.startswith("embed") or not steps:
        steps.append([])
    steps[-1].append((name, ns))
groups = [steps[i:i + per] for i in range(0, len(steps), per)]
for gi, g in enumerate(groups):
    label = names[gi] if gi < len(names) else f"window {gi + 1}"
    tot = collections.defaultdict(float)
    cnt = collections.Counter()
    for st in g:
        for name, ns in st:
            tot[name] += ns
            cnt[name] += 1
    n = len(g)
    all_ns = sum(tot.values())
    print(f"\n### ncu: decode step, {label} ({n} steps, {sum(cnt.values()) / n:.0f} kernels and {all_ns / n / 1e3:.1f} µs a step)\n")
    print("| kernel | launches/step | µs/step | µs/launch | share |\n| --- | ---: | ---: | ---: | ---: |")
    for k, v in sorted(tot.items(), key=lambda kv: -kv[1]):
        print(f"| {k} | {cnt[k] / n:.1f} | {v / n / 1e3:.2f} | {v / cnt[k] / 1e3:.2f} | {100 * v / all_ns:.1f}% |")
