#!/usr/bin/env bash
# gpu-check.sh: the one prepared script for a lent GPU (H100/H200; 15 minutes of device time in
# all). It needs no Node.js: it builds the C ABI library and the generated op_check program with
# CMake for sm_80 + sm_90a, runs every op's CUDA variants against the CPU backend on fresh random
# inputs (outputs poisoned, relative-norm errors with per-dtype thresholds) and times them, runs
# compute-sanitizer (memcheck, racecheck) over the small cases, and writes everything under $OUT,
# printing a compact table last.
#
# From the developer machine (the generated sources are not committed: run `pnpm codegen` first
# and carry them):
#   device run --carry packages/native/generated --timeout 480 'bash scripts/gpu-check.sh'
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-check-out}
mkdir -p "$OUT"
t0=$(date +%s)
log() { echo "[gpu-check +$(($(date +%s) - t0))s] $*"; }

if [ ! -f packages/native/generated/op_check.cpp ]; then
  echo "gpu-check: packages/native/generated is missing: run 'pnpm codegen' and carry that folder" >&2
  exit 2
fi
{ nvidia-smi; nvcc --version; cmake --version | head -1; date -u; } >"$OUT/machine.txt" 2>&1
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
log "GPU: ${gpu:-none}"

log "configure + build (sm_80, sm_90a; -Xptxas -v)"
cmake -S . -B build/gpu-check -G Ninja -DCMAKE_BUILD_TYPE=Release -DMAE_CUDA=ON -DMAE_PTXAS_VERBOSE=ON \
  -DMAE_BUILD_NODE_ADDON=OFF -DMAE_BUILD_EXAMPLES=ON >"$OUT/configure.log" 2>&1 || { tail -30 "$OUT/configure.log"; exit 1; }
cmake --build build/gpu-check --target mae_op_check -j 16 >"$OUT/build.log" 2>&1 || { grep -m 20 -i error "$OUT/build.log"; exit 1; }
grep -E "Compiling entry|registers|spill" "$OUT/build.log" >"$OUT/ptxas.txt" || true
log "build done"

bin=build/gpu-check/mae_op_check
log "op suite on cuda:0 against the CPU backend"
timeout 300 "$bin" --device cuda:0 --reps 20 --json "$OUT/op_check.jsonl" >"$OUT/op_check.txt" 2>&1
suite=$?
log "op suite exit $suite"

log "compute-sanitizer memcheck + racecheck on the small cases"
timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 "$bin" --device cuda:0 --small --reps 0 \
  >"$OUT/memcheck.txt" 2>&1
mem=$?
timeout 120 compute-sanitizer --tool racecheck --error-exitcode 9 "$bin" --device cuda:0 --small --reps 0 \
  >"$OUT/racecheck.txt" 2>&1
race=$?
log "memcheck exit $mem, racecheck exit $race"

echo
echo "== failures =="
grep -E "^FAIL" "$OUT/op_check.txt" | head -40 || true
echo "== timings of the ViT-B shapes (us) =="
grep -E "M=3200|A=64|BT=768" "$OUT/op_check.txt" | cut -c1-110 | head -60
echo "== summary =="
echo "gpu: ${gpu:-none}   date: $(date -u +%F)"
tail -1 "$OUT/op_check.txt"
echo "memcheck: $([ $mem = 0 ] && echo clean || echo "exit $mem (see memcheck.txt)")   racecheck: $([ $race = 0 ] && echo clean || echo "exit $race (see racecheck.txt)")"
exit $((suite != 0 || mem != 0 || race != 0))
