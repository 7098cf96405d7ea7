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
//   - the epilogue stages each consumer's accumulators in the ring (mae_wg_stage, between block
//     barriers) and runs out(bb, m, n, acc) on each one inside the matrix, a warp's lanes along a
//     row (mae_wg_sink), or, where the op's epilogue has a 16-byte form and the launcher finds every
//     tensor it reads or writes along n whole aligned vectors, outv(bb, m, n, acc[V]) on V
//     consecutive outputs a lane (mae_wg_sink_v: one 16-byte access per tensor where there were V);
//   - blocks run in thread block clusters of n = 1, 2 or 4 CTAs along m (grid y, padded to a
//     multiple: mae_wg_cluster, mae_wg_grid_m; launched with MAE_LAUNCH_CLUSTER) whose CTAs share
//     B's tile: it comes in MAE_WG_B_PARTS parts of 64 rows (K-major: a box of 64 k x 64 rows;
//     MN-major: a box of 64 rows x 64 k), CTA r loading the parts p with p % n == r and multicasting
//     each to every CTA of the cluster, so that a CTA reads from L2 its A tile and 1/n of B's (with
//     n = 2, 128 + 128 rows per k tile: 128 FLOP per byte; n = 4: 170; alone: 85). A stage goes back
//     to the producers when the consumer warps of every CTA have released it (each warp arrives on
//     the `empty` mbarrier of every CTA: 8 x n arrivals), and no CTA exits while another may still
//     reach its shared memory (barrier.cluster at the end; another after the mbarriers are
//     initialised).
// Out-of-range rows and k (edge tiles, k not a multiple of 64) arrive as zeros from TMA. Split-K
// (mae_gemm_wgmma_split) writes f32 partials over slices of k, summed by gemm_async.cuh's
// mae_gemm_split_reduce. Launch with MAE_WG_THREADS threads and MAE_WG_SMEM bytes of dynamic shared
// memory; the launcher builds the tensor maps (mae_tma_map_3d: dims {contiguous, other, batch}, box
// {64, rows}: MAE_WG_BM rows of A, MAE_WG_BN / MAE_WG_B_PARTS of B, 64 where MN-major) and checks the
// operands as for gemm_async.cuh.
#pragma once
#include <cstdlib>
#include <cstring>

#include "hopper.cuh"

constexpr int MAE_WG_BM = 128, MAE_WG_BN = 256, MAE_WG_BK = 64, MAE_WG_STAGES = 4, MAE_WG_THREADS = 384;
constexpr unsigned MAE_WG_A_BYTES = MAE_WG_BM * MAE_WG_BK * 2, MAE_WG_B_BYTES = MAE_WG_BN * MAE_WG_BK * 2;
constexpr unsigned MAE_WG_STAGE_BYTES = MAE_WG_A_BYTES + MAE_WG_B_BYTES;
constexpr size_t MAE_WG_SMEM = size_t{MAE_WG_STAGES} * MAE_WG_STAGE_BYTES + 1024;  // + alignment slack
constexpr int MAE_WG_B_PARTS = 4;  // B's tile in parts of 64 rows: clusters of 1, 2 or 4 CTAs
constexpr unsigned MAE_WG_B_PART_BYTES = MAE_WG_B_BYTES / MAE_WG_B_PARTS;
static_assert(MAE_WG_BN / MAE_WG_B_PARTS == 64, "a part of B is one TMA box in either layout");
// The epilogue's staged tile: floats per row (8 past the tile's 256, so that the 8-byte stores of a
// half-warp's fragments, 4 rows x 4 column pairs, fall on 32 distinct banks), 64 rows per consumer
// warpgroup, in the ring.
constexpr int MAE_WG_EPI_LD = MAE_WG_BN + 8;
static_assert(2 * 64 * MAE_WG_EPI_LD * 4 <= MAE_WG_STAGES * MAE_WG_STAGE_BYTES, "the staged tile fits in the ring");

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
// The grid's y: the m tiles padded to whole clusters.
inline int64_t mae_wg_grid_m(int64_t M, int64_t cluster) {
  return mae_wg_pad((M + MAE_WG_BM - 1) / MAE_WG_BM, cluster);
}

namespace {
// A box of B into this CTA's ring (n == 1) or multicast to the n CTAs of the cluster.
__device__ __forceinline__ void mae_wg_load_b(void* dst, const MaeTmaMap& tb, int c0, int c1, int bb, uint64_t* bar,
                                              unsigned n) {
  if (n == 1) mae_tma_load_3d(dst, &tb, c0, c1, bb, bar);
  else mae_tma_load_3d_multicast(dst, &tb, c0, c1, bb, bar, static_cast<uint16_t>((1u << n) - 1));
}

// The producer: k tiles [kt0, kt1) of A and of this CTA's parts of B into the ring(s).
template <bool ARow, bool BRow>
__device__ __forceinline__ void mae_wg_produce(unsigned char* ring, uint64_t* full, uint64_t* empty,
                                               const MaeTmaMap& ta, const MaeTmaMap& tb, int bb, int m0, int n0,
                                               int64_t kt0, int64_t kt1) {
  const unsigned rank = mae_cluster_ctarank(), n = mae_cluster_nctarank();
  for (int64_t i = 0; i < kt1 - kt0; ++i) {
    const int s = static_cast<int>(i % MAE_WG_STAGES);
    if (i >= MAE_WG_STAGES) mae_mbar_wait(&empty[s], static_cast<unsigned>((i / MAE_WG_STAGES - 1) & 1));
    mae_mbar_arrive_expect_tx(&full[s], MAE_WG_STAGE_BYTES);  // A and all of B, whichever CTA loads it
    unsigned char* const as = ring + s * MAE_WG_STAGE_BYTES;
    unsigned char* const bs = as + MAE_WG_A_BYTES;
    const int k = static_cast<int>((kt0 + i) * MAE_WG_BK);
    if (ARow) {
      for (int h = 0; h < MAE_WG_BM / 64; ++h) mae_tma_load_3d(as + h * 8192, &ta, m0 + 64 * h, k, bb, &full[s]);
    } else {
      mae_tma_load_3d(as, &ta, k, m0, bb, &full[s]);
    }
    for (unsigned p = rank; p < MAE_WG_B_PARTS; p += n) {
      unsigned char* const part = bs + p * MAE_WG_B_PART_BYTES;
      const int r0 = n0 + 64 * static_cast<int>(p);
      if (BRow) mae_wg_load_b(part, tb, r0, k, bb, &full[s], n);
      else mae_wg_load_b(part, tb, k, r0, bb, &full[s], n);
    }
  }
}

// The descriptor of k step ks (16 k) of an operand's stage tile: K-major tiles are rows of 128 bytes
// (64 k) in 8-row groups of 1024 bytes, the step 32 bytes along the row; MN-major tiles are boxes of
// 64 k rows of 128 bytes (64 rows of the matrix), 8192 bytes apart (LBO), the step two 8-k groups.
template <bool Row> __device__ __forceinline__ uint64_t mae_wg_desc(const unsigned char* tile, int ks) {
  return Row ? mae_wgmma_desc(tile + ks * 2048, 8192, 1024, 1) : mae_wgmma_desc(tile + ks * 32, 16, 1024, 1);
}

// A consumer warpgroup (c = 0, 1: rows 64 c of the tile): the product over k tiles [0, nk) into d,
// each stage released to the producers of the cluster's n CTAs.
template <bool ARow, bool BRow>
__device__ __forceinline__ void mae_wg_consume(float (&d)[128], const unsigned char* ring, uint64_t* full,
                                               uint64_t* empty, int c, int64_t nk, unsigned n) {
  if (nk == 0) {  // no k: the product is zero (otherwise the first wgmma ignores d: scale-d 0)
#pragma unroll
    for (int i = 0; i < 128; ++i) d[i] = 0.f;
  }
  for (int64_t i = 0; i < nk; ++i) {
    const int s = static_cast<int>(i % MAE_WG_STAGES);
    mae_mbar_wait(&full[s], static_cast<unsigned>((i / MAE_WG_STAGES) & 1));
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

// The epilogue, in two steps between block barriers (the ring is free once every wgmma is done with
// it and every copy into it has landed): a consumer warpgroup (c = 0, 1: rows 64 c of the tile)
// stages its accumulators in shared memory; then it runs sink(m, n, acc) row by row with a warp's
// lanes on consecutive columns, so that the sink's loads and stores (outputs, bias, residual) are
// whole sectors. From the fragments, a warp's access covered 8 rows of 16 bytes (2 bytes a lane).
__device__ __forceinline__ void mae_wg_stage(const float (&d)[128], float* st) {
  const int lane = threadIdx.x & 31, w = (threadIdx.x >> 5) & 3, g = lane >> 2, q = lane & 3;
#pragma unroll
  for (int i = 0; i < 128; i += 2)
    mae_st8(st + (16 * w + g + 8 * ((i & 3) >> 1)) * MAE_WG_EPI_LD + 8 * (i >> 2) + 2 * q, d[i], d[i + 1]);
}
// The same with a lane on V consecutive columns (V = 4 or 8; N a multiple of V, so that a vector is
// inside the matrix or wholly outside): sinkv(m, n, acc) with acc the V accumulators from column n.
// A lane reads its 8 staged floats as two 16-byte halves, lanes 4-7 of each phase the second half
// first, so that a phase's 8 lanes (32 bytes apart) fall on 32 distinct banks.
template <int V, class SinkV>
__device__ __forceinline__ void mae_wg_sink_v(const float* st, int c, int64_t M, int64_t N, int m0, int n0,
                                              const SinkV& sinkv) {
  static_assert(V == 4 || V == 8, "16-byte vectors of bf16 or f32");
  const int lane = threadIdx.x & 31, w = (threadIdx.x >> 5) & 3;
  const int flip = V == 8 ? ((lane >> 2) & 1) * 4 : 0;
  for (int r = 16 * w; r < 16 * w + 16; ++r) {
    const int64_t m = m0 + 64 * c + r;
    if (m >= M) break;
#pragma unroll
    for (int j = lane * V; j < MAE_WG_BN; j += 32 * V) {
      const int64_t n = n0 + j;
      if (n >= N) continue;
      float acc[V];
#pragma unroll
      for (int h = 0; h < V; h += 4) {
        const int q = h ^ flip;
        mae_ld16(*reinterpret_cast<float(*)[4]>(acc + q), st + r * MAE_WG_EPI_LD + j + q);
      }
      sinkv(m, n, acc);
    }
  }
}
template <class Sink>
__device__ __forceinline__ void mae_wg_sink(const float* st, int c, int64_t M, int64_t N, int m0, int n0,
                                            const Sink& sink) {
  const int lane = threadIdx.x & 31, w = (threadIdx.x >> 5) & 3;
  for (int r = 16 * w; r < 16 * w + 16; ++r) {
    const int64_t m = m0 + 64 * c + r;
    if (m >= M) break;
#pragma unroll
    for (int j = 0; j < MAE_WG_BN / 32; ++j) {
      const int64_t n = n0 + lane + 32 * j;
      if (n < N) sink(m, n, st[r * MAE_WG_EPI_LD + lane + 32 * j]);
    }
  }
}

// One block's tile (bb, m0, n0) over k tiles [kt0, kt1): epi(st, c) writes out the staged rows of
// consumer warpgroup c (mae_wg_sink or mae_wg_sink_v).
template <bool ARow, bool BRow, class Epi>
__device__ __forceinline__ void mae_gemm_wgmma_block(const MaeTmaMap& ta, const MaeTmaMap& tb, int bb, int m0,
                                                     int n0, int64_t kt0, int64_t kt1, const Epi& epi) {
  MAE_DYNAMIC_SHARED(1024, unsigned char, mae_wg_smem);
  MAE_SHARED_ALIGNED(8, uint64_t, mae_wg_full, [MAE_WG_STAGES]);
  MAE_SHARED_ALIGNED(8, uint64_t, mae_wg_empty, [MAE_WG_STAGES]);
  unsigned char* const ring = mae_wg_smem + ((1024u - (mae_smem_u32(mae_wg_smem) & 1023u)) & 1023u);
  const int wg = threadIdx.x / 128;
  const unsigned ctas = mae_cluster_nctarank();
  if (threadIdx.x == 0) {
    for (int s = 0; s < MAE_WG_STAGES; ++s) {
      mae_mbar_init(&mae_wg_full[s], 1);
      mae_mbar_init(&mae_wg_empty[s], 8 * ctas);  // one arrival per consumer warp of each CTA
    }
    mae_mbar_fence_init();
  }
  mae_cluster_sync();  // every CTA's mbarriers initialised before any copy or arrival reaches them
  float d[128];
  if (wg == 0) {
    if (threadIdx.x == 0) mae_wg_produce<ARow, BRow>(ring, mae_wg_full, mae_wg_empty, ta, tb, bb, m0, n0, kt0, kt1);
  } else {
    mae_wg_consume<ARow, BRow>(d, ring, mae_wg_full, mae_wg_empty, wg - 1, kt1 - kt0, ctas);
  }
  __syncthreads();  // the ring holds the epilogue's tile from here
  float* const st = reinterpret_cast<float*>(ring) + (wg > 0 ? wg - 1 : 0) * 64 * MAE_WG_EPI_LD;
  if (wg > 0) mae_wg_stage(d, st);
  __syncthreads();
  if (wg > 0) epi(st, wg - 1);
  mae_cluster_sync();  // no CTA exits while another may still arrive on its mbarriers
}

// The whole product: block (x, y, z) computes tile (n tile x, m tile y) of sample z, through the
// epilogue's 16-byte form outv(bb, m, n, acc[V]) where vec (the launcher's check), else out.
template <bool ARow, bool BRow, int V, class Out, class OutV>
__device__ __forceinline__ void mae_gemm_wgmma(int64_t M, int64_t N, int64_t K, const MaeTmaMap& ta,
                                               const MaeTmaMap& tb, const Out& out, const OutV& outv, bool vec) {
  const int bb = static_cast<int>(blockIdx.z), m0 = static_cast<int>(blockIdx.y) * MAE_WG_BM;
  const int n0 = static_cast<int>(blockIdx.x) * MAE_WG_BN;
  mae_gemm_wgmma_block<ARow, BRow>(ta, tb, bb, m0, n0, 0, (K + MAE_WG_BK - 1) / MAE_WG_BK, [&](const float* st, int c) {
    if (vec)
      mae_wg_sink_v<V>(st, c, M, N, m0, n0, [&](int64_t m, int64_t n, const float(&acc)[V]) { outv(int64_t{bb}, m, n, acc); });
    else
      mae_wg_sink(st, c, M, N, m0, n0, [&](int64_t m, int64_t n, float acc) { out(int64_t{bb}, m, n, acc); });
  });
}
// The same for an epilogue with no 16-byte form: out(bb, m, n, acc) on each accumulator.
template <bool ARow, bool BRow, class Out>
__device__ __forceinline__ void mae_gemm_wgmma(int64_t M, int64_t N, int64_t K, const MaeTmaMap& ta,
                                               const MaeTmaMap& tb, const Out& out) {
  mae_gemm_wgmma<ARow, BRow, 8>(M, N, K, ta, tb, out, [](int64_t, int64_t, int64_t, const float(&)[8]) {}, false);
}

// Split-K (one sample): blockIdx.x is (slice z, n tile); block (z, n tile, m tile) writes the partial
// product over k in [z KS, (z + 1) KS) (KS a multiple of 64) to ws[z][M][N], four floats a 16-byte
// store where N is a multiple of 4 (the workspace is 16-byte aligned).
template <bool ARow, bool BRow>
__device__ __forceinline__ void mae_gemm_wgmma_split(int64_t M, int64_t N, int64_t K, int64_t KS,
                                                     const MaeTmaMap& ta, const MaeTmaMap& tb, float* ws) {
  const int64_t tilesN = (N + MAE_WG_BN - 1) / MAE_WG_BN, z = blockIdx.x / tilesN;
  const int64_t KT = (K + MAE_WG_BK - 1) / MAE_WG_BK, kt0 = z * (KS / MAE_WG_BK);
  const int64_t kt1 = kt0 + KS / MAE_WG_BK < KT ? kt0 + KS / MAE_WG_BK : KT;
  float* const part = ws + z * M * N;
  const int m0 = static_cast<int>(blockIdx.y) * MAE_WG_BM, n0 = static_cast<int>((blockIdx.x % tilesN) * MAE_WG_BN);
  mae_gemm_wgmma_block<ARow, BRow>(ta, tb, 0, m0, n0, kt0, kt1, [&](const float* st, int c) {
    if (N % 4 == 0)
      mae_wg_sink_v<4>(st, c, M, N, m0, n0, [&](int64_t m, int64_t n, const float(&a)[4]) {
        mae_st16(part + m * N + n, a[0], a[1], a[2], a[3]);
      });
    else
      mae_wg_sink(st, c, M, N, m0, n0, [&](int64_t m, int64_t n, float acc) { part[m * N + n] = acc; });
  });
}
}  // namespace
