#!/usr/bin/env node
// emu-mutants.mjs: mutation tests of the CUDA device code against the CUDA emulator (#14). Each
// mutant is one seeded bug put into a device source (a TypeScript emitter under
// packages/codegen/src/emit/ or a hand-written .cuh under packages/native/src/device/): a barrier
// removed, an MMA fragment index swapped, a tail guard off by one, a wrong shared-memory stride. For
// each mutant the script edits the file (an exact text, found exactly once or at a given occurrence),
// reruns codegen, rebuilds only mae_op_check_emu, and runs it on the emulated cuda:0 with --only the
// ops that reach the mutated code, under several schedules (default forward, warp, warp-reverse: the
// warp orders run one warp to its next __syncthreads before the others start, which exposes missing
// barriers the forward order hides; the wgmma GEMM's mutants also under lead, which runs a cluster's
// first CTA to its end before the others go on). A mutant is killed by a FAIL line, a non-zero exit, a crash or
// timeout, or an output hash that differs between schedules (a race); otherwise it survived. By
// default the checks stop at the first kill (--full runs every schedule to the end). The source file
// is always restored (after each mutant, on errors, on Ctrl-C / SIGTERM) and codegen is rerun at
// the end, so the tree is left as it was. Exit 1 when any mutant survived or could not be applied
// or built, 2 when the unmutated tree already fails the selected checks.
// The default list (the seeded mutants CI runs) must all be killed; EXTRA ones run only when named
// (--only-mutants). --all-barriers makes one mutant per `__syncthreads();` in the device sources
// instead, named barrier:<file>:<line> (some survive: a barrier that only a path the small checks
// never take needs, e.g. a block looping over more than 65535 samples). --list shows the mutants and
// checks that each one's text is still where it says, without building anything.
// Usage: node scripts/emu-mutants.mjs [--list] [--only-mutants a,b] [--all-barriers]
//   [--schedules forward,warp,warp-reverse] [--build-dir DIR] [--build-jobs N] [--timeout S]
//   [--full] [--no-baseline]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configureEmulatorBuild } from './emu-build.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const PNPM = ['-y', 'pnpm@10.34.9'];
const DEVICE_DIR = 'packages/native/src/device';
const EMIT_DIR = 'packages/codegen/src/emit';
const COLSPLIT = `${EMIT_DIR}/cuda_colsplit.ts`;
const ROWVEC = `${EMIT_DIR}/cuda_rowvec.ts`;
const PRELUDE = `${DEVICE_DIR}/prelude.cuh`;
const GEMM = `${DEVICE_DIR}/gemm.cuh`;
const GEMM_ASYNC = `${DEVICE_DIR}/gemm_async.cuh`;
const GEMM_WGMMA = `${DEVICE_DIR}/gemm_wgmma.cuh`;
const FLASH_COMMON = `${DEVICE_DIR}/flash_common.cuh`;
const FLASH = `${DEVICE_DIR}/flash_forward.cuh`;
const FLASH_BWD = `${DEVICE_DIR}/flash_backward.cuh`;
const FLASH_SIMT = `${DEVICE_DIR}/flash_simt.cuh`;
const BARRIER = '__syncthreads();';
const REMOVED = '/* emu-mutant: barrier removed */';

// --only lists: the ops whose small checks reach the code (fast ones: mae_loss_forward also uses the
// block reduction but takes 13 s a schedule; linear_forward's K=197 gives the GEMMs several K tiles).
const OPS = {
  reduce: 'softmax_forward,softmax_backward,layernorm_forward,layernorm_backward',
  gemm: 'matmul_nn,linear_forward',
  wgmma: 'matmul_nn,matmul_tn,linear_forward',
  colsplit: 'sum_forward,layernorm_backward',
  rowvec: 'layernorm_forward,softmax_forward',
  attnFwd: 'attention_forward',
  attnBwd: 'attention_backward',
};

/** A barrier removed: `before` + the barrier, found once, loses the barrier. */
const noBarrier = (name, file, before, ops, what) => ({
  name,
  file,
  find: `${before}${BARRIER}`,
  replace: `${before}${REMOVED}`,
  ops,
  what,
});

// The seeded mutants (what CI runs): each must be killed.
const MUTANTS = [
  noBarrier(
    'reduce-barrier-partials',
    PRELUDE,
    'if (lane == 0) smem[wid] = v;\n  ',
    OPS.reduce,
    'block reduction: no barrier between the warp partials written to smem and read back',
  ),
  noBarrier(
    'reduce-barrier-reuse',
    PRELUDE,
    'v = IsMax ? mae_warp_max(v) : mae_warp_sum(v);\n  ',
    OPS.reduce,
    'block reduction: no barrier before smem is reused (a previous reduction may still read it)',
  ),
  noBarrier(
    'gemm-mma-barrier-staged',
    GEMM,
    'mae_gemm_stage<BM, BK, NT, true, ARow, BRow>(&As[0][0], &Bs[0][0], LD, a, b, bb, m0, M, n0, N, k0, K);\n      ',
    OPS.gemm,
    'tensor-core GEMM: no barrier between staging the A/B tiles and the fragment loads',
  ),
  noBarrier(
    'gemm-mma-barrier-consumed',
    GEMM,
    'mae_mma_bf16_16816(c[i][j], af[i], bf[j]);\n      }\n      ',
    OPS.gemm,
    'tensor-core GEMM: no barrier between the MMAs of a K tile and staging the next one',
  ),
  noBarrier(
    'gemm-simt-barrier-staged',
    GEMM,
    'mae_gemm_stage<BM, BK, NT, false, ARow, BRow>(&As[0][0], &Bs[0][0], BM + 4, a, b, bb, m0, M, n0, N, k0, K);\n      ',
    OPS.gemm,
    'fp32 SIMT GEMM: no barrier between staging the tiles and the FMAs',
  ),
  noBarrier(
    'flash-fwd-barrier-staged',
    FLASH,
    "mae_cp_async_wait<1>();  // this tile landed; the next one's copies stay in flight\n      ",
    OPS.attnFwd,
    'flash forward (tensor cores): no barrier between staging a K/V tile and the QK^T MMAs',
  ),
  noBarrier(
    'flash-fwd-barrier-next-tile',
    FLASH,
    'const int b = static_cast<int>(it & 1);\n      ',
    OPS.attnFwd,
    'flash forward (tensor cores): no barrier before the next K/V tile overwrites the last one',
  ),
  noBarrier(
    'flash-bwd-dq-barrier-staged',
    FLASH_BWD,
    "mae_cp_async_wait<1>();  // this tile (and Q, dO) landed; the next one's copies stay in flight\n      ",
    OPS.attnBwd,
    'flash backward dQ (tensor cores): no barrier between staging K/V and the MMAs',
  ),
  noBarrier(
    'flash-bwd-dkdv-barrier-staged',
    FLASH_BWD,
    "mae_cp_async_wait<1>();  // this tile (and K, V) landed; the next one's copies stay in flight\n      ",
    OPS.attnBwd,
    'flash backward dK/dV (tensor cores): no barrier between staging Q/dO, lse and D and their use',
  ),
  {
    name: 'flash-bwd-dq-barrier-next-tile',
    file: FLASH_BWD,
    find: `${BARRIER}  // every warp is done with buffer b ^ 1 (the previous tile)\n      if (k0 + BK < T)`,
    replace: `${REMOVED}\n      if (k0 + BK < T)`,
    ops: OPS.attnBwd,
    what: "flash backward dQ (tensor cores): no barrier before the next K/V tile's copies overwrite a buffer",
  },
  noBarrier(
    'flash-simt-fwd-barrier-probs',
    FLASH_SIMT,
    'ps[tid] = j < T ? expf(mae_fa_dot(qs, kb + j * rs, E) * scale - M) / L : 0.f;\n      ',
    OPS.attnFwd,
    'SIMT attention forward: no barrier between the chunk of probabilities written and read',
  ),
  {
    name: 'gemm-mma-fragment-swap',
    file: GEMM,
    find: 'af[i][1] = *reinterpret_cast<const uint32_t*>(&As[ar + 8][kk + 2 * t]);\n          af[i][2] =',
    replace: 'af[i][2] = *reinterpret_cast<const uint32_t*>(&As[ar + 8][kk + 2 * t]);\n          af[i][1] =',
    ops: OPS.gemm,
    what: 'tensor-core GEMM: A fragment registers 1 and 2 swapped (rows g+8, k 0-7 <-> rows g, k 8-15)',
  },
  noBarrier(
    'gemm-async-barrier-landed',
    GEMM_ASYNC,
    'mae_cp_async_wait<STAGES - 2>();\n    ',
    OPS.gemm,
    "asynchronous GEMM: no barrier after the wait (other threads' chunks of tile kt may still be in flight)",
  ),
  noBarrier(
    'gemm-async-barrier-ring',
    GEMM_ASYNC,
    'mae_cp_async_wait<0>();  // the empty groups past the last tile\n  ',
    OPS.gemm,
    "asynchronous GEMM: no barrier before the next sample's copies refill the ring other warps still read",
  ),
  {
    name: 'gemm-async-wait-depth',
    file: GEMM_ASYNC,
    find: 'mae_cp_async_wait<STAGES - 2>();',
    replace: 'mae_cp_async_wait<STAGES - 1>();',
    ops: OPS.gemm,
    what: 'asynchronous GEMM: waits for one group too few (tile kt may not have landed)',
  },
  {
    name: 'gemm-async-zero-fill',
    file: GEMM_ASYNC,
    find: 'in ? 16 : 0);',
    replace: '16);',
    ops: OPS.gemm,
    what: 'asynchronous GEMM: chunks past M, N or K copied from the operand instead of zero-filled',
  },
  {
    name: 'gemm-async-row-swizzle',
    file: GEMM_ASYNC,
    find: 'const int off = Row ? mae_swz_row<ROWS>(q, c % PER_K) :',
    replace: 'const int off = Row ? q * ROWS + 8 * (c % PER_K) :',
    ops: OPS.gemm,
    what: 'asynchronous GEMM: a row-contiguous tile copied unswizzled while ldmatrix reads it swizzled',
  },
  {
    name: 'gemm-async-trans',
    file: GEMM_ASYNC,
    find: 'mae_ldmatrix_x4<BRow>(r,',
    replace: 'mae_ldmatrix_x4<!BRow>(r,',
    ops: OPS.gemm,
    what: 'asynchronous GEMM: B fragments loaded with the wrong ldmatrix (.trans flipped)',
  },
  {
    name: 'gemm-async-b-order',
    file: GEMM_ASYNC,
    find: 'bf[j][0] = r[0], bf[j][1] = r[1], bf[j + 1][0] = r[2], bf[j + 1][1] = r[3];',
    replace: 'bf[j][0] = r[0], bf[j][1] = r[2], bf[j + 1][0] = r[1], bf[j + 1][1] = r[3];',
    ops: OPS.gemm,
    what: "asynchronous GEMM: ldmatrix's matrices 1 and 2 swapped into the B fragments (k 8-15 <-> columns 8-15)",
  },
  {
    name: 'gemm-split-slice-overlap',
    file: GEMM_ASYNC,
    find: 'kt1 = kt0 + KS / BK < KT ? kt0 + KS / BK : KT;',
    replace: 'kt1 = kt0 + KS / BK + 1 < KT ? kt0 + KS / BK + 1 : KT;',
    ops: OPS.gemm,
    what: "split-K: each slice runs one k tile into the next slice's (counted twice)",
  },
  {
    name: 'gemm-split-reduce-last',
    file: GEMM_ASYNC,
    find: 'for (int64_t z = 1; z < S; ++z) acc += ws[z * total + e];',
    replace: 'for (int64_t z = 1; z + 1 < S; ++z) acc += ws[z * total + e];',
    ops: OPS.gemm,
    what: "split-K: the second pass leaves out the last slice's partials",
  },
  {
    name: 'wgmma-release-early',
    file: GEMM_WGMMA,
    find: '    mae_wgmma_wait<0>(d);\n    __syncwarp();\n    if ((threadIdx.x & 31) == 0)\n      for (unsigned r = 0; r < n; ++r) mae_mbar_arrive_cluster(&empty[s], r);',
    replace:
      '    __syncwarp();\n    if ((threadIdx.x & 31) == 0)\n      for (unsigned r = 0; r < n; ++r) mae_mbar_arrive_cluster(&empty[s], r);\n    mae_wgmma_wait<0>(d);',
    ops: OPS.wgmma,
    what: 'wgmma GEMM: a stage released to the producer before its wgmma group completed (refilled while read)',
  },
  {
    name: 'wgmma-full-parity',
    file: GEMM_WGMMA,
    find: 'mae_mbar_wait(&full[s], static_cast<unsigned>((it / MAE_WG_STAGES) & 1));',
    replace: 'mae_mbar_wait(&full[s], static_cast<unsigned>((it / MAE_WG_STAGES + 1) & 1));',
    ops: OPS.wgmma,
    what: 'wgmma GEMM: consumers wait on the wrong phase parity (a stage read before its TMA copies land)',
  },
  {
    name: 'wgmma-tx-bytes',
    file: GEMM_WGMMA,
    find: 'mae_mbar_arrive_expect_tx(&full[s], MAE_WG_STAGE_BYTES);',
    replace: 'mae_mbar_arrive_expect_tx(&full[s], MAE_WG_STAGE_BYTES - 1024);',
    ops: OPS.wgmma,
    what: 'wgmma GEMM: the producer expects fewer transaction bytes than its copies bring',
  },
  {
    name: 'wgmma-desc-sbo',
    file: GEMM_WGMMA,
    find: 'mae_wgmma_desc(tile + ks * 32, 16, 1024, 1)',
    replace: 'mae_wgmma_desc(tile + ks * 32, 16, 512, 1)',
    ops: OPS.wgmma,
    what: 'wgmma GEMM: K-major descriptors with the wrong stride between 8-row groups (SBO)',
  },
  {
    name: 'wgmma-k-step',
    file: GEMM_WGMMA,
    find: 'mae_wgmma_desc(tile + ks * 2048, 8192, 1024, 1)',
    replace: 'mae_wgmma_desc(tile + ks * 1024, 8192, 1024, 1)',
    ops: OPS.wgmma,
    what: 'wgmma GEMM: MN-major descriptors step 8 k instead of 16 per wgmma',
  },
  {
    name: 'wgmma-cluster-release-local',
    file: GEMM_WGMMA,
    find: 'for (unsigned r = 0; r < n; ++r) mae_mbar_arrive_cluster(&empty[s], r);',
    replace: 'mae_mbar_arrive_cluster(&empty[s], mae_cluster_ctarank());',
    ops: OPS.wgmma,
    what: "wgmma GEMM: consumers release a stage to their own CTA's producer only (the other CTA's waits forever)",
  },
  {
    name: 'wgmma-cluster-exit-early',
    file: GEMM_WGMMA,
    find: '  mae_cluster_sync();  // no CTA exits while another may still arrive on its mbarriers',
    replace: '',
    ops: OPS.wgmma,
    what: 'wgmma GEMM: a CTA exits while the other CTA of its cluster may still arrive on its mbarriers',
  },
  {
    name: 'wgmma-trans-b',
    file: GEMM_WGMMA,
    find: 'mae_wgmma_m64n256k16<ARow, BRow>(',
    replace: 'mae_wgmma_m64n256k16<ARow, !BRow>(',
    ops: OPS.wgmma,
    what: 'wgmma GEMM: B read with the wrong major-ness (transpose flag flipped)',
  },
  {
    name: 'wgmma-epilogue-read-early',
    file: GEMM_WGMMA,
    find: '  mae_wg_stage<0>(d, st);\n  __syncwarp();\n',
    replace: '  mae_wg_stage<0>(d, st);\n',
    ops: OPS.wgmma,
    what: "wgmma GEMM: a warp reads its staged half back before its other lanes' stores to it",
  },
  {
    name: 'wgmma-epilogue-overwrite',
    file: GEMM_WGMMA,
    find: "  __syncwarp();  // and of this tile's first half\n",
    replace: '',
    ops: OPS.wgmma,
    what: "wgmma GEMM: a warp stages a tile's second half while its other lanes still read the first",
  },
  {
    name: 'wgmma-persist-ring-restart',
    file: GEMM_WGMMA,
    find: '    int64_t it = 0;\n    for (int64_t t = t0; t < tn; t += dt) {\n      const MaeWgTile x = at(t);\n',
    replace:
      '    for (int64_t t = t0; t < tn; t += dt) {\n      int64_t it = 0;\n      const MaeWgTile x = at(t);\n',
    ops: OPS.wgmma,
    what: 'persistent wgmma GEMM: the consumers restart the ring at each tile where the producer runs on',
  },
  {
    name: 'wgmma-persist-stride',
    file: GEMM_WGMMA,
    find: 'ta, tb, blockIdx.y / cta, count, gridDim.y / cta, at,',
    replace: 'ta, tb, blockIdx.y / cta, count, gridDim.y, at,',
    ops: OPS.wgmma,
    what: "persistent wgmma GEMM: a cluster steps over the tiles by the grid's blocks, not its clusters (tiles skipped)",
  },
  {
    name: 'wgmma-persist-rank',
    file: GEMM_WGMMA,
    find: 'MaeWgTile{static_cast<int>(r / mc), static_cast<int>(((r % mc) * n + rank % n) * MAE_WG_BM),',
    replace: 'MaeWgTile{static_cast<int>(r / mc), static_cast<int>(((r % mc) * n) * MAE_WG_BM),',
    ops: OPS.wgmma,
    what: "persistent wgmma GEMM: a cluster's CTAs all take its first m tile",
  },
  {
    name: 'wgmma-cluster-a-local',
    file: GEMM_WGMMA,
    find: 'cn == 2 ? (1u << rm) | (1u << (rm + n)) : 1u << rank',
    replace: '1u << rank',
    ops: OPS.wgmma,
    what: "wgmma GEMM in clusters along n: A's box multicast to its own CTA only (the other CTA of the row waits for it)",
  },
  {
    name: 'wgmma-cluster-a-owner',
    file: GEMM_WGMMA,
    find: 'for (unsigned h = rn; h < MAE_WG_BM / 64; h += cn) {',
    replace: 'for (unsigned h = 0; h < MAE_WG_BM / 64; h += 1) {',
    ops: OPS.wgmma,
    what: "wgmma GEMM in clusters along n: both CTAs of a row load and multicast each of A's boxes (twice the bytes)",
  },
  {
    name: 'wgmma-cluster-n-tile',
    file: GEMM_WGMMA,
    find: 'static_cast<int>((t % nc * CN + rank / n) * MAE_WG_BN), 0, KT}',
    replace: 'static_cast<int>((t % nc * CN) * MAE_WG_BN), 0, KT}',
    ops: OPS.wgmma,
    what: "wgmma GEMM in clusters along n: the CTAs of a row all take the cluster tile's first n tile",
  },
  {
    name: 'wgmma-split-cluster-n-tile',
    file: GEMM_WGMMA,
    find: 'static_cast<int>((t % nc * CN + rank / n) * MAE_WG_BN), kt0, kt1}',
    replace: 'static_cast<int>((t % nc * CN) * MAE_WG_BN), kt0, kt1}',
    ops: OPS.wgmma,
    what: "wgmma split-K in clusters along n: the CTAs of a row all take the cluster tile's first n tile",
  },
  {
    name: 'wgmma-sinkv-halves',
    file: GEMM_WGMMA,
    find: 'st + r * MAE_WG_EPI_LD + j + q);',
    replace: 'st + r * MAE_WG_EPI_LD + j + h);',
    ops: OPS.wgmma,
    what: "wgmma GEMM's 16-byte epilogue: lanes 4-7 of each phase read their staged halves into the wrong place",
  },
  {
    name: 'wgmma-split-store-v',
    file: GEMM_WGMMA,
    find: 'mae_st16(part + m * N + c, a[0], a[1], a[2], a[3]);',
    replace: 'mae_st16(part + m * N + c, a[1], a[0], a[2], a[3]);',
    ops: OPS.wgmma,
    what: "wgmma GEMM's split-K partials by 16-byte stores: a vector's first two columns swapped",
  },
  {
    name: 'wgmma-split-overlap',
    file: GEMM_WGMMA,
    find: 'const int64_t kt1 = kt0 + KS / MAE_WG_BK < KT ? kt0 + KS / MAE_WG_BK : KT;',
    replace: 'const int64_t kt1 = kt0 + KS / MAE_WG_BK + 1 < KT ? kt0 + KS / MAE_WG_BK + 1 : KT;',
    ops: OPS.wgmma,
    what: "wgmma split-K: each slice runs one k tile into the next slice's",
  },
  {
    name: 'colsplit-slice-overlap',
    file: COLSPLIT,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the emitter's own template text
    find: '_hi = _lo + _RS < ${rows} ? _lo + _RS : ${rows};',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the emitter's own template text
    replace: '_hi = _lo + _RS + 1 < ${rows} ? _lo + _RS + 1 : ${rows};',
    ops: OPS.colsplit,
    what: "column reductions split across blocks: each slice takes the next slice's first row too",
  },
  {
    name: 'colsplit-part-last-warp',
    file: COLSPLIT,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the emitter's own template text
    find: 'for (int _w = 1; _w < ${SLICE_WARPS}; ++_w) {',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the emitter's own template text
    replace: 'for (int _w = 1; _w + 1 < ${SLICE_WARPS}; ++_w) {',
    ops: OPS.colsplit,
    what: "column reductions split across blocks: a block's partial leaves out its last warp's slice",
  },
  {
    name: 'rowvec-reduce-stride',
    file: ROWVEC,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the emitter's own template text
    find: '${f} += ${UNROLL * 32 * V}) {`);',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the emitter's own template text
    replace: '${f} += ${32 * V}) {`);',
    ops: OPS.rowvec,
    what: "rowwise 16-byte kernels: a reduction's loop advancing one step where it took two (terms added twice)",
  },
  {
    name: 'rowvec-tail-stride',
    file: ROWVEC,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the emitter's own template text
    find: '${v} += ${32 * V}) {`);',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the emitter's own template text
    replace: '${v} += ${32 * V + V}) {`);',
    ops: OPS.rowvec,
    what: "rowwise 16-byte kernels: the elementwise loop's stride a vector too long (some outputs never written)",
  },
  {
    name: 'colsplit-join-last',
    file: COLSPLIT,
    find: 'for (int _w = 1; _w < ${JOIN_WARPS}; ++_w)',
    replace: 'for (int _w = 1; _w + 1 < ${JOIN_WARPS}; ++_w)',
    ops: OPS.colsplit,
    what: "column reductions split across blocks: the join leaves out its last warp's slices",
  },
  {
    name: 'flash-fragment-b-swap',
    file: FLASH_COMMON,
    find: 'k0 + ((l >> 3) & 1) * 8',
    replace: 'k0 + (((l >> 3) & 1) ^ 1) * 8',
    ops: OPS.attnFwd,
    what: 'flash (tensor cores): the two B fragment registers of mae_fa_b2 swapped (k 0-7 <-> k 8-15)',
  },
  {
    name: 'flash-fwd-tail-mask',
    file: FLASH,
    find: 's[j][c] = k0 + j * 8 + 2 * t + (c & 1) < T ?',
    replace: 's[j][c] = k0 + j * 8 + 2 * t + (c & 1) <= T ?',
    ops: OPS.attnFwd,
    what: 'flash forward: key tail mask off by one (< T turned <= T: the zero-staged key T gets weight)',
  },
  {
    name: 'flash-stage-stride',
    file: FLASH_COMMON,
    find: 'mae_st16(s + r * (E + 8) + c, v);',
    replace: 'mae_st16(s + r * (E + 8) + (c ^ 8), v);',
    ops: OPS.attnFwd,
    what: 'flash staging: each 16-byte chunk stored 8 columns off its place in the row',
  },
  {
    name: 'flash-stage-async-stride',
    file: FLASH_COMMON,
    find: 'mae_cp_async16(s + r * (E + 8) + c,',
    replace: 'mae_cp_async16(s + r * (E + 8) + (c ^ 8),',
    ops: OPS.attnFwd,
    what: 'flash staging by cp.async (bf16): each 16-byte chunk copied 8 columns off its place in the row',
  },
  {
    name: 'flash-fwd-wait-next',
    file: FLASH,
    find: 'mae_cp_async_wait<1>();  // this tile landed;',
    replace: 'mae_cp_async_wait<2>();  // this tile landed;',
    ops: OPS.attnFwd,
    what: "flash forward: the wait for a key tile's copies leaves that tile's group in flight too",
  },
  {
    name: 'flash-dkdv-hold-wait',
    file: FLASH_BWD,
    find: 'mae_cp_async_wait<1>();  // K and V landed',
    replace: 'mae_cp_async_wait<2>();  // K and V landed',
    ops: OPS.attnBwd,
    what: "flash backward dK/dV: the K and V fragments held in registers are read before their copies' wait",
  },
  {
    name: 'flash-dkdv-prefetch-buffer',
    file: FLASH_BWD,
    find: 'stage_qo(q0 + BQ, b ^ 1);',
    replace: 'stage_qo(q0 + BQ, b);',
    ops: OPS.attnBwd,
    what: "flash backward dK/dV: the next query tile's copies go to the buffer in use",
  },
  {
    name: 'flash-store-transpose-half',
    file: FLASH_COMMON,
    find: 'mae_fa_swap(q[1], q[3], 2, t);',
    replace: '',
    ops: OPS.attnFwd,
    what: "flash stores (bf16): the quad's 4 x 4 transpose misses one exchange of its second round",
  },
  {
    name: 'flash-store-pair-column',
    file: FLASH_COMMON,
    find: 'mae_st8(r + i * 8 + 2 * t, x[i][c0] * mul, x[i][c0 + 1] * mul);',
    replace: 'mae_st8(r + i * 8 + 2 * t, x[i][c0] * mul, x[i][c0] * mul);',
    ops: OPS.attnBwd,
    what: 'flash stores (f32): the second column of each pair written with the first',
  },
  {
    name: 'gemm-stage-row-walk',
    file: GEMM,
    find: 'if (rowFast) r = e % ROWS, q = e / ROWS;',
    replace: 'if (rowFast) r = e % BK, q = e / ROWS;',
    ops: OPS.gemm,
    what: 'GEMM staging along the rows: the row taken modulo BK instead of the tile rows (rows past BK never staged)',
  },
  {
    name: 'gemm-tail-k',
    file: GEMM,
    find: 'm0 + r < M && k0 + q < K ? fa(',
    replace: 'm0 + r < M && k0 + q <= K ? fa(',
    ops: OPS.gemm,
    what: 'GEMM staging: K tail guard off by one (reads one column past K; out of bounds at the end)',
  },
];

// Extra mutants, run only when named with --only-mutants (reported, not required to be killed).
const EXTRA = [
  {
    name: 'gemm-mma-smem-pad',
    file: GEMM,
    find: 'NI = TN / 8, LD = BK + 8;',
    replace: 'NI = TN / 8, LD = BK;',
    ops: OPS.gemm,
    what: 'tensor-core GEMM: tiles without their padding (equivalent: the padding only avoids bank conflicts)',
  },
];

function usage(msg) {
  if (msg) console.error(`emu-mutants: ${msg}`);
  console.error(
    'usage: emu-mutants [--list] [--only-mutants a,b] [--all-barriers] [--schedules forward,warp,warp-reverse]\n' +
      '                   [--build-dir DIR] [--build-jobs N] [--timeout S] [--full] [--no-baseline]',
  );
  process.exit(2);
}

function parse(argv) {
  const o = {
    list: false,
    only: null,
    allBarriers: false,
    schedules: ['forward', 'warp', 'warp-reverse'],
    buildDir: join(root, 'build/emu-mutants'),
    buildJobs: 2,
    timeout: 600,
    full: false,
    baseline: true,
  };
  const val = (i) => argv[i] ?? usage(`${argv[i - 1]} needs a value`);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--list') o.list = true;
    else if (a === '--only-mutants') o.only = val(++i).split(',').filter(Boolean);
    else if (a === '--all-barriers') o.allBarriers = true;
    else if (a === '--schedules') o.schedules = val(++i).split(',').filter(Boolean);
    else if (a === '--build-dir') o.buildDir = resolve(val(++i));
    else if (a === '--build-jobs') o.buildJobs = Math.max(1, Number(val(++i)));
    else if (a === '--timeout') o.timeout = Math.max(1, Number(val(++i)));
    else if (a === '--full') o.full = true;
    else if (a === '--no-baseline') o.baseline = false;
    else usage(`unknown option ${a}`);
  }
  return o;
}

const read = (file) => readFileSync(join(root, file), 'utf8');

/** Start offsets of every occurrence of s in text. */
function occurrences(text, s) {
  const at = [];
  for (let i = text.indexOf(s); i >= 0; i = text.indexOf(s, i + 1)) at.push(i);
  return at;
}

const lineOf = (text, offset) => text.slice(0, offset).split('\n').length;

/** The ops that reach a barrier at offset in file (--all-barriers); '' for every op. */
function barrierOps(file, text, offset) {
  if (file === GEMM || file === GEMM_ASYNC) return OPS.gemm;
  if (file === FLASH) return OPS.attnFwd;
  if (file === FLASH_BWD) return OPS.attnBwd;
  if (file === FLASH_SIMT) {
    const fn = [...text.slice(0, offset).matchAll(/void (mae_fa_\w+)\(/g)].at(-1)?.[1] ?? '';
    return fn.includes('forward') ? OPS.attnFwd : OPS.attnBwd;
  }
  if (file.endsWith('.cuh')) return OPS.reduce;
  return '';
}

/**
 * One mutant per barrier in the device sources (the .cuh files and the CUDA emitters), the fast
 * checks first (the attention ones take a minute or more a schedule).
 */
function allBarrierMutants() {
  const files = [
    ...readdirSync(join(root, DEVICE_DIR))
      .filter((f) => f.endsWith('.cuh'))
      .map((f) => `${DEVICE_DIR}/${f}`),
    ...readdirSync(join(root, EMIT_DIR))
      .filter((f) => /^cuda.*\.ts$/.test(f))
      .map((f) => `${EMIT_DIR}/${f}`),
  ].sort();
  const slow = (m) => (m.ops === '' || m.ops.includes('attention') ? 1 : 0);
  return files
    .flatMap((file) => {
      const text = read(file);
      return occurrences(text, BARRIER).map((offset, occurrence) => ({
        name: `barrier:${basename(file)}:${lineOf(text, offset)}`,
        file,
        find: BARRIER,
        occurrence,
        replace: REMOVED,
        ops: barrierOps(file, text, offset),
        what: `${BARRIER} #${occurrence} of ${basename(file)} (line ${lineOf(text, offset)}) removed`,
      }));
    })
    .sort((a, b) => slow(a) - slow(b));
}

/** The mutated text of m's file, or throws when its text is not where the mutant says. */
function mutate(text, m) {
  const at = occurrences(text, m.find);
  if (m.occurrence === undefined && at.length !== 1)
    throw new Error(`its text occurs ${at.length} times in ${m.file} (want exactly once)`);
  const offset = at[m.occurrence ?? 0];
  if (offset === undefined) throw new Error(`no occurrence ${m.occurrence} of its text in ${m.file}`);
  return text.slice(0, offset) + m.replace + text.slice(offset + m.find.length);
}

// The file being mutated and its original text, restored whatever happens.
let active = null;
let child = null;
function restore() {
  if (!active) return;
  writeFileSync(active.path, active.original);
  active = null;
}

function sh(cmd, args, quiet = true) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: quiet ? 'pipe' : 'inherit' });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

const codegen = () => sh('npx', [...PNPM, 'codegen']);

/** Configures the build directory when it has no CMake cache yet. */
function configure(dir) {
  const r = configureEmulatorBuild(root, dir);
  if (!r.ok) throw new Error(`cmake configure failed:\n${r.out}`);
}

function build(o) {
  return sh('cmake', [
    '--build',
    o.buildDir,
    '--target',
    'mae_op_check_emu',
    '--parallel',
    String(o.buildJobs),
  ]);
}

/** "op variant sizes" and the output hashes of an op_check result line, or null. */
function parseLine(line) {
  const m = line.match(/^(ok|FAIL)\s+(\S+)\s+(\S+)\s+(.*?)\s+-?[\d.]+ us/);
  if (!m) return null;
  const hashes = [...line.matchAll(/hash ([0-9a-f]{16})/g)].map((x) => x[1]).join(',');
  return { status: m[1], key: `${m[2]} ${m[3]} ${m[4]}`, hashes };
}

/**
 * One op_check run under a schedule, streamed: a FAIL line, or a hash that differs from ref (the
 * first schedule's), kills the mutant and (unless full) the run. Resolves { kill, detail, hashes }.
 */
function check(o, bin, ops, schedule, ref, env = {}) {
  const args = ['--device', 'cuda:0', '--small', '--reps', '1', '--hash'];
  if (ops) args.push('--only', ops);
  return new Promise((done) => {
    // the grid's z limit lowered to 2: the attention kernels' loops over samples run a second time
    const p = spawn(bin, args, {
      env: { ...process.env, MAE_EMU_SCHEDULE: schedule, MAE_EMU_MAX_GRID_Z: '2', ...env },
    });
    child = p;
    const hashes = new Map();
    let kill = null;
    let detail = '';
    let buf = '';
    let tail = '';
    let timedOut = false;
    const stop = () => !o.full && p.kill('SIGKILL');
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, o.timeout * 1000);
    const onLine = (line) => {
      const r = parseLine(line);
      if (!r) return;
      hashes.set(r.key, r.hashes);
      if (kill) return;
      if (r.status === 'FAIL') [kill, detail] = ['FAIL', r.key];
      else if (ref?.has(r.key) && ref.get(r.key) !== r.hashes) [kill, detail] = ['hash', r.key];
      if (kill) stop();
    };
    p.stdout.on('data', (d) => {
      const lines = (buf + d).split('\n');
      buf = lines.pop();
      lines.forEach(onLine);
    });
    p.stderr.on('data', (d) => {
      tail = (tail + d).slice(-400);
    });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      child = null;
      onLine(buf);
      if (!kill && timedOut) [kill, detail] = ['timeout', `${o.timeout} s`];
      else if (!kill && signal)
        [kill, detail] = ['crash', `${signal} ${tail.trim().split('\n').at(-1) ?? ''}`];
      else if (!kill && code !== 0)
        [kill, detail] = ['exit', `${code} ${tail.trim().split('\n').at(-1) ?? ''}`];
      done({ kill, detail, hashes });
    });
  });
}

/** Runs the schedules in order; the first one's hashes are the reference for the others. */
async function runSchedules(o, bin, ops, env = {}) {
  let ref = null;
  const kills = [];
  for (const s of o.schedules) {
    const r = await check(o, bin, ops, s, ref, env);
    if (r.kill) {
      kills.push({ schedule: s, ...r });
      if (!o.full) break;
    }
    ref ??= r.hashes;
  }
  return kills;
}

/**
 * The environment a mutant's checks run in: the mma.sync GEMMs' sources under MAE_CUDA_GEMM=mma,
 * since the emulated device (an sm_90 part) otherwise takes the wgmma kernels; the wgmma GEMM's on
 * 3 SMs (MAE_WG_SMS), so that the persistent grid's blocks run several tiles.
 */
const envFor = (m) =>
  m.file === GEMM || m.file === GEMM_ASYNC
    ? { MAE_CUDA_GEMM: 'mma' }
    : m.file === GEMM_WGMMA
      ? { MAE_WG_SMS: '3', MAE_WG_CLUSTER_N: '2' }
      : {};

/**
 * The schedules a mutant runs under: the wgmma GEMM's also under lead (a cluster's first CTA runs to
 * its end before the others go on: a CTA that exits while its peers may still reach it).
 */
const schedulesFor = (o, m) =>
  m.file === GEMM_WGMMA && !o.schedules.includes('lead') ? [...o.schedules, 'lead'] : o.schedules;

/** Applies, builds and checks one mutant; the file is restored before it returns. */
async function runMutant(o, bin, m) {
  const path = join(root, m.file);
  const original = readFileSync(path, 'utf8');
  const t0 = performance.now();
  const secs = () => ((performance.now() - t0) / 1000).toFixed(1);
  try {
    const mutated = mutate(original, m);
    active = { path, original };
    writeFileSync(path, mutated);
    const g = codegen();
    if (!g.ok)
      return { verdict: 'invalid', how: `codegen failed: ${g.out.trim().split('\n').at(-1)}`, secs: secs() };
    const b = build(o);
    if (!b.ok)
      return {
        verdict: 'invalid',
        how: `build failed: ${b.out.match(/error:.*$/m)?.[0] ?? ''}`,
        secs: secs(),
      };
    const kills = await runSchedules({ ...o, schedules: schedulesFor(o, m) }, bin, m.ops, envFor(m));
    if (!kills.length)
      return { verdict: 'survived', how: `passed under ${schedulesFor(o, m).join(', ')}`, secs: secs() };
    const how = kills
      .map((k) =>
        k.kill === 'hash'
          ? `hash differs under ${k.schedule} (${k.detail})`
          : `${k.kill} under ${k.schedule} (${k.detail})`,
      )
      .join('; ');
    return { verdict: 'killed', how, secs: secs() };
  } catch (e) {
    return { verdict: 'invalid', how: e.message, secs: secs() };
  } finally {
    restore();
  }
}

/** The unmutated tree must pass the union of the selected ops under the first schedule. */
async function baseline(o, bin, mutants) {
  const sets = mutants.map((m) => m.ops);
  const ops = sets.includes('') ? '' : [...new Set(sets.flatMap((s) => s.split(',')))].join(',');
  const t0 = performance.now();
  const r = await check({ ...o, full: true }, bin, ops, o.schedules[0], null);
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  if (r.kill) {
    console.error(
      `emu-mutants: the unmutated tree fails (${r.kill}: ${r.detail}) under ${o.schedules[0]}; no mutant can be judged`,
    );
    return false;
  }
  console.log(`emu-mutants: baseline passes (${r.hashes.size} cases under ${o.schedules[0]}, ${secs} s)`);
  return true;
}

function select(o) {
  const all = o.allBarriers ? allBarrierMutants() : MUTANTS;
  if (!o.only) return all;
  const known = new Map([...MUTANTS, ...EXTRA, ...allBarrierMutants()].map((m) => [m.name, m]));
  return o.only.map((n) => known.get(n) ?? usage(`unknown mutant ${n} (see --list)`));
}

/** --list: every mutant, checked to apply (its text where it says) without building anything. */
function list(mutants) {
  const extra = new Set(EXTRA.map((m) => m.name));
  let bad = 0;
  for (const m of mutants) {
    let status = '';
    try {
      mutate(read(m.file), m);
    } catch (e) {
      status = ` !! ${e.message}`;
      bad++;
    }
    const tag = extra.has(m.name) ? ' (extra)' : '';
    console.log(`${m.name.padEnd(34)}${tag} ${m.file}: ${m.what} [--only ${m.ops || 'all ops'}]${status}`);
  }
  return bad ? 1 : 0;
}

function onSignal(sig) {
  child?.kill('SIGKILL');
  restore();
  console.error(`\nemu-mutants: ${sig}: source restored, rerunning codegen`);
  codegen();
  process.exit(sig === 'SIGINT' ? 130 : 143);
}

async function main() {
  const o = parse(process.argv.slice(2));
  const mutants = select(o);
  if (o.list) return list(o.allBarriers || o.only ? mutants : [...MUTANTS, ...EXTRA]);
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('exit', restore);
  // a build dir of its own puts the program at its root; the package's (cmake-js) under Release/
  const binAt = () =>
    [join(o.buildDir, 'Release', 'mae_op_check_emu'), join(o.buildDir, 'mae_op_check_emu')].find((p) =>
      existsSync(p),
    ) ?? join(o.buildDir, 'mae_op_check_emu');
  let bin = binAt();
  const t0 = performance.now();
  const results = [];
  try {
    configure(o.buildDir);
    const g = codegen();
    if (!g.ok) throw new Error(`codegen failed:\n${g.out}`);
    console.log('emu-mutants: building mae_op_check_emu (unmutated)');
    const b = build(o);
    if (!b.ok) throw new Error(`build failed:\n${b.out.slice(-3000)}`);
    bin = binAt();
    if (o.baseline && !(await baseline(o, bin, mutants))) return 2;
    for (const m of mutants) {
      const r = await runMutant(o, bin, m);
      results.push({ m, ...r });
      console.log(`${r.verdict.padEnd(8)} ${m.name.padEnd(34)} ${r.how} (${r.secs} s)`);
    }
  } finally {
    restore();
    const g = codegen();
    if (!g.ok) console.error(`emu-mutants: the final codegen failed:\n${g.out}`);
    // the program is left built from the sources as they are, not from the last mutant
    else if (!build(o).ok) console.error('emu-mutants: the final rebuild of mae_op_check_emu failed');
  }
  const count = (v) => results.filter((r) => r.verdict === v).length;
  const total = ((performance.now() - t0) / 1000).toFixed(0);
  console.log(
    `emu-mutants: ${count('killed')} killed, ${count('survived')} survived, ${count('invalid')} invalid of ${results.length} (${total} s)`,
  );
  for (const r of results.filter((x) => x.verdict !== 'killed'))
    console.log(`  ${r.verdict}: ${r.m.name}: ${r.m.what}`);
  return count('killed') === results.length ? 0 : 1;
}

process.exitCode = await main().catch((e) => {
  console.error(`emu-mutants: ${e.message}`);
  return 1;
});
