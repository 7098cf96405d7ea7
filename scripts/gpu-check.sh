#!/usr/bin/env bash
# gpu-check.sh: the one prepared script for a lent GPU (H100/H200; 15 minutes of device time in
# all; this script takes under 8: its stages' time limits add up to 470 s). The GPU machine has no Node.js, so the developer machine packs
# what it needs first (scripts/gpu-bundle.mjs: node, the bundled CLI, the addon and op checker
# built there for sm_80 + sm_90a):
#   pnpm build && node scripts/gpu-bundle.mjs
#   device run --carry .gpu --timeout 540 'bash scripts/gpu-check.sh'
# Stages, each with its own time limit, all output under $OUT, a compact table printed last:
#  1. every op's CUDA variants against the CPU backend on fresh random inputs (outputs poisoned,
#     relative-norm errors with per-dtype thresholds), timed (mae_op_check)
#  2. compute-sanitizer memcheck + racecheck over the op suite's small cases
#  3. compute-sanitizer memcheck over a small whole training step (eager, then captured + replayed)
#  4. 100 steps of mae_tiny_28 on CUDA (CUDA graph) and on the CPU from the same weights, images
#     and noise; the loss curves compared: f32 on both (tol 1e-2), then the bf16 plan (tol 5e-2)
#  5. the step of mae_vit_base_patch16 timed at batch 64 and 256 (ms, images/s, peak memory)
#  6. NCCL with a world of 1 (one GPU cannot host two ranks): the C check (mae_nccl_check), then a
#     short data-parallel pretrain as a worker of a world of 1 (NCCL all-reduce inside the graph)
# Without .gpu/ (carry packages/native/generated instead) the op checker is built there with CMake
# (a few minutes) and stages 3-6 are skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
name=gpu-check
# shellcheck source=scripts/gpu-env.sh
. scripts/gpu-env.sh
status() { [ "$1" = 0 ] && echo ok || { [ "$1" = skip ] && echo skipped || echo "FAIL (exit $1)"; }; }

{ nvidia-smi; nvcc --version; date -u; } >"$OUT/machine.txt" 2>&1

if [ -x /tmp/mae-gpu/mae_op_check ]; then
  bin=/tmp/mae-gpu/mae_op_check
else
  if [ ! -f packages/native/generated/op_check.cpp ]; then
    echo "gpu-check: neither .gpu/ nor packages/native/generated is here: run 'pnpm codegen' (and scripts/gpu-bundle.mjs) and carry them" >&2
    exit 2
  fi
  log "no .gpu/mae_op_check: configure + build (sm_80, sm_90a)"
  cmake -S . -B build/gpu-check -G Ninja -DCMAKE_BUILD_TYPE=Release -DMAE_CUDA=ON -DMAE_PTXAS_VERBOSE=ON \
    -DMAE_BUILD_NODE_ADDON=OFF >"$OUT/configure.log" 2>&1 || { tail -30 "$OUT/configure.log"; exit 1; }
  cmake --build build/gpu-check --target mae_op_check -j 16 >"$OUT/build.log" 2>&1 || { grep -m 20 -i error "$OUT/build.log"; exit 1; }
  bin=build/gpu-check/mae_op_check
fi

log "1. op suite on cuda:0 against the CPU backend"
timeout 100 "$bin" --device cuda:0 --reps 20 --json "$OUT/op_check.jsonl" >"$OUT/op_check.txt" 2>&1
suite=$?
log "2. compute-sanitizer memcheck + racecheck on the op suite's small cases"
timeout 50 compute-sanitizer --tool memcheck --error-exitcode 9 "$bin" --device cuda:0 --small --reps 0 >"$OUT/memcheck.txt" 2>&1
mem=$?
timeout 40 compute-sanitizer --tool racecheck --error-exitcode 9 "$bin" --device cuda:0 --small --reps 0 >"$OUT/racecheck.txt" 2>&1
race=$?

step=skip curves=skip timing=skip nccl=skip
if [ -n "$node" ]; then
  log "3. compute-sanitizer memcheck over a small training step"
  timeout 50 compute-sanitizer --tool memcheck --error-exitcode 9 "$node" .gpu/mae-cuda.mjs check-step --run \
    --device cuda --model mae_tiny_28 --batch 4 --steps 3 >"$OUT/step_memcheck.txt" 2>&1
  step=$?
  log "4. 100 steps of mae_tiny_28, CUDA graph vs CPU"
  timeout 45 "$node" .gpu/mae-cuda.mjs check-step --device cuda --precision f32 --compare cpu --tol 1e-2 --model mae_tiny_28 \
    --batch 32 --steps 100 --json "$OUT/curves_f32.json" >"$OUT/curves.txt" 2>&1
  curves=$?
  timeout 45 "$node" .gpu/mae-cuda.mjs check-step --device cuda --precision bf16 --compare cpu --tol 5e-2 --model mae_tiny_28 \
    --batch 32 --steps 100 --json "$OUT/curves_bf16.json" >>"$OUT/curves.txt" 2>&1
  [ $? = 0 ] || [ $curves != 0 ] || curves=1
  log "5. mae_vit_base_patch16 step timing (bf16 plan, CUDA graph), batch 64 and 256"
  timeout 80 "$node" .gpu/mae-cuda.mjs check-step --device cuda --precision bf16 --model mae_vit_base_patch16 --time --batch 64,256 --steps 10 \
    --json "$OUT/timing.json" >"$OUT/timing.txt" 2>&1
  timing=$?
  log "6. NCCL, world of 1"
  nccl_lib=$(python3 -c "import nvidia.nccl as m, os; print(os.path.join(list(m.__path__)[0], 'lib', 'libnccl.so.2'))" 2>/dev/null)
  export MAE_NCCL_PATH=${nccl_lib:-libnccl.so.2}
  timeout 20 /tmp/mae-gpu/mae_nccl_check "$MAE_NCCL_PATH" >"$OUT/nccl.txt" 2>&1
  nccl=$?
  RANK=0 LOCAL_RANK=0 WORLD_SIZE=1 MASTER_PORT=29531 timeout 40 "$node" .gpu/mae-cuda.mjs pretrain --device cuda --data .gpu/digits \
    --limit 512 --steps 30 --batch-size 32 --preview 0 --output-dir "$OUT/ddp1" >>"$OUT/nccl.txt" 2>&1
  [ $? = 0 ] || [ $nccl != 0 ] || nccl=1
fi

echo
echo "== op failures =="
grep -E "^FAIL" "$OUT/op_check.txt" | head -40 || true
echo "== op timings at ViT-B shapes (us) =="
grep -E "M=3200|A=64|BT=768" "$OUT/op_check.txt" | cut -c1-110 | head -40
for f in step_memcheck curves timing nccl; do
  [ -f "$OUT/$f.txt" ] && { echo "== $f =="; tail -8 "$OUT/$f.txt"; }
done
echo "== summary =="
echo "gpu: ${gpu:-none}   date: $(date -u +%F)   seconds: $(($(date +%s) - t0))"
tail -1 "$OUT/op_check.txt"
echo "op suite: $(status $suite)   memcheck: $(status $mem)   racecheck: $(status $race)"
echo "step memcheck: $(status $step)   loss curves: $(status $curves)   timing: $(status $timing)   nccl: $(status $nccl)"
bad=0
for s in $suite $mem $race $step $curves $timing $nccl; do [ "$s" = 0 ] || [ "$s" = skip ] || bad=1; done
exit $bad
