// flash_forward.cuh: attention_forward on tensor cores, flash-attention-2 style: mma.sync
// m16n8k16 with bf16 operands (f32 tensors are rounded to bf16 as they are staged in shared memory)
// and fp32 accumulators, 128 threads = 4 warps x WM x 16 query rows. A CTA per (64 WM query rows,
// head, samples n = blockIdx.z + k gridDim.z); K/V tiles of BN keys staged in shared memory in two
// buffers (bf16: cp.async copies, the next tile's in flight while the warps work on this one), mma fragments by ldmatrix (V's transposed), each warp's Q fragments held in
// registers, each K or V fragment feeding the warp's WM row tiles (WM = 2 halves the shared-memory
// reads per MMA where the accumulators fit); online softmax in fp32 registers (log2 units); out =
// P V / l and lse = m + log(l) written out. Any sequence length: tails are zero-staged and masked.
// Dynamic shared memory: (64 WM + 4 BN)(E + 8) bf16.
#pragma once
#include "flash_common.cuh"

namespace {
// One key tile's online softmax for a warp's 16 query rows: scores s (in place: the scores in log2
// units, keys at or past T masked, then their exponentials) against the running maximum m and sum l
// of rows g (c < 2) and g + 8 of this thread, rescaling the output accumulators o.
template <int NS, int NE>
__device__ __forceinline__ void mae_fa_online_softmax(float (&s)[NS][4], float (&o)[NE][4], float (&m)[2], float (&l)[2],
                                                      int64_t k0, int64_t T, float sl2, int t) {
  float mx[2] = {m[0], m[1]};
#pragma unroll
  for (int j = 0; j < NS; ++j)
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      s[j][c] = k0 + j * 8 + 2 * t + (c & 1) < T ? s[j][c] * sl2 : -INFINITY;
      mx[c >> 1] = fmaxf(mx[c >> 1], s[j][c]);
    }
  float corr[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
    mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
    corr[r] = exp2f(m[r] - mx[r]);
    m[r] = mx[r];
    l[r] *= corr[r];
  }
#pragma unroll
  for (int j = 0; j < NS; ++j)
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      s[j][c] = exp2f(s[j][c] - m[c >> 1]);
      l[c >> 1] += s[j][c];
    }
#pragma unroll
  for (int i = 0; i < NE; ++i) {
    o[i][0] *= corr[0];
    o[i][1] *= corr[0];
    o[i][2] *= corr[1];
    o[i][3] *= corr[1];
  }
}

// Forward: a CTA per (64 WM query rows, head h, samples n = blockIdx.z + k gridDim.z).
// The parameters are attention_forward's signature (outputs, inputs, params, sizes; the size E is the
// template's), then the layout.
template <typename TS, int E, int BN, int WM>
__device__ __forceinline__ void mae_fa_forward(TS* __restrict__ out, float* __restrict__ lse, const TS* __restrict__ qkv,
                                               float scale, int64_t N, int64_t T, int64_t /*H*/, int64_t /*E*/,
                                               const mae_flash_layout lay) {
  constexpr int BM = 64 * WM, LD = E + 8, NE = E / 8, NS = BN / 8;
  static_assert(E % 16 == 0 && BN % 16 == 0, "ldmatrix takes B two 8-wide tiles at a time");
  MAE_DYNAMIC_SHARED(16, unsigned char, mae_fa_smem_raw);
  __nv_bfloat16* Qs = reinterpret_cast<__nv_bfloat16*>(mae_fa_smem_raw);
  __nv_bfloat16* const KVs = Qs + BM * LD;  // two buffers of K then V, BN rows each
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
  const int64_t h = blockIdx.y, q0 = (int64_t)blockIdx.x * BM;
  const float sl2 = scale * MAE_LOG2E;
  for (int64_t n = blockIdx.z; n < N; n += gridDim.z) {
    const TS* qb = qkv + n * lay.qkv_n + h * lay.qkv_h;
    // key tile `it`'s K and V into buffer it % 2 (cp.async where they are bf16: mae_fa_stage_async)
    const auto stage_kv = [&](int64_t k0, int b) {
      mae_fa_stage_async<BN, E>(KVs + b * 2 * BN * LD, qb + lay.qkv_part, lay.qkv_t, k0, T);
      mae_fa_stage_async<BN, E>(KVs + (b * 2 + 1) * BN * LD, qb + 2 * lay.qkv_part, lay.qkv_t, k0, T);
    };
    __syncthreads();  // the previous sample's last tile is done with the buffers
    mae_fa_stage_async<BM, E>(Qs, qb, lay.qkv_t, q0, T);
    mae_cp_async_commit();
    stage_kv(0, 0);
    mae_cp_async_commit();
    mae_cp_async_wait<1>();  // Q landed (the first key tile may still be in flight)
    __syncthreads();
    // this warp's WM x 16 query rows as mma A fragments, held for every key tile
    uint32_t aq[WM][E / 16][4];
#pragma unroll
    for (int w = 0; w < WM; ++w)
#pragma unroll
      for (int kk = 0; kk < E / 16; ++kk) mae_fa_a<LD>(aq[w][kk], Qs, (warp * WM + w) * 16, kk * 16);
    float o[WM][NE][4], m[WM][2], l[WM][2];
#pragma unroll
    for (int w = 0; w < WM; ++w) {
      mae_fa_zero(o[w]);
      m[w][0] = m[w][1] = -INFINITY;
      l[w][0] = l[w][1] = 0.f;
    }
    for (int64_t k0 = 0, it = 0; k0 < T; k0 += BN, ++it) {
      const int b = static_cast<int>(it & 1);
      __syncthreads();  // every warp is done with buffer b ^ 1 (the previous tile)
      if (k0 + BN < T) stage_kv(k0 + BN, b ^ 1);
      mae_cp_async_commit();
      mae_cp_async_wait<1>();  // this tile landed; the next one's copies stay in flight
      __syncthreads();
      const __nv_bfloat16* const Ks = KVs + b * 2 * BN * LD;
      const __nv_bfloat16* const Vs = Ks + BN * LD;
      float s[WM][NS][4];
#pragma unroll
      for (int w = 0; w < WM; ++w) mae_fa_zero(s[w]);
#pragma unroll
      for (int kk = 0; kk < E / 16; ++kk)
#pragma unroll
        for (int j = 0; j < NS; j += 2) {
          uint32_t b0[2], b1[2];
          mae_fa_b2<LD>(b0, b1, Ks, j * 8, kk * 16);
#pragma unroll
          for (int w = 0; w < WM; ++w) {
            mae_mma_bf16_16816(s[w][j], aq[w][kk], b0);
            mae_mma_bf16_16816(s[w][j + 1], aq[w][kk], b1);
          }
        }
#pragma unroll
      for (int w = 0; w < WM; ++w) mae_fa_online_softmax<NS, NE>(s[w], o[w], m[w], l[w], k0, T, sl2, t);
#pragma unroll
      for (int kk = 0; kk < NS / 2; ++kk) {
        uint32_t a[WM][4];
#pragma unroll
        for (int w = 0; w < WM; ++w) mae_fa_acc_a(a[w], s[w][2 * kk], s[w][2 * kk + 1]);
#pragma unroll
        for (int i = 0; i < NE; i += 2) {
          uint32_t b0[2], b1[2];
          mae_fa_bt2<LD>(b0, b1, Vs, kk * 16, i * 8);
#pragma unroll
          for (int w = 0; w < WM; ++w) {
            mae_mma_bf16_16816(o[w][i], a[w], b0);
            mae_mma_bf16_16816(o[w][i + 1], a[w], b1);
          }
        }
      }
    }
    TS* ob = out + n * lay.out_n + h * lay.out_h;
    float* lb = lse + n * lay.lse_n + h * lay.lse_h;
#pragma unroll
    for (int w = 0; w < WM; ++w) {
      float inv[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        l[w][r] += __shfl_xor_sync(0xffffffffu, l[w][r], 1);
        l[w][r] += __shfl_xor_sync(0xffffffffu, l[w][r], 2);
        inv[r] = 1.f / l[w][r];
      }
      const int64_t r0 = q0 + (warp * WM + w) * 16 + g;
      mae_fa_store_row<NE>(ob, r0, lay.out_t, o[w], 0, inv[0], t, r0 < T);
      mae_fa_store_row<NE>(ob, r0 + 8, lay.out_t, o[w], 2, inv[1], t, r0 + 8 < T);
      if (t == 0) {
        if (r0 < T) lb[r0] = (m[w][0] + log2f(l[w][0])) * MAE_LN2;
        if (r0 + 8 < T) lb[r0 + 8] = (m[w][1] + log2f(l[w][1])) * MAE_LN2;
      }
    }
  }
}
}  // namespace
