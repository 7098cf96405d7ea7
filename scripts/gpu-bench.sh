#!/usr/bin/env bash
# gpu-bench.sh: the GPU comparison of issue #7 on a lent H100/H200, in one call (about 6 minutes
# at today's kernel speed; each stage has its own time limit, 515 s in all). Same bundle as
# gpu-check.sh:
#   pnpm build && node scripts/gpu-bundle.mjs
#   device run --carry .gpu --timeout 540 'bash scripts/gpu-bench.sh'
# Stages, output under $OUT (the *.md files are the Markdown that goes into docs/PERFORMANCE.md):
#  1. the card's measured dense bf16 matrix rate (bench/pytorch/matmul_peak.py, cuBLAS through
#     PyTorch): the denominator of the MFU and of the step's arithmetic floor; and the names of the
#     cuBLAS kernels (tile, cluster): with the rate, a floor under the L2 rate the model assumes
#  2. mae-cuda bench on cuda, bf16, CUDA graph: mae_vit_base_patch16 at batch 256, 10 steps, with
#     the PyTorch reference (bf16 autocast, SDPA, fused AdamW) eager and torch.compile'd run right
#     after ours, and the kernel-class breakdown
#  3. mae_vit_base_patch16 at batch 256 with the GEMMs on the mma.sync kernels (MAE_CUDA_GEMM=mma),
#     ours only: what the sm_90a wgmma kernels (gemm_wgmma.cuh) gain over them
#  4. mae_vit_large_patch16 at batch 64 and 256 against eager, with the kernel classes
#  5. mae_vit_base_patch16 at batch 256 with the wgmma GEMMs in clusters of 1 and of 4 CTAs along m
#     (MAE_WG_CLUSTER; stage 2 runs the default, 2) and of 4 x 2 (MAE_WG_CLUSTER_N=2: A's tiles
#     shared along n too), ours only: how much sharing tiles through multicast TMA gains, i.e. how
#     L2-bound the GEMMs are (the kernel report's model says 58.5, 44.7, 38.3 and 34.9 ms a step for
#     1, 2, 4 and 4 x 2: docs/PERFORMANCE.md); and with the GEMMs not persistent
#     (MAE_WG_PERSISTENT=0, a block per tile): what overlapping a tile's epilogue with the next
#     tile's loads gains, which the model cannot see (it says 44.7 ms either way)
set -uo pipefail
cd "$(dirname "$0")/.."
name=gpu-bench
# shellcheck source=scripts/gpu-env.sh
. scripts/gpu-env.sh
[ -n "$node" ] || { echo "gpu-bench: no .gpu/ bundle here: run 'pnpm build && node scripts/gpu-bundle.mjs' and carry .gpu" >&2; exit 2; }
{ nvidia-smi; date -u; python3 -c "import torch; print('torch', torch.__version__)"; } >"$OUT/machine.txt" 2>&1

log "1. measured bf16 matrix rate"
timeout 25 python3 bench/pytorch/matmul_peak.py --json "$OUT/matmul.json" >"$OUT/matmul.txt" 2>&1
peak=$(python3 -c "import json; print(round(json.load(open('$OUT/matmul.json'))['best_tflops'], 1))" 2>/dev/null)
cat "$OUT/matmul.txt"
peak_args=()
[ -n "$peak" ] && peak_args=(--peak-tflops "$peak")

# ours with the GEMMs on the wgmma kernels (stages 2 and 4), and on the mma.sync ones (stage 3)
export MAE_CUDA_GEMM=wgmma
common=(--device cuda --precision bf16 --warmup 3 "${peak_args[@]}" --pytorch python3 --pytorch-script bench/pytorch/mae_step.py --markdown true)
log "2. ViT-B batch 256: ours, PyTorch eager and torch.compile (compiling takes a minute)"
timeout 150 "$node" .gpu/mae-cuda.mjs bench "${common[@]}" --model mae_vit_base_patch16 --batch 256 --steps 10 \
  --pytorch-compile both --json "$OUT/bench_base.json" >"$OUT/bench_base.md" 2>"$OUT/bench_base.err"
base=$?
log "3. ViT-B batch 256 on the mma.sync GEMMs (MAE_CUDA_GEMM=mma), ours only"
MAE_CUDA_GEMM=mma timeout 60 "$node" .gpu/mae-cuda.mjs bench --device cuda --precision bf16 --warmup 3 "${peak_args[@]}" \
  --markdown true --model mae_vit_base_patch16 --batch 256 --steps 10 --profile-steps 1 \
  --json "$OUT/bench_base_mma.json" >"$OUT/bench_base_mma.md" 2>"$OUT/bench_base_mma.err"
b64=$?
log "4. ViT-L, batch 64 and 256, ours vs PyTorch eager"
timeout 120 "$node" .gpu/mae-cuda.mjs bench "${common[@]}" --model mae_vit_large_patch16 --batch 64,256 --steps 10 --profile-steps 1 \
  --json "$OUT/bench_large.json" >"$OUT/bench_large.md" 2>"$OUT/bench_large.err"
large=$?
log "5. ViT-B batch 256, the wgmma GEMMs in clusters of 1, 4 and 4 x 2 CTAs, and not persistent, ours only"
cl=0
for v in cl1:MAE_WG_CLUSTER=1 cl4:MAE_WG_CLUSTER=4 cl4x2:MAE_WG_CLUSTER=4,MAE_WG_CLUSTER_N=2 np:MAE_WG_PERSISTENT=0; do
  vars=${v#*:}
  # shellcheck disable=SC2086
  env ${vars//,/ } timeout 40 "$node" .gpu/mae-cuda.mjs bench --device cuda --precision bf16 --warmup 3 "${peak_args[@]}" \
    --markdown true --model mae_vit_base_patch16 --batch 256 --steps 10 --profile-steps 1 \
    --json "$OUT/bench_base_${v%%:*}.json" >"$OUT/bench_base_${v%%:*}.md" 2>"$OUT/bench_base_${v%%:*}.err" || cl=$?
done

for f in bench_base bench_base_mma bench_large bench_base_cl1 bench_base_cl4 bench_base_cl4x2 bench_base_np; do
  echo "== $f =="
  cat "$OUT/$f.md"
  tail -5 "$OUT/$f.err"
done
echo "== summary =="
echo "gpu: ${gpu:-none}   date: $(date -u +%F)   seconds: $(($(date +%s) - t0))   measured bf16 peak: ${peak:-?} TFLOP/s"
st() { [ "$1" = 0 ] && echo ok || echo "FAIL (exit $1)"; }
echo "ViT-B 256 (eager, compile): $(st $base)   ViT-B 256 mma.sync: $(st $b64)   ViT-L: $(st $large)   clusters 1, 4, 4 x 2, not persistent: $(st $cl)"
[ $base = 0 ] && [ $large = 0 ] && [ $b64 = 0 ] && [ $cl = 0 ]
