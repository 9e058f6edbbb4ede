#!/usr/bin/env bash
# Drives the real benchtop binary in tmux, as a person would: start the
# dashboard, switch workload, lower the batch size, open help, export a
# snapshot, quit; then reopen the snapshot with `benchtop view`. Fails when a
# screen lacks what it should show. The README's demo check.
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
t send-keys -t demo 2;   expect "workload latency" 10
t send-keys -t demo -;   expect "max_num_seqs 100" 10
t send-keys -t demo '?'; expect "Metrics" 5
t send-keys -t demo '?'
t send-keys -t demo s;   expect "snapshot written" 20
echo "== after keys"; screen | sed -n '1,2p;29,36p'
t send-keys -t demo q
sleep 1
snap=$(ls "$dir"/benchtop-snapshot-*.json | head -1)
[ -n "$snap" ] || { echo "demo: no snapshot written" >&2; exit 1; }
t kill-session -t demo
t new-session -d -s demo -x 120 -y 36 "$bin view $snap; sleep 30"
expect "● snapshot" 10
expect "workload=latency" 10
echo "== view"; screen | head -3
t send-keys -t demo q
echo "demo: ok ($(ls "$dir" | grep -c snapshot) snapshot files)"
