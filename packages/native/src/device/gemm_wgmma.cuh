// gemm_wgmma.cuh: the sm_90a tensor-core GEMM of contraction kernels whose operands are plain bf16
// tensors (the same operands gemm_async.cuh takes): C[b] (M x N) = A[b] (M x K) B[b] (N x K)^T in
// 128 x 256 block tiles over k tiles of 64, as in ThunderKittens and fast.cu's Hopper kernels:
//   - 384 threads: warpgroup 0 produces, warpgroups 1 and 2 consume (64 rows of the tile each);
//   - one producer thread loads each k tile of both operands with TMA (hopper.cuh) into a
//     MAE_WG_STAGES-deep ring of 128-byte-swizzled shared tiles, completing the stage's `full`
//     mbarrier; an operand contiguous along k (K-major) comes as one box of 64 k x rows, one
//     contiguous along its rows (ARow / BRow: MN-major) as boxes of 64 rows x 64 k;
//   - each consumer waits for the stage, issues 4 wgmma m64n256k16 (one per 16 k) reading both
//     operands from shared memory through descriptors (MN-major operands transposed), waits for
//     them and releases the stage (its `empty` mbarrier, one arrival per consumer warp);
//   - the epilogue: each consumer warp stages its 16 rows of the accumulators, 128 columns at a
//     time, in a buffer of its own past the ring (mae_wg_stage; only __syncwarp between the steps:
//     the warp reads back only what it wrote), and runs out(bb, m, n, acc) on each one inside the
//     matrix, a warp's lanes along a row (mae_wg_sink), or, where the op's epilogue has a 16-byte
//     form and the launcher finds every tensor it reads or writes along n whole aligned vectors,
//     outv(bb, m, n, acc[V]) on V consecutive outputs a lane (mae_wg_sink_v: one 16-byte access per
//     tensor where there were V);
//   - persistent tiles: the grid holds one cluster per n SMs (mae_wg_clusters), each walking the
//     cluster tiles c, c + G, ... (n tile fastest, then m, then the sample); the ring's stages and
//     phases run on across a block's tiles, so that the producer loads the next tile's first k
//     tiles while the consumers run this one's epilogue;
//   - blocks run in thread block clusters of n = 1, 2 or 4 CTAs along m by cn = 1 or 2 along n (rank
//     r = rm + n rn; grid y; the tiles padded to whole clusters: mae_wg_cluster, mae_wg_cluster_n;
//     launched with MAE_LAUNCH_CLUSTER). The CTAs of a column (one n tile) share B's tile: it comes
//     in MAE_WG_B_PARTS parts of 64 rows (K-major: a box of 64 k x 64 rows; MN-major: a box of 64
//     rows x 64 k), CTA rm loading the parts p with p % n == rm and multicasting each to its column;
//     the CTAs of a row (one m tile) share A's: its two boxes of 64 rows, box h loaded by the CTA
//     with rn == h % cn and multicast to its row. A CTA reads from L2 1/cn of its A tile and 1/n of
//     its B tile (n = 2: 128 + 128 rows per k tile, 128 FLOP per byte; n = 4: 170; 4 x 2: 256;
//     alone: 85). A stage goes back to the producers when the consumer warps of every CTA have
//     released it (each warp arrives on the `empty` mbarrier of every CTA: 8 x n x cn arrivals), and
//     no CTA exits while another may still reach its shared memory (barrier.cluster at the end;
//     another after the mbarriers are initialised).
// Out-of-range rows and k (edge tiles, k not a multiple of 64) arrive as zeros from TMA. Split-K
// (mae_gemm_wgmma_split) writes f32 partials over slices of k, summed by gemm_async.cuh's
// mae_gemm_split_reduce; its grid is one block per tile and slice, each block a single tile. Launch with MAE_WG_THREADS threads and MAE_WG_SMEM bytes of dynamic shared
// memory; the launcher builds the tensor maps (mae_tma_map_3d: dims {contiguous, other, batch}, box
// {64, rows}: 64 rows of A, MAE_WG_BN / MAE_WG_B_PARTS of B, 64 where MN-major) and checks the
// operands as for gemm_async.cuh.
#pragma once
#include <cstdlib>
#include <cstring>

#include "hopper.cuh"

constexpr int MAE_WG_BM = 128, MAE_WG_BN = 256, MAE_WG_BK = 64, MAE_WG_STAGES = 3, MAE_WG_THREADS = 384;
constexpr unsigned MAE_WG_A_BYTES = MAE_WG_BM * MAE_WG_BK * 2, MAE_WG_B_BYTES = MAE_WG_BN * MAE_WG_BK * 2;
constexpr unsigned MAE_WG_STAGE_BYTES = MAE_WG_A_BYTES + MAE_WG_B_BYTES;
constexpr unsigned MAE_WG_RING_BYTES = MAE_WG_STAGES * MAE_WG_STAGE_BYTES;
constexpr int MAE_WG_B_PARTS = 4;  // B's tile in parts of 64 rows: clusters of 1, 2 or 4 CTAs
constexpr unsigned MAE_WG_B_PART_BYTES = MAE_WG_B_BYTES / MAE_WG_B_PARTS;
static_assert(MAE_WG_BN / MAE_WG_B_PARTS == 64, "a part of B is one TMA box in either layout");
// The epilogue's staging, past the ring: each consumer warp's 16 rows, 128 columns at a time, in
// rows of 8 floats more (so that the 8-byte stores of a half-warp's fragments, 4 rows x 4 column
// pairs, fall on 32 distinct banks).
constexpr int MAE_WG_EPI_COLS = MAE_WG_BN / 2, MAE_WG_EPI_LD = MAE_WG_EPI_COLS + 8;
constexpr unsigned MAE_WG_EPI_WARP_BYTES = 16 * MAE_WG_EPI_LD * 4;
constexpr size_t MAE_WG_SMEM = size_t{MAE_WG_RING_BYTES} + 8 * MAE_WG_EPI_WARP_BYTES + 1024;  // + alignment slack
static_assert(MAE_WG_SMEM <= 227 * 1024, "the ring and the staging fit in a block's shared memory");

// Registers a thread: the producer warpgroup gives back what its one TMA thread does not need and the
// consumers take it (setmaxnreg; 128 x 40 + 256 x 232 of the SM's 65,536, the kernel launched at
// 168 a thread), so that the consumers hold the 128 accumulators, the tile walk and the epilogue's
// state without spilling.
constexpr int MAE_WG_PRODUCER_REGS = 40, MAE_WG_CONSUMER_REGS = 232;
static_assert(128 * MAE_WG_PRODUCER_REGS + 256 * MAE_WG_CONSUMER_REGS <= 65536, "the SM's registers");

// Host side. The largest cluster the GEMMs may take: MAE_WG_CLUSTER = 1, 2 (the default) or 4; -1 for
// another value.
inline int mae_wg_cluster_limit() {
  static const int limit = [] {
    const char* e = std::getenv("MAE_WG_CLUSTER");
    if (e == nullptr || *e == 0) return 2;
    return !std::strcmp(e, "1") ? 1 : !std::strcmp(e, "2") ? 2 : !std::strcmp(e, "4") ? 4 : -1;
  }();
  return limit;
}
inline int64_t mae_wg_pad(int64_t tiles, int64_t c) { return (tiles + c - 1) / c * c; }
// The CTAs of a cluster for M rows: the largest power of two up to the limit whose padding of the m
// tiles to a multiple of it adds at most an eighth (a padded block's rows all lie outside the
// matrix); 1 for a single tile; -1 when MAE_WG_CLUSTER is invalid.
inline int64_t mae_wg_cluster(int64_t M) {
  const int64_t limit = mae_wg_cluster_limit(), tiles = (M + MAE_WG_BM - 1) / MAE_WG_BM;
  if (limit < 1) return -1;
  for (int64_t c = limit; c > 1; c /= 2)
    if (tiles >= c && (mae_wg_pad(tiles, c) - tiles) * 8 <= tiles) return c;
  return 1;
}
// The CTAs of a cluster along n (MAE_WG_CLUSTER_N = 1, the default, or 2; -1 for another value),
// each pair sharing A's tile: 2 where that is allowed, N has two or more tiles of 256 columns, their
// padding to an even count adds at most an eighth, and the cluster along m (cm) has at most 4 CTAs.
inline int64_t mae_wg_cluster_n(int64_t N, int64_t cm) {
  static const int limit = [] {
    const char* e = std::getenv("MAE_WG_CLUSTER_N");
    if (e == nullptr || *e == 0 || !std::strcmp(e, "1")) return 1;
    return !std::strcmp(e, "2") ? 2 : -1;
  }();
  const int64_t tiles = (N + MAE_WG_BN - 1) / MAE_WG_BN;
  if (limit < 1) return -1;
  return limit == 2 && cm <= 4 && tiles >= 2 && (mae_wg_pad(tiles, 2) - tiles) * 8 <= tiles ? 2 : 1;
}
// The m tiles padded to whole clusters (the split-K grid's y).
inline int64_t mae_wg_grid_m(int64_t M, int64_t cluster) {
  return mae_wg_pad((M + MAE_WG_BM - 1) / MAE_WG_BM, cluster);
}
// The SMs the persistent grid spreads over: the device's `sms`, or fewer under MAE_WG_SMS (a positive
// integer; the emulator's checks lower it so that blocks run several tiles); -1 when it is invalid.
inline int64_t mae_wg_sms(int64_t sms) {
  static const int64_t cap = [] {
    const char* e = std::getenv("MAE_WG_SMS");
    if (e == nullptr || *e == 0) return int64_t{0};
    char* end = nullptr;
    const long v = std::strtol(e, &end, 10);
    return *end != 0 || v < 1 ? int64_t{-1} : int64_t{v};
  }();
  return cap < 0 ? -1 : cap > 0 && cap < sms ? cap : sms;
}
// Whether the whole-product GEMMs are persistent: 1 (MAE_WG_PERSISTENT unset or 1), 0 under
// MAE_WG_PERSISTENT=0 (a cluster per cluster tile, each block one tile, as before 2026-12-01: what
// gpu-bench.sh compares), -1 for another value.
inline int mae_wg_persistent() {
  static const int on = [] {
    const char* e = std::getenv("MAE_WG_PERSISTENT");
    if (e == nullptr || *e == 0 || !std::strcmp(e, "1")) return 1;
    return !std::strcmp(e, "0") ? 0 : -1;
  }();
  return on;
}
// The persistent grid's clusters for `tiles` cluster tiles: one per `cluster` of the `sms` SMs (one
// block an SM; `active`, the clusters the device can hold at once where it says, caps it), at most
// one per tile, at least one; not persistent, one per tile (within the grid's y limit).
inline int64_t mae_wg_clusters(int64_t tiles, int64_t sms, int64_t cluster, int64_t active, bool persistent = true) {
  int64_t g = persistent ? sms / cluster : 65535 / cluster;
  if (persistent && active > 0 && active < g) g = active;
  if (g > tiles) g = tiles;
  return g < 1 ? 1 : g;
}

namespace {
// One tile of a block's work: sample bb, rows from m0, columns from n0, k tiles [kt0, kt1).
struct MaeWgTile {
  int bb, m0, n0;
  int64_t kt0, kt1;
};

// A box into this CTA's ring (shared by n == 1 CTA) or multicast to the n CTAs of the cluster `mask`
// names.
__device__ __forceinline__ void mae_wg_load(void* dst, const MaeTmaMap& t, int c0, int c1, int bb, uint64_t* bar,
                                            uint16_t mask, unsigned n) {
  if (n == 1) mae_tma_load_3d(dst, &t, c0, c1, bb, bar);
  else mae_tma_load_3d_multicast(dst, &t, c0, c1, bb, bar, mask);
}

// The producer: for each of the block's tiles t = t0, t0 + dt, ... below tn, its k tiles of A and of
// this CTA's parts of B into the ring(s), whose stages and phases run on across tiles (it: the
// block's k tiles so far). `total`, where positive, is the launch's tiles (the emulator's counters:
// the model's balance of a persistent grid).
template <bool ARow, bool BRow, class At>
__device__ __forceinline__ void mae_wg_produce(unsigned char* ring, uint64_t* full, uint64_t* empty,
                                               const MaeTmaMap& ta, const MaeTmaMap& tb, int64_t t0, int64_t tn,
                                               int64_t dt, const At& at, int64_t total, unsigned cn) {
  const unsigned rank = mae_cluster_ctarank(), n = mae_cluster_nctarank() / cn;  // n: the CTAs along m
  const unsigned rm = rank % n, rn = rank / n;
  // the CTAs sharing this one's B tile (its column of the cluster) and its A tile (its row)
  const uint16_t bmask = static_cast<uint16_t>(((1u << n) - 1) << (rn * n));
  const uint16_t amask = static_cast<uint16_t>(cn == 2 ? (1u << rm) | (1u << (rm + n)) : 1u << rank);
  int64_t it = 0;
  for (int64_t t = t0; t < tn; t += dt) {
    const MaeWgTile w = at(t);
    if (total > 0) MAE_COUNT_TILE(total);
    for (int64_t kt = w.kt0; kt < w.kt1; ++kt, ++it) {
      const int s = static_cast<int>(it % MAE_WG_STAGES);
      if (it >= MAE_WG_STAGES) mae_mbar_wait(&empty[s], static_cast<unsigned>((it / MAE_WG_STAGES - 1) & 1));
      mae_mbar_arrive_expect_tx(&full[s], MAE_WG_STAGE_BYTES);  // A and all of B, whichever CTA loads it
      unsigned char* const as = ring + s * MAE_WG_STAGE_BYTES;
      unsigned char* const bs = as + MAE_WG_A_BYTES;
      const int k = static_cast<int>(kt * MAE_WG_BK);
      // A's two boxes of 64 rows (either layout), box h by the CTA of the row with rn == h % cn
      for (unsigned h = rn; h < MAE_WG_BM / 64; h += cn) {
        const int r0 = w.m0 + 64 * static_cast<int>(h);
        if (ARow) mae_wg_load(as + h * 8192, ta, r0, k, w.bb, &full[s], amask, cn);
        else mae_wg_load(as + h * 8192, ta, k, r0, w.bb, &full[s], amask, cn);
      }
      for (unsigned p = rm; p < MAE_WG_B_PARTS; p += n) {
        unsigned char* const part = bs + p * MAE_WG_B_PART_BYTES;
        const int r0 = w.n0 + 64 * static_cast<int>(p);
        if (BRow) mae_wg_load(part, tb, r0, k, w.bb, &full[s], bmask, n);
        else mae_wg_load(part, tb, k, r0, w.bb, &full[s], bmask, n);
      }
    }
  }
}

// The descriptor of k step ks (16 k) of an operand's stage tile: K-major tiles are rows of 128 bytes
// (64 k) in 8-row groups of 1024 bytes, the step 32 bytes along the row; MN-major tiles are boxes of
// 64 k rows of 128 bytes (64 rows of the matrix), 8192 bytes apart (LBO), the step two 8-k groups.
template <bool Row> __device__ __forceinline__ uint64_t mae_wg_desc(const unsigned char* tile, int ks) {
  return Row ? mae_wgmma_desc(tile + ks * 2048, 8192, 1024, 1) : mae_wgmma_desc(tile + ks * 32, 16, 1024, 1);
}

// A consumer warpgroup (c = 0, 1: rows 64 c of the tile): the product over the tile's nk k tiles into
// d, the ring's stages from the block's k tile `it` on (advanced), each released to the producers of
// the cluster's n CTAs.
template <bool ARow, bool BRow>
__device__ __forceinline__ void mae_wg_consume(float (&d)[128], const unsigned char* ring, uint64_t* full,
                                               uint64_t* empty, int c, int64_t& it, int64_t nk, unsigned n) {
  if (nk == 0) {  // no k: the product is zero (otherwise the first wgmma ignores d: scale-d 0)
#pragma unroll
    for (int i = 0; i < 128; ++i) d[i] = 0.f;
  }
  for (int64_t i = 0; i < nk; ++i, ++it) {
    const int s = static_cast<int>(it % MAE_WG_STAGES);
    mae_mbar_wait(&full[s], static_cast<unsigned>((it / MAE_WG_STAGES) & 1));
    const unsigned char* const as = ring + s * MAE_WG_STAGE_BYTES + (ARow ? c * 8192 : c * 64 * 128);
    const unsigned char* const bs = ring + s * MAE_WG_STAGE_BYTES + MAE_WG_A_BYTES;
    mae_wgmma_fence();
#pragma unroll
    for (int ks = 0; ks < MAE_WG_BK / 16; ++ks)
      mae_wgmma_m64n256k16<ARow, BRow>(d, mae_wg_desc<ARow>(as, ks), mae_wg_desc<BRow>(bs, ks), i > 0 || ks > 0);
    mae_wgmma_commit();
    // the stage's group complete, its buffers go back to the producer. (Keeping one group in flight
    // across the loop makes ptxas serialize the wgmma pipeline, C7515; the other consumer
    // warpgroup keeps the tensor cores busy meanwhile.)
    mae_wgmma_wait<0>(d);
    __syncwarp();
    if ((threadIdx.x & 31) == 0)
      for (unsigned r = 0; r < n; ++r) mae_mbar_arrive_cluster(&empty[s], r);
  }
}

// Stages half H (columns 128 H on) of a consumer warp's 16 rows of the accumulators in its buffer st.
// From the fragments, a warp's access to global memory would cover 8 rows of 16 bytes (2 bytes a
// lane); read back along the rows, it covers whole sectors.
template <int H> __device__ __forceinline__ void mae_wg_stage(const float (&d)[128], float* st) {
  const int lane = threadIdx.x & 31, g = lane >> 2, q = lane & 3;
#pragma unroll
  for (int i = 64 * H; i < 64 * H + 64; i += 2)
    mae_st8(st + (g + 8 * ((i & 3) >> 1)) * MAE_WG_EPI_LD + 8 * (i >> 2) - MAE_WG_EPI_COLS * H + 2 * q, d[i],
            d[i + 1]);
}
// Writes out a warp's staged half (rows m1.., columns n1..): sinkv(m, n, acc) with acc the V
// accumulators from column n (V = 4 or 8; N a multiple of V, so that a vector is inside the matrix or
// wholly outside), 128 / V lanes a row. A lane reads its 8 staged floats as two 16-byte halves,
// lanes 4-7 of each phase the second half first, so that a phase's 8 lanes (32 bytes apart) fall on
// 32 distinct banks.
template <int V, class SinkV>
__device__ __forceinline__ void mae_wg_sink_v(const float* st, int64_t M, int64_t N, int64_t m1, int64_t n1,
                                              const SinkV& sinkv) {
  static_assert(V == 4 || V == 8, "16-byte vectors of bf16 or f32");
  constexpr int L = MAE_WG_EPI_COLS / V;  // lanes a row
  const int lane = threadIdx.x & 31, j = (lane % L) * V;
  const int flip = V == 8 ? ((lane >> 2) & 1) * 4 : 0;
  const int64_t n = n1 + j;
  if (n >= N) return;
  for (int r = lane / L; r < 16; r += 32 / L) {
    const int64_t m = m1 + r;
    if (m >= M) break;
    float acc[V];
#pragma unroll
    for (int h = 0; h < V; h += 4) {
      const int q = h ^ flip;
      mae_ld16(*reinterpret_cast<float(*)[4]>(acc + q), st + r * MAE_WG_EPI_LD + j + q);
    }
    sinkv(m, n, acc);
  }
}
// The same with sink(m, n, acc) on each output, a warp's lanes on consecutive columns.
template <class Sink>
__device__ __forceinline__ void mae_wg_sink(const float* st, int64_t M, int64_t N, int64_t m1, int64_t n1,
                                            const Sink& sink) {
  const int lane = threadIdx.x & 31;
  for (int r = 0; r < 16; ++r) {
    const int64_t m = m1 + r;
    if (m >= M) break;
#pragma unroll
    for (int j = lane; j < MAE_WG_EPI_COLS; j += 32) {
      const int64_t n = n1 + j;
      if (n < N) sink(m, n, st[r * MAE_WG_EPI_LD + j]);
    }
  }
}
// A consumer warp's epilogue of its 16 rows (m1 on) of a tile at columns n0: each half staged, then
// half(st, m1, n) writes it out. The warp reads back only what it wrote, so its own barrier orders it.
template <class Half>
__device__ __forceinline__ void mae_wg_epilogue(const float (&d)[128], float* st, int64_t m1, int64_t n0,
                                                const Half& half) {
  __syncwarp();  // the warp's reads of the last tile's staged half are done before it is overwritten
  mae_wg_stage<0>(d, st);
  __syncwarp();
  half(st, m1, n0);
  __syncwarp();  // and of this tile's first half
  mae_wg_stage<1>(d, st);
  __syncwarp();
  half(st, m1, n0 + MAE_WG_EPI_COLS);
}

// A block's tiles t = t0, t0 + dt, ... below tn (at(t): the tile; `total`: as for mae_wg_produce; the
// emulator's sampled blocks run their first and last, MAE_TILES_STEP):
// epi(bb, st, m1, n1) writes out a consumer warp's staged half (mae_wg_sink or mae_wg_sink_v).
template <bool ARow, bool BRow, class At, class Epi>
__device__ __forceinline__ void mae_gemm_wgmma_tiles(const MaeTmaMap& ta, const MaeTmaMap& tb, int64_t t0,
                                                     int64_t tn, int64_t dt, const At& at, int64_t total,
                                                     unsigned cn, const Epi& epi) {
  dt = MAE_TILES_STEP(t0, tn, dt);
  MAE_DYNAMIC_SHARED(1024, unsigned char, mae_wg_smem);
  MAE_SHARED_ALIGNED(8, uint64_t, mae_wg_full, [MAE_WG_STAGES]);
  MAE_SHARED_ALIGNED(8, uint64_t, mae_wg_empty, [MAE_WG_STAGES]);
  unsigned char* const ring = mae_wg_smem + ((1024u - (mae_smem_u32(mae_wg_smem) & 1023u)) & 1023u);
  const int wg = threadIdx.x / 128, w = (threadIdx.x >> 5) & 3;
  const unsigned ctas = mae_cluster_nctarank();
  if (threadIdx.x == 0) {
    for (int s = 0; s < MAE_WG_STAGES; ++s) {
      mae_mbar_init(&mae_wg_full[s], 1);
      mae_mbar_init(&mae_wg_empty[s], 8 * ctas);  // one arrival per consumer warp of each CTA
    }
    mae_mbar_fence_init();
  }
  mae_cluster_sync();  // every CTA's mbarriers initialised before any copy or arrival reaches them
  if (wg == 0) {
    mae_setmaxnreg_dec<MAE_WG_PRODUCER_REGS>();
    if (threadIdx.x == 0)
      mae_wg_produce<ARow, BRow>(ring, mae_wg_full, mae_wg_empty, ta, tb, t0, tn, dt, at, total, cn);
  } else {
    mae_setmaxnreg_inc<MAE_WG_CONSUMER_REGS>();
    const int c = wg - 1;
    float* const st = reinterpret_cast<float*>(ring + MAE_WG_RING_BYTES + (4 * c + w) * MAE_WG_EPI_WARP_BYTES);
    int64_t it = 0;
    for (int64_t t = t0; t < tn; t += dt) {
      const MaeWgTile x = at(t);
      float d[128];
      mae_wg_consume<ARow, BRow>(d, ring, mae_wg_full, mae_wg_empty, c, it, x.kt1 - x.kt0, ctas);
      mae_wg_epilogue(d, st, x.m0 + 64 * c + 16 * w, x.n0,
                      [&](const float* s, int64_t m1, int64_t n1) { epi(x.bb, s, m1, n1); });
    }
  }
  mae_cluster_sync();  // no CTA exits while another may still arrive on its mbarriers
}

// The whole product, persistent: cluster c of the grid's G (grid y / n) computes the cluster tiles
// c, c + G, ... of the BT samples' tilesN x (m tiles / n), its CTA of rank r the m tile n t + r of
// cluster tile t; through the epilogue's 16-byte form outv(bb, m, n, acc[V]) where vec (the
// launcher's check), else out.
template <bool ARow, bool BRow, int V, class Out, class OutV>
__device__ __forceinline__ void mae_gemm_wgmma(int64_t M, int64_t N, int64_t K, int64_t BT, int CN, const MaeTmaMap& ta,
                                               const MaeTmaMap& tb, const Out& out, const OutV& outv, bool vec) {
  const int64_t cta = mae_cluster_nctarank(), n = cta / CN, rank = mae_cluster_ctarank();
  const int64_t nc = (N + MAE_WG_BN * CN - 1) / (MAE_WG_BN * CN), mc = (M + MAE_WG_BM * n - 1) / (MAE_WG_BM * n);
  const int64_t KT = (K + MAE_WG_BK - 1) / MAE_WG_BK, count = nc * mc * BT;
  const auto at = [&](int64_t t) {
    const int64_t r = t / nc;
    return MaeWgTile{static_cast<int>(r / mc), static_cast<int>(((r % mc) * n + rank % n) * MAE_WG_BM),
                     static_cast<int>((t % nc * CN + rank / n) * MAE_WG_BN), 0, KT};
  };
  mae_gemm_wgmma_tiles<ARow, BRow>(
      ta, tb, blockIdx.y / cta, count, gridDim.y / cta, at, count * cta, static_cast<unsigned>(CN),
      [&](int bb, const float* st, int64_t m1, int64_t n1) {
        if (vec)
          mae_wg_sink_v<V>(st, M, N, m1, n1, [&](int64_t m, int64_t c, const float(&acc)[V]) { outv(int64_t{bb}, m, c, acc); });
        else
          mae_wg_sink(st, M, N, m1, n1, [&](int64_t m, int64_t c, float acc) { out(int64_t{bb}, m, c, acc); });
      });
}
// The same for an epilogue with no 16-byte form: out(bb, m, n, acc) on each accumulator.
template <bool ARow, bool BRow, class Out>
__device__ __forceinline__ void mae_gemm_wgmma(int64_t M, int64_t N, int64_t K, int64_t BT, int CN, const MaeTmaMap& ta,
                                               const MaeTmaMap& tb, const Out& out) {
  mae_gemm_wgmma<ARow, BRow, 8>(M, N, K, BT, CN, ta, tb, out, [](int64_t, int64_t, int64_t, const float(&)[8]) {},
                                false);
}

// Split-K (one sample, one tile a block, in the clusters of the whole product): block y's cluster
// tile y / (n CN) is (slice z, m cluster, n cluster), n cluster fastest; it writes the partial
// product over k in [z KS, (z + 1) KS) (KS a multiple of 64) to ws[z][M][N], four floats a 16-byte
// store where N is a multiple of 4 (the workspace is 16-byte aligned).
template <bool ARow, bool BRow>
__device__ __forceinline__ void mae_gemm_wgmma_split(int64_t M, int64_t N, int64_t K, int64_t KS, int CN,
                                                     const MaeTmaMap& ta, const MaeTmaMap& tb, float* ws) {
  const int64_t cta = mae_cluster_nctarank(), n = cta / CN, rank = mae_cluster_ctarank();
  const int64_t nc = (N + MAE_WG_BN * CN - 1) / (MAE_WG_BN * CN), mc = (M + MAE_WG_BM * n - 1) / (MAE_WG_BM * n);
  const int64_t t = blockIdx.y / cta, r = t / nc, z = r / mc;
  const int64_t KT = (K + MAE_WG_BK - 1) / MAE_WG_BK, kt0 = z * (KS / MAE_WG_BK);
  const int64_t kt1 = kt0 + KS / MAE_WG_BK < KT ? kt0 + KS / MAE_WG_BK : KT;
  float* const part = ws + z * M * N;
  const MaeWgTile tile{0, static_cast<int>(((r % mc) * n + rank % n) * MAE_WG_BM),
                       static_cast<int>((t % nc * CN + rank / n) * MAE_WG_BN), kt0, kt1};
  mae_gemm_wgmma_tiles<ARow, BRow>(
      ta, tb, 0, 1, 1, [&](int64_t) { return tile; }, 0, static_cast<unsigned>(CN),
      [&](int, const float* st, int64_t m1, int64_t n1) {
        if (N % 4 == 0)
          mae_wg_sink_v<4>(st, M, N, m1, n1, [&](int64_t m, int64_t c, const float(&a)[4]) {
            mae_st16(part + m * N + c, a[0], a[1], a[2], a[3]);
          });
        else
          mae_wg_sink(st, M, N, m1, n1, [&](int64_t m, int64_t c, float acc) { part[m * N + c] = acc; });
      });
}
}  // namespace
