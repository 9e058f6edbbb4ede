#!/usr/bin/env bash
# Drives the real benchtop binary in tmux, as a person would: start the
# dashboard, switch workload, lower the batch size (the batch chart must
# stay at or under 100%), open and close help, export a snapshot, quit
# (timed: over a second fails); then reopen the snapshot with `benchtop
# view`. Fails when a screen lacks what it should show. The README's demo
# check.
#
#   scripts/demo_tmux.sh [path/to/benchtop] [extra flags, e.g. --model tiny]
set -euo pipefail
bin=${1:-bin/benchtop}
shift || true
flags=("$@")
[ ${#flags[@]} -eq 0 ] && flags=(--model tiny)
command -v tmux >/dev/null || { echo "demo: tmux is not installed" >&2; exit 1; }
[ -x "$bin" ] || { echo "demo: no binary at $bin (go build -o bin/benchtop .)" >&2; exit 1; }
dir=$(mktemp -d)
sock=benchtop-demo-$$
trap 'tmux -L $sock kill-server 2>/dev/null || true; rm -rf "$dir"' EXIT
t() { tmux -L "$sock" "$@"; }
screen() { t capture-pane -p -t demo; }
expect() { # expect TEXT TIMEOUT_S: wait until the screen shows TEXT
  for _ in $(seq 1 $((${2:-10} * 5))); do screen | grep -qF -- "$1" && return 0; sleep 0.2; done
  echo "demo: the screen never showed '$1'; it shows:" >&2; screen >&2; exit 1
}
t new-session -d -s demo -x 120 -y 36 "$bin ${flags[*]} --snapshot-dir $dir 2>$dir/stderr.txt; sleep 30"
expect "● running" 60
expect "out tok/s" 20
echo "== live"; screen | head -4
# The batch size steps down through 256, 100, 50, 20, 10, 5, 1 from the one
# in force (auto on the CPU).
seqs() { screen | grep -o 'max_num_seqs [0-9]*' | head -1 | awk '{print $2}'; }
lower() { # the step below $1
  local prev=1
  for s in 1 5 10 20 50 100 256; do [ "$s" -ge "$1" ] && break; prev=$s; done
  echo "$prev"
}
batch_ok() { # the batch chart's current value and maximum are at most 100%
  local title
  title=$(screen | grep -o 'Batch [0-9]*/[0-9]* [0-9]*% ▼[0-9]*% ▲[0-9]*%' | head -1)
  [ -n "$title" ] || { echo "demo: no batch chart on the screen:" >&2; screen >&2; exit 1; }
  local cur hi
  cur=$(echo "$title" | awk '{print $3}' | tr -d %)
  hi=$(echo "$title" | awk '{print $5}' | tr -d '▲%')
  if [ "$cur" -gt 100 ] || [ "$hi" -gt 100 ]; then
    echo "demo: the batch chart reads over 100%: $title" >&2; exit 1
  fi
  echo "demo: $title"
}
t send-keys -t demo 1;   expect "workload throughput" 10
for _ in 1 2; do
  want=$(lower "$(seqs)")
  t send-keys -t demo -; expect "max_num_seqs $want" 20
done
sleep 3; batch_ok
t send-keys -t demo 2;   expect "workload latency" 10
t send-keys -t demo '?'; expect "Metrics" 5
t send-keys -t demo Escape
sleep 0.5 # a lone Esc: a key right after it would read as Alt+key
t send-keys -t demo s;   expect "wrote " 20
echo "== after keys"; screen | sed -n '1,2p;27,36p'
batch_ok
t0=$(date +%s%N)
t send-keys -t demo q
while screen | grep -qF "benchtop "; do
  if [ $(( ($(date +%s%N) - t0) / 1000000 )) -gt 5000 ]; then break; fi
  sleep 0.02
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "demo: q gave the screen back in ${ms} ms"
[ "$ms" -le 1000 ] || { echo "demo: q took ${ms} ms (over a second)" >&2; exit 1; }
for _ in $(seq 1 100); do ls "$dir"/benchtop-snapshot-*.json >/dev/null 2>&1 && break; sleep 0.1; done
snap=$(ls "$dir"/benchtop-snapshot-*.json | head -1)
[ -n "$snap" ] || { echo "demo: no snapshot written" >&2; exit 1; }
t kill-session -t demo
t new-session -d -s demo -x 120 -y 36 "$bin view $snap; sleep 30"
expect "● snapshot" 10
expect "workload=latency" 10
echo "== view"; screen | head -3
t send-keys -t demo q
echo "demo: ok ($(ls "$dir" | grep -c snapshot) snapshot files)"
