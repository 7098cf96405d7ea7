#!/usr/bin/env bash
# contention-bench.sh: the default pretraining run (`mae-cuda pretrain --steps 48`, one epoch of
# mae_tiny_28 on the CPU) on a quiet machine and with BUSY processes competing for the cores (each
# a shell loop that never sleeps), under each OpenMP wait policy: `default` (nothing set: mae-cuda's
# passive after 30000 spins), `passive` (no spin), `active` (spin). Prints a Markdown table of the
# epoch's images/s (the median of RUNS runs) and each busy figure as a share of the quiet one.
# Run it with nothing else running (no build, test or other job):
#   bash scripts/contention-bench.sh            # RUNS=5 BUSY=2 POLICIES="default passive active"
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
busy=${BUSY:-2}
policies=${POLICIES:-default passive active}
out=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$out"
}
trap cleanup EXIT

# images/s of one run's epoch line ("epoch 0: step 48, loss ..., 1503 img/s, 2.0 s")
one_run() {
  local policy=(OMP_WAIT_POLICY="$1")
  [ "$1" = default ] && policy=()
  env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "${policy[@]}" node packages/cli/bin/mae-cuda.js pretrain --steps 48 --preview 0 --eval none \
    --output-dir "$out/run" --overwrite 2>/dev/null | sed -n 's/^epoch 0.* \([0-9]*\) img\/s.*/\1/p'
}
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
measure() { for _ in $(seq "$runs"); do one_run "$1"; done | median; }
start_busy() { for _ in $(seq "$busy"); do (while :; do :; done) & pids+=($!); done; }
stop_busy() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; pids=(); }

echo "machine: $(nproc) cores, $(node -p 'require("os").cpus()[0].model'); $(date -u +%F)"
echo
echo "| OMP_WAIT_POLICY | quiet img/s | with $busy busy processes img/s | share of quiet |"
echo "| --- | --- | --- | --- |"
for policy in $policies; do
  quiet=$(measure "$policy")
  start_busy
  loaded=$(measure "$policy")
  stop_busy
  echo "| $policy | $quiet | $loaded | $(awk -v a="$loaded" -v b="$quiet" 'BEGIN {printf "%.0f%%", 100 * a / b}') |"
done
