#!/usr/bin/env python3
"""Summarise an `ncu --csv --metrics gpu__time_duration.sum` log per kernel:
launches, total and mean device time, sorted by total. Used to see where a
decode step's device time goes (BENCHMARKS.md)."""
import csv
import collections
import sys

rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 10]
head = rows[0]
name_i, val_i, metric_i = head.index("Kernel Name"), head.index("Metric Value"), head.index("Metric Name")
tot = collections.defaultdict(float)
cnt = collections.Counter()
for r in rows[1:]:
    if r[metric_i] != "gpu__time_duration.sum":
        continue
    name = r[name_i].split("(")[0][:60]
    tot[name] += float(r[val_i].replace(",", ""))
    cnt[name] += 1
all_ns = sum(tot.values())
print(f"{'kernel':60s} {'launches':>8s} {'total us':>10s} {'mean us':>9s} {'share':>6s}")
for k, v in sorted(tot.items(), key=lambda kv: -kv[1]):
    print(f"{k:60s} {cnt[k]:8d} {v/1e3:10.1f} {v/1e3/cnt[k]:9.2f} {100*v/all_ns:5.1f}%")
print(f"{'all':60s} {sum(cnt.values()):8d} {all_ns/1e3:10.1f}")
