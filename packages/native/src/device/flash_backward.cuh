// flash_backward.cuh: attention_backward on tensor cores (flash-attention-2, no atomics), with the
// forward's ldmatrix fragments and 16-byte staging (flash_common.cuh), the walked tiles in two
// buffers (bf16: cp.async copies, the next tile's in flight while the warps work on this one), 128
// threads = 4 warps, each owning WM tiles of 16 rows (WM = 2 where the accumulators fit: each B
// fragment then feeds two MMAs). dK and dV: a CTA per (64 WM keys, head, samples) accumulates both
// over every query tile of BQ rows, its K and V fragments held in registers at head sizes up to 64; dQ: a CTA per (64 WM query rows, head, samples) accumulates it
// over every key tile of BK keys. D = rowsum(dO O) is computed inline from global memory in both
// (16-byte loads, while the tile's copies are in flight: mae_fa_rowdot); P is recomputed from the forward's lse. Parameters:
// attention_backward's signature (the size E is the template's), then the layout.
#pragma once
#include "flash_common.cuh"

namespace {
// Backward dK, dV: a CTA per (64 WM keys, head, samples); each warp owns WM x 16 keys and walks the
// query tiles of BQ rows: S^T = K Q^T, dP^T = V dO^T, P^T = exp(S^T - lse), dS^T = P^T (dP^T - D),
// dV += P^T dO, dK += dS^T Q.
template <typename TS, int E, int BQ, int WM>
__device__ __forceinline__ void mae_fa_dkdv(TS* __restrict__ dqkv, const TS* __restrict__ dout, const TS* __restrict__ qkv,
                                            const TS* __restrict__ out, const float* __restrict__ lse, float scale,
                                            int64_t N, int64_t T, int64_t /*H*/, int64_t /*E*/, const mae_flash_layout lay) {
  constexpr int BK = 64 * WM, LD = E + 8, NE = E / 8, NQ = BQ / 8, HK = E <= 64 ? E / 16 : 1;
  static_assert(E % 16 == 0 && BQ % 16 == 0, "ldmatrix takes B two 8-wide tiles at a time");
  MAE_DYNAMIC_SHARED(16, unsigned char, mae_fa_smem_raw);
  __nv_bfloat16* Ks = reinterpret_cast<__nv_bfloat16*>(mae_fa_smem_raw);
  __nv_bfloat16* Vs = Ks + BK * LD;
  __nv_bfloat16* const QOs = Vs + BK * LD;  // two buffers of Q then dO, BQ rows each
  float* Ls = reinterpret_cast<float*>(QOs + 4 * BQ * LD);
  float* Ds = Ls + BQ;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
  const int64_t h = blockIdx.y, k0 = (int64_t)blockIdx.x * BK, rs = lay.qkv_t, os = lay.out_t, part = lay.qkv_part;
  const float sl2 = scale * MAE_LOG2E;
  for (int64_t n = blockIdx.z; n < N; n += gridDim.z) {
    const TS* qb = qkv + n * lay.qkv_n + h * lay.qkv_h;
    const TS* ob = out + n * lay.out_n + h * lay.out_h;
    const TS* dob = dout + n * lay.out_n + h * lay.out_h;
    const float* lb = lse + n * lay.lse_n + h * lay.lse_h;
    TS* db = dqkv + n * lay.qkv_n + h * lay.qkv_h;
    const bool rowdot = mae_fa_rowdot_ok(dob, ob, os);
    // query tile `it`'s Q and dO into buffer it % 2 (cp.async where they are bf16)
    const auto stage_qo = [&](int64_t q0, int b) {
      mae_fa_stage_async<BQ, E>(QOs + b * 2 * BQ * LD, qb, rs, q0, T);
      mae_fa_stage_async<BQ, E>(QOs + (b * 2 + 1) * BQ * LD, dob, os, q0, T);
    };
    __syncthreads();  // the previous sample's last tile is done with shared memory
    mae_fa_stage_async<BK, E>(Ks, qb + part, rs, k0, T);
    mae_fa_stage_async<BK, E>(Vs, qb + 2 * part, rs, k0, T);
    mae_cp_async_commit();
    stage_qo(0, 0);
    mae_cp_async_commit();
    // this warp's WM x 16 keys of K and V as mma A fragments: held for every query tile where they
    // fit in registers (head sizes up to 64; wider heads would spill), else loaded per k step
    uint32_t ak[WM][HK][4], av[WM][HK][4];
    if constexpr (HK > 1) {
      mae_cp_async_wait<1>();  // K and V landed (the first query tile may still be in flight)
      __syncthreads();
#pragma unroll
      for (int w = 0; w < WM; ++w)
#pragma unroll
        for (int kk = 0; kk < HK; ++kk) {
          mae_fa_a<LD>(ak[w][kk], Ks, (warp * WM + w) * 16, kk * 16);
          mae_fa_a<LD>(av[w][kk], Vs, (warp * WM + w) * 16, kk * 16);
        }
    }
    float dk[WM][NE][4], dv[WM][NE][4];
#pragma unroll
    for (int w = 0; w < WM; ++w) {
      mae_fa_zero(dk[w]);
      mae_fa_zero(dv[w]);
    }
    for (int64_t q0 = 0, it = 0; q0 < T; q0 += BQ, ++it) {
      const int b = static_cast<int>(it & 1);
      __syncthreads();  // every warp is done with buffer b ^ 1, Ls and Ds (the previous tile)
      if (q0 + BQ < T) stage_qo(q0 + BQ, b ^ 1);
      mae_cp_async_commit();
      // D and lse (log2 units) of the tile's rows: a warp's RW rows
      constexpr int RW = BQ / (MAE_FA_THREADS / 32);
      bool dotted = false;
      if constexpr (mae_fa_rowdot_fits<E>(RW)) {
        if (rowdot) {
          constexpr int CPR = E / 8, RP = 32 / CPR;
          float d[RW / RP];
#pragma unroll
          for (int p = 0; p < RW / RP; ++p) d[p] = mae_fa_rowdot<E>(dob, ob, os, q0 + warp * RW + p * RP, T);
#pragma unroll
          for (int p = 0; p < RW / RP; ++p) {
            const int r = warp * RW + p * RP + lane / CPR;
            if (lane % CPR == 0) {
              Ds[r] = d[p];
              Ls[r] = q0 + r < T ? lb[q0 + r] * MAE_LOG2E : 0.f;
            }
          }
          dotted = true;
        }
      }
      for (int r = warp; !dotted && r < BQ; r += MAE_FA_THREADS / 32) {
        const int64_t row = q0 + r;
        float d = 0.f;
        if (row < T)
          for (int c = lane; c < E; c += 32) d += mae_ldf(dob + row * os + c) * mae_ldf(ob + row * os + c);
        d = mae_warp_sum(d);
        if (lane == 0) {
          Ds[r] = d;
          Ls[r] = row < T ? lb[row] * MAE_LOG2E : 0.f;
        }
      }
      mae_cp_async_wait<1>();  // this tile (and K, V) landed; the next one's copies stay in flight
      __syncthreads();
      const __nv_bfloat16* const Qs = QOs + b * 2 * BQ * LD;
      const __nv_bfloat16* const Os = Qs + BQ * LD;  // dO
      float s[WM][NQ][4], dp[WM][NQ][4];
#pragma unroll
      for (int w = 0; w < WM; ++w) {
        mae_fa_zero(s[w]);
        mae_fa_zero(dp[w]);
      }
#pragma unroll
      for (int kk = 0; kk < E / 16; ++kk) {
        const int hk = HK > 1 ? kk : 0;
        if constexpr (HK == 1) {
#pragma unroll
          for (int w = 0; w < WM; ++w) {
            mae_fa_a<LD>(ak[w][0], Ks, (warp * WM + w) * 16, kk * 16);
            mae_fa_a<LD>(av[w][0], Vs, (warp * WM + w) * 16, kk * 16);
          }
        }
#pragma unroll
        for (int j = 0; j < NQ; j += 2) {
          uint32_t b0[2], b1[2];
          mae_fa_b2<LD>(b0, b1, Qs, j * 8, kk * 16);
#pragma unroll
          for (int w = 0; w < WM; ++w) {
            mae_mma_bf16_16816(s[w][j], ak[w][hk], b0);
            mae_mma_bf16_16816(s[w][j + 1], ak[w][hk], b1);
          }
          mae_fa_b2<LD>(b0, b1, Os, j * 8, kk * 16);
#pragma unroll
          for (int w = 0; w < WM; ++w) {
            mae_mma_bf16_16816(dp[w][j], av[w][hk], b0);
            mae_mma_bf16_16816(dp[w][j + 1], av[w][hk], b1);
          }
        }
      }
#pragma unroll
      for (int w = 0; w < WM; ++w)
#pragma unroll
        for (int j = 0; j < NQ; ++j)
#pragma unroll
          for (int c = 0; c < 4; ++c) {
            const int qi = j * 8 + 2 * t + (c & 1);
            const float p = q0 + qi < T ? exp2f(s[w][j][c] * sl2 - Ls[qi]) : 0.f;
            s[w][j][c] = p;
            dp[w][j][c] = p * (dp[w][j][c] - Ds[qi]);
          }
#pragma unroll
      for (int kk = 0; kk < NQ / 2; ++kk) {
        uint32_t ap[WM][4], as[WM][4];
#pragma unroll
        for (int w = 0; w < WM; ++w) {
          mae_fa_acc_a(ap[w], s[w][2 * kk], s[w][2 * kk + 1]);
          mae_fa_acc_a(as[w], dp[w][2 * kk], dp[w][2 * kk + 1]);
        }
#pragma unroll
        for (int i = 0; i < NE; i += 2) {
          uint32_t b0[2], b1[2];
          mae_fa_bt2<LD>(b0, b1, Os, kk * 16, i * 8);
#pragma unroll
          for (int w = 0; w < WM; ++w) {
            mae_mma_bf16_16816(dv[w][i], ap[w], b0);
            mae_mma_bf16_16816(dv[w][i + 1], ap[w], b1);
          }
          mae_fa_bt2<LD>(b0, b1, Qs, kk * 16, i * 8);
#pragma unroll
          for (int w = 0; w < WM; ++w) {
            mae_mma_bf16_16816(dk[w][i], as[w], b0);
            mae_mma_bf16_16816(dk[w][i + 1], as[w], b1);
          }
        }
      }
    }
#pragma unroll
    for (int w = 0; w < WM; ++w)
#pragma unroll
      for (int h8 = 0; h8 < 2; ++h8) {
        const int64_t key = k0 + (warp * WM + w) * 16 + g + h8 * 8;
        mae_fa_store_row<NE>(db + part, key, rs, dk[w], 2 * h8, scale, t, key < T);
        mae_fa_store_row<NE>(db + 2 * part, key, rs, dv[w], 2 * h8, 1.f, t, key < T);
      }
  }
}

// Backward dQ: a CTA per (64 WM query rows, head, samples); each warp owns WM x 16 rows and walks
// the key tiles: S = Q K^T, dP = dO V^T, dS = exp(S - lse) (dP - D), dQ += dS K.
template <typename TS, int E, int BK, int WM>
__device__ __forceinline__ void mae_fa_dq(TS* __restrict__ dqkv, const TS* __restrict__ dout, const TS* __restrict__ qkv,
                                          const TS* __restrict__ out, const float* __restrict__ lse, float scale,
                                          int64_t N, int64_t T, int64_t /*H*/, int64_t /*E*/, const mae_flash_layout lay) {
  constexpr int BM = 64 * WM, LD = E + 8, NE = E / 8, NK = BK / 8;
  static_assert(E % 16 == 0 && BK % 16 == 0, "ldmatrix takes B two 8-wide tiles at a time");
  MAE_DYNAMIC_SHARED(16, unsigned char, mae_fa_smem_raw);
  __nv_bfloat16* Qs = reinterpret_cast<__nv_bfloat16*>(mae_fa_smem_raw);
  __nv_bfloat16* Os = Qs + BM * LD;  // dO
  __nv_bfloat16* const KVs = Os + BM * LD;  // two buffers of K then V, BK rows each
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
  const int64_t h = blockIdx.y, q0 = (int64_t)blockIdx.x * BM, rs = lay.qkv_t, os = lay.out_t, part = lay.qkv_part;
  const float sl2 = scale * MAE_LOG2E;
  for (int64_t n = blockIdx.z; n < N; n += gridDim.z) {
    const TS* qb = qkv + n * lay.qkv_n + h * lay.qkv_h;
    const TS* ob = out + n * lay.out_n + h * lay.out_h;
    const TS* dob = dout + n * lay.out_n + h * lay.out_h;
    const float* lb = lse + n * lay.lse_n + h * lay.lse_h;
    TS* db = dqkv + n * lay.qkv_n + h * lay.qkv_h;
    // key tile `it`'s K and V into buffer it % 2 (cp.async where they are bf16)
    const auto stage_kv = [&](int64_t k0, int b) {
      mae_fa_stage_async<BK, E>(KVs + b * 2 * BK * LD, qb + part, rs, k0, T);
      mae_fa_stage_async<BK, E>(KVs + (b * 2 + 1) * BK * LD, qb + 2 * part, rs, k0, T);
    };
    __syncthreads();  // the previous sample's last tile is done with shared memory
    mae_fa_stage_async<BM, E>(Qs, qb, rs, q0, T);
    mae_fa_stage_async<BM, E>(Os, dob, os, q0, T);
    stage_kv(0, 0);
    mae_cp_async_commit();
    // this thread's rows g and g + 8 of each of the warp's WM tiles: lse (log2 units) and D
    float L[WM][2], D[WM][2];
#pragma unroll
    for (int w = 0; w < WM; ++w) {
      const int64_t r0 = q0 + (warp * WM + w) * 16 + g;
      L[w][0] = r0 < T ? lb[r0] * MAE_LOG2E : 0.f;
      L[w][1] = r0 + 8 < T ? lb[r0 + 8] * MAE_LOG2E : 0.f;
      D[w][0] = D[w][1] = 0.f;
    }
    bool dotted = false;
    if constexpr (mae_fa_rowdot_fits<E>(16 * WM)) {
      if (mae_fa_rowdot_ok(dob, ob, os)) {
        constexpr int CPR = E / 8, RP = 32 / CPR, P = 16 * WM / RP;
        float d[P];
#pragma unroll
        for (int p = 0; p < P; ++p) d[p] = mae_fa_rowdot<E>(dob, ob, os, q0 + warp * 16 * WM + p * RP, T);
        // row rr of the warp's is held by lane (rr % RP) CPR of call rr / RP
#pragma unroll
        for (int w = 0; w < WM; ++w)
#pragma unroll
          for (int h8 = 0; h8 < 2; ++h8) {
            const int rr = w * 16 + g + 8 * h8;
#pragma unroll
            for (int p = 0; p < P; ++p) {
              const float x = __shfl_sync(0xffffffffu, d[p], (rr % RP) * CPR);
              if (rr / RP == p) D[w][h8] = x;
            }
          }
        dotted = true;
      }
    }
    for (int rr = 0; !dotted && rr < 16 * WM; ++rr) {
      const int64_t row = q0 + warp * 16 * WM + rr;
      float d = 0.f;
      if (row < T)
        for (int c = lane; c < E; c += 32) d += mae_ldf(dob + row * os + c) * mae_ldf(ob + row * os + c);
      d = mae_warp_sum(d);
#pragma unroll
      for (int w = 0; w < WM; ++w) {
        if (rr == w * 16 + g) D[w][0] = d;
        if (rr == w * 16 + g + 8) D[w][1] = d;
      }
    }
    float dq[WM][NE][4];
#pragma unroll
    for (int w = 0; w < WM; ++w) mae_fa_zero(dq[w]);
    for (int64_t k0 = 0, it = 0; k0 < T; k0 += BK, ++it) {
      const int b = static_cast<int>(it & 1);
      __syncthreads();  // every warp is done with buffer b ^ 1 (the previous tile)
      if (k0 + BK < T) stage_kv(k0 + BK, b ^ 1);
      mae_cp_async_commit();
      mae_cp_async_wait<1>();  // this tile (and Q, dO) landed; the next one's copies stay in flight
      __syncthreads();
      const __nv_bfloat16* const Ks = KVs + b * 2 * BK * LD;
      const __nv_bfloat16* const Vs = Ks + BK * LD;
      float s[WM][NK][4], dp[WM][NK][4];
#pragma unroll
      for (int w = 0; w < WM; ++w) {
        mae_fa_zero(s[w]);
        mae_fa_zero(dp[w]);
      }
#pragma unroll
      for (int kk = 0; kk < E; kk += 16) {
        uint32_t aq[WM][4], ao[WM][4];
#pragma unroll
        for (int w = 0; w < WM; ++w) {
          mae_fa_a<LD>(aq[w], Qs, (warp * WM + w) * 16, kk);
          mae_fa_a<LD>(ao[w], Os, (warp * WM + w) * 16, kk);
        }
#pragma unroll
        for (int j = 0; j < NK; j += 2) {
          uint32_t b0[2], b1[2];
          mae_fa_b2<LD>(b0, b1, Ks, j * 8, kk);
#pragma unroll
          for (int w = 0; w < WM; ++w) {
            mae_mma_bf16_16816(s[w][j], aq[w], b0);
            mae_mma_bf16_16816(s[w][j + 1], aq[w], b1);
          }
          mae_fa_b2<LD>(b0, b1, Vs, j * 8, kk);
#pragma unroll
          for (int w = 0; w < WM; ++w) {
            mae_mma_bf16_16816(dp[w][j], ao[w], b0);
            mae_mma_bf16_16816(dp[w][j + 1], ao[w], b1);
          }
        }
      }
#pragma unroll
      for (int w = 0; w < WM; ++w)
#pragma unroll
        for (int j = 0; j < NK; ++j)
#pragma unroll
          for (int c = 0; c < 4; ++c) {
            const float p = k0 + j * 8 + 2 * t + (c & 1) < T ? exp2f(s[w][j][c] * sl2 - L[w][c >> 1]) : 0.f;
            s[w][j][c] = p * (dp[w][j][c] - D[w][c >> 1]);
          }
#pragma unroll
      for (int kk = 0; kk < NK / 2; ++kk) {
        uint32_t a[WM][4];
#pragma unroll
        for (int w = 0; w < WM; ++w) mae_fa_acc_a(a[w], s[w][2 * kk], s[w][2 * kk + 1]);
#pragma unroll
        for (int i = 0; i < NE; i += 2) {
          uint32_t b0[2], b1[2];
          mae_fa_bt2<LD>(b0, b1, Ks, kk * 16, i * 8);
#pragma unroll
          for (int w = 0; w < WM; ++w) {
            mae_mma_bf16_16816(dq[w][i], a[w], b0);
            mae_mma_bf16_16816(dq[w][i + 1], a[w], b1);
          }
        }
      }
    }
#pragma unroll
    for (int w = 0; w < WM; ++w)
#pragma unroll
      for (int h8 = 0; h8 < 2; ++h8) {
        const int64_t row = q0 + (warp * WM + w) * 16 + g + h8 * 8;
        mae_fa_store_row<NE>(db, row, rs, dq[w], 2 * h8, scale, t, row < T);
      }
  }
}
}  // namespace
