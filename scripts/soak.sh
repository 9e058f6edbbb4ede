#!/usr/bin/env bash
# scripts/soak.sh [BINARY] — the soak benchmark: the live dashboard
# (`benchtop --model tiny`, its default workload kept running) attached in
# tmux for SOAK_MINUTES (30), its resident memory sampled every 10 s from
# /proc/PID/status (VmRSS). Prints the RSS at minutes 5, 10, 20 and 30 and
# the ratio of the last to minute 5, then quits with `q` and checks that the
# snapshot-on-exit set was written. Samples go to $SOAK_OUT/rss.tsv (a
# fresh folder under /tmp by default). Fails when benchtop dies, when the
# snapshot is missing, or when the ratio exceeds SOAK_MAX_RATIO (1.5).
#
#   go build -o bin/benchtop . && scripts/soak.sh bin/benchtop
#   SOAK_MINUTES=2 scripts/soak.sh bin/benchtop     # a quick try
set -euo pipefail

bin=$(realpath "${1:-bin/benchtop}")
minutes=${SOAK_MINUTES:-30}
max_ratio=${SOAK_MAX_RATIO:-1.5}
out=${SOAK_OUT:-$(mktemp -d /tmp/benchtop-soak.XXXXXX)}
mkdir -p "$out"
session=benchtop-soak-$$
[ -x "$bin" ] || { echo "soak: $bin is not an executable (go build -o bin/benchtop .)" >&2; exit 1; }
command -v tmux >/dev/null || { echo "soak: needs tmux" >&2; exit 1; }

cleanup() { tmux kill-session -t "$session" 2>/dev/null || true; }
trap cleanup EXIT

# exec: the pane's process is benchtop itself.
tmux new-session -d -s "$session" -x 120 -y 36 \
	"exec $bin --model tiny ${SOAK_FLAGS:-} --snapshot-on-exit --snapshot-dir $out 2>$out/stderr.txt"
pid=$(tmux list-panes -t "$session" -F '#{pane_pid}')

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null; }

echo "soak: benchtop (pid $pid) for $minutes min, RSS every 10 s → $out/rss.tsv"
printf 't_s\trss_kb\n' >"$out/rss.tsv"
start=$(date +%s)
end=$((start + minutes * 60))
next=$start
while :; do
	now=$(date +%s)
	[ "$now" -gt "$end" ] && break
	if [ "$now" -ge "$next" ]; then
		kb=$(rss_kb)
		[ -n "$kb" ] || { echo "soak: benchtop died after $((now - start)) s:" >&2; cat "$out/stderr.txt" >&2; exit 1; }
		printf '%d\t%d\n' $((now - start)) "$kb" >>"$out/rss.tsv"
		next=$((next + 10))
	fi
	sleep 1
done
tmux capture-pane -p -t "$session" >"$out/screen.txt"

# The sample nearest each minute mark.
at() {
	awk -v t=$(($1 * 60)) 'NR > 1 { d = $1 - t; if (d < 0) d = -d; if (best == "" || d < bd) { best = $2; bd = d } }
		END { if (best == "") print 0; else print best }' "$out/rss.tsv"
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
marks=(5 10 20 30)
if [ "$minutes" -lt 30 ]; then marks=(1); [ "$minutes" -gt 1 ] && marks+=("$minutes"); fi
line="soak: RSS (MiB)"
for m in "${marks[@]}"; do line+=" at minute $m: $(mib "$(at "$m")");"; done
first=$(at "${marks[0]}")
last=$(at "$minutes")
ratio=$(awk -v a="$first" -v b="$last" 'BEGIN { if (a > 0) printf "%.3f", b / a; else print "n/a" }')
echo "$line minute $minutes / minute ${marks[0]}: $ratio"

tmux send-keys -t "$session" q
for _ in $(seq 1 60); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 1
done
if kill -0 "$pid" 2>/dev/null; then
	echo "soak: benchtop did not quit within 60 s of q" >&2
	exit 1
fi
ls "$out"/benchtop-snapshot-*.json >/dev/null 2>&1 || { echo "soak: no snapshot written on q" >&2; exit 1; }
awk -v r="$ratio" -v m="$max_ratio" 'BEGIN { exit !(r == "n/a" || r + 0 <= m + 0) }' ||
	{ echo "soak: RSS grew ${ratio}× (more than ${max_ratio}×)" >&2; exit 1; }
echo "soak: ok ($out)"
