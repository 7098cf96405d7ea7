#!/usr/bin/env bash
# gpu-check.sh: the one prepared script for a lent GPU (H100/H200; 15 minutes of device time in
# all; this script takes under 7.5: its stages' time limits add up to 445 s; 2026-11-30 on an H200
# it took 245 s, in two calls). The GPU machine has no Node.js, so the developer machine packs
# what it needs first (scripts/gpu-bundle.mjs: node, the bundled CLI, the addon and op checker
# built there for sm_80 + sm_90a):
#   pnpm build && node scripts/gpu-bundle.mjs
#   device run --carry .gpu --timeout 450 'bash scripts/gpu-check.sh'
# Stages, each with its own time limit, all output under $OUT, a compact table printed last:
#  1. every op's CUDA variants against the CPU backend on fresh random inputs (outputs poisoned,
#     relative-norm errors with per-dtype thresholds), timed (mae_op_check)
#  2. compute-sanitizer memcheck, racecheck and synccheck over the op suite's small cases
#  3. the same three over a small whole training step of mae_tiny_32_h64 (eager, then captured
#     and replayed): its 64-wide heads run the tensor-core flash attention
#  4. 100 steps of mae_tiny_32_h64 at batch 256 on CUDA (CUDA graph) and on the CPU from the same
#     weights, images and noise; the loss curves compared: f32 on both (tol 1e-2), then the bf16
#     plan (tol 5e-2). At that batch its GEMMs take both tensor-core tiles on a 132-SM card (the
#     128x128 tile needs two waves of blocks), and the attention runs the head-size-64 kernels
#  5. the step of mae_vit_base_patch16 timed at batch 64 and 256 (ms, images/s, peak memory)
#  6. NCCL with a world of 1 (one GPU cannot host two ranks): the C check (mae_nccl_check), then a
#     short data-parallel pretrain as a worker of a world of 1 (NCCL all-reduce inside the graph)
# Every stage runs with MAE_CUDA_GEMM=wgmma: the GEMMs on the sm_90a wgmma kernels (gemm_wgmma.cuh),
# which `auto` takes on a real GPU only once they have passed here (MAE_WGMMA_VERIFIED_ON_GPU in
# hopper_host.cuh); stage 1 also runs the GEMM ops' small cases on the mma.sync kernels.
# Without .gpu/ (carry packages/native/generated instead) the op checker is built there with CMake
# (a few minutes) and stages 3-6 are skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
name=gpu-check
# shellcheck source=scripts/gpu-env.sh
. scripts/gpu-env.sh
status() {
  case "$1" in 0) echo ok ;; skip) echo skipped ;; 124) echo "TIMED OUT" ;; *) echo "FAIL (exit $1)" ;; esac
}
# sanitize TOOL LIMIT FILE CMD...: one compute-sanitizer tool over CMD, its report in $OUT/FILE
sanitize() {
  local tool=$1 limit=$2 file=$3
  shift 3
  timeout "$limit" compute-sanitizer --tool "$tool" --error-exitcode 9 "$@" >"$OUT/$file" 2>&1
}
# worst: the first failing status of its arguments (0 when all passed)
worst() { for s in "$@"; do [ "$s" = 0 ] || { echo "$s"; return; }; done; echo 0; }
step_model=(--model mae_tiny_32_h64)
export MAE_CUDA_GEMM=wgmma
gemm_ops=matmul_nn,matmul_nt,matmul_tn,matmul_tt,linear_forward,linear_gelu_forward,linear_residual_forward

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

suite=skip mem=skip race=skip sync=skip
# GPU_CHECK_OPS=0 skips stages 1-2 (a rerun of the whole-step stages after they were run)
if [ "${GPU_CHECK_OPS:-1}" != 0 ]; then
  log "1. op suite on cuda:0 against the CPU backend"
  timeout 70 "$bin" --device cuda:0 --reps 5 --json "$OUT/op_check.jsonl" >"$OUT/op_check.txt" 2>&1
  suite=$?
  MAE_CUDA_GEMM=mma timeout 15 "$bin" --device cuda:0 --small --reps 0 --only "$gemm_ops" >"$OUT/op_check_mma.txt" 2>&1
  suite=$(worst "$suite" $?)
  log "2. compute-sanitizer memcheck, racecheck, synccheck on the op suite's small cases"
  sanitize memcheck 45 memcheck.txt "$bin" --device cuda:0 --small --reps 0 --json "$OUT/op_check_small.jsonl"
  mem=$?
  sanitize racecheck 35 racecheck.txt "$bin" --device cuda:0 --small --reps 0
  race=$?
  sanitize synccheck 20 synccheck.txt "$bin" --device cuda:0 --small --reps 0
  sync=$?
fi

step=skip curves=skip timing=skip nccl=skip
if [ -n "$node" ]; then
  log "3. compute-sanitizer memcheck, racecheck, synccheck over a small training step"
  small_step=("$node" .gpu/mae-cuda.mjs check-step --run --device cuda "${step_model[@]}" --batch 4 --steps 2)
  sanitize memcheck 25 step_memcheck.txt "${small_step[@]}"
  s1=$?
  sanitize racecheck 25 step_racecheck.txt "${small_step[@]}"
  s2=$?
  sanitize synccheck 20 step_synccheck.txt "${small_step[@]}"
  step=$(worst $s1 $s2 $?)
  log "4. 100 steps of mae_tiny_32_h64 at batch 256, CUDA graph vs CPU"
  timeout 40 "$node" .gpu/mae-cuda.mjs check-step --device cuda --precision f32 --compare cpu --tol 1e-2 "${step_model[@]}" \
    --batch 256 --steps 100 --json "$OUT/curves_f32.json" >"$OUT/curves.txt" 2>&1
  c1=$?
  timeout 40 "$node" .gpu/mae-cuda.mjs check-step --device cuda --precision bf16 --compare cpu --tol 5e-2 "${step_model[@]}" \
    --batch 256 --steps 100 --json "$OUT/curves_bf16.json" >>"$OUT/curves.txt" 2>&1
  curves=$(worst $c1 $?)
  log "5. mae_vit_base_patch16 step timing (bf16 plan, CUDA graph), batch 64 and 256"
  timeout 60 "$node" .gpu/mae-cuda.mjs check-step --device cuda --precision bf16 --model mae_vit_base_patch16 --time --batch 64,256 --steps 5 \
    --json "$OUT/timing.json" >"$OUT/timing.txt" 2>&1
  timing=$?
  log "6. NCCL, world of 1"
  # PyTorch's NCCL wheel (nvidia/nccl/lib, or nvidia/cu13/lib in the CUDA 13 wheels' layout)
  nccl_lib=$(python3 -c "import glob, nvidia, os; print(next((p for d in nvidia.__path__ for p in sorted(glob.glob(os.path.join(d, '**', 'libnccl.so.2'), recursive=True))), ''))" 2>/dev/null)
  export MAE_NCCL_PATH=${nccl_lib:-libnccl.so.2}
  timeout 15 /tmp/mae-gpu/mae_nccl_check "$MAE_NCCL_PATH" >"$OUT/nccl.txt" 2>&1
  nccl=$?
  RANK=0 LOCAL_RANK=0 WORLD_SIZE=1 MASTER_PORT=29531 timeout 35 "$node" .gpu/mae-cuda.mjs pretrain --device cuda --data .gpu/digits \
    --limit 512 --steps 30 --batch-size 32 --preview 0 --eval none --output-dir "$OUT/ddp1" >>"$OUT/nccl.txt" 2>&1
  [ $? = 0 ] || [ $nccl != 0 ] || nccl=1
fi

echo
echo "== op failures =="
grep -E "^FAIL" "$OUT/op_check.txt" | head -40 || true
echo "== op timings at ViT-B shapes (us) =="
grep -E "M=3200|A=64|BT=768" "$OUT/op_check.txt" | cut -c1-110 | head -40
echo "== sanitizers =="
for f in memcheck racecheck synccheck step_memcheck step_racecheck step_synccheck; do
  [ -f "$OUT/$f.txt" ] && echo "$f: $(grep -m1 -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$OUT/$f.txt" || tail -1 "$OUT/$f.txt")"
done
for f in curves timing nccl; do
  [ -f "$OUT/$f.txt" ] && { echo "== $f =="; tail -8 "$OUT/$f.txt"; }
done
echo "== summary =="
echo "gpu: ${gpu:-none}   date: $(date -u +%F)   seconds: $(($(date +%s) - t0))"
tail -1 "$OUT/op_check.txt"
echo "op suite: $(status $suite)   memcheck: $(status $mem)   racecheck: $(status $race)   synccheck: $(status $sync)"
echo "step sanitizers: $(status $step)   loss curves: $(status $curves)   timing: $(status $timing)   nccl: $(status $nccl)"
bad=0
for s in $suite $mem $race $sync $step $curves $timing $nccl; do [ "$s" = 0 ] || [ "$s" = skip ] || bad=1; done
exit $bad
