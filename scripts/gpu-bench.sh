#!/usr/bin/env bash
# gpu-bench.sh: the GPU comparison of issue #7 on a lent H100/H200, in one call (about 5 minutes;
# each stage has its own time limit, 400 s in all). Same bundle as gpu-check.sh:
#   pnpm build && node scripts/gpu-bundle.mjs
#   device run --carry .gpu --timeout 450 'bash scripts/gpu-bench.sh'
# Stages, output under $OUT (the *.md files are the Markdown that goes into docs/PERFORMANCE.md):
#  1. the card's measured dense bf16 matrix rate (bench/pytorch/matmul_peak.py, cuBLAS through
#     PyTorch): the denominator of the MFU and of the step's arithmetic floor
#  2. mae-cuda bench on cuda, bf16, CUDA graph: mae_vit_base_patch16 at batch 64 and 256, 2 runs
#     of 20 steps each, with the PyTorch reference (bf16 autocast, SDPA, eager) run right after
#     each of ours, and the kernel-class breakdown
#  3. the same for mae_vit_large_patch16 (1 run of 15 steps each)
#  4. mae_vit_base_patch16 at batch 256 against torch.compile as well (compiling takes a minute)
set -uo pipefail
cd "$(dirname "$0")/.."
name=gpu-bench
# shellcheck source=scripts/gpu-env.sh
. scripts/gpu-env.sh
[ -n "$node" ] || { echo "gpu-bench: no .gpu/ bundle here: run 'pnpm build && node scripts/gpu-bundle.mjs' and carry .gpu" >&2; exit 2; }
{ nvidia-smi; date -u; python3 -c "import torch; print('torch', torch.__version__)"; } >"$OUT/machine.txt" 2>&1

log "1. measured bf16 matrix rate"
timeout 40 python3 bench/pytorch/matmul_peak.py --json "$OUT/matmul.json" >"$OUT/matmul.txt" 2>&1
peak=$(python3 -c "import json; print(round(json.load(open('$OUT/matmul.json'))['best_tflops'], 1))" 2>/dev/null)
cat "$OUT/matmul.txt"
peak_args=()
[ -n "$peak" ] && peak_args=(--peak-tflops "$peak")

common=(--device cuda --precision bf16 --warmup 3 "${peak_args[@]}" --pytorch python3 --pytorch-script bench/pytorch/mae_step.py --markdown true)
log "2. ViT-B, batch 64 and 256, ours vs PyTorch eager (2 runs each)"
timeout 120 "$node" .gpu/mae-cuda.mjs bench "${common[@]}" --model mae_vit_base_patch16 --batch 64,256 --steps 20 --repeat 2 \
  --json "$OUT/bench_base.json" >"$OUT/bench_base.md" 2>"$OUT/bench_base.err"
base=$?
log "3. ViT-L, batch 64 and 256, ours vs PyTorch eager"
timeout 120 "$node" .gpu/mae-cuda.mjs bench "${common[@]}" --model mae_vit_large_patch16 --batch 64,256 --steps 15 --profile-steps 1 \
  --json "$OUT/bench_large.json" >"$OUT/bench_large.md" 2>"$OUT/bench_large.err"
large=$?
log "4. ViT-B batch 256 vs torch.compile too"
timeout 120 "$node" .gpu/mae-cuda.mjs bench "${common[@]}" --model mae_vit_base_patch16 --batch 256 --steps 20 --profile-steps 0 \
  --pytorch-compile both --json "$OUT/bench_compile.json" >"$OUT/bench_compile.md" 2>"$OUT/bench_compile.err"
comp=$?

for f in bench_base bench_large bench_compile; do
  echo "== $f =="
  cat "$OUT/$f.md"
  tail -5 "$OUT/$f.err"
done
echo "== summary =="
echo "gpu: ${gpu:-none}   date: $(date -u +%F)   seconds: $(($(date +%s) - t0))   measured bf16 peak: ${peak:-?} TFLOP/s"
st() { [ "$1" = 0 ] && echo ok || echo "FAIL (exit $1)"; }
echo "ViT-B: $(st $base)   ViT-L: $(st $large)   torch.compile: $(st $comp)"
[ $base = 0 ] && [ $large = 0 ] && [ $comp = 0 ]
