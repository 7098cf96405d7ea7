// flash_backward.cuh: attention_backward on tensor cores (flash-attention-2, no atomics), with the
// forward's fragments and staging (flash_common.cuh), 128 threads = 4 warps. dK and dV: a CTA per
// (64 keys, head, samples) accumulates both over every query tile of BQ rows; dQ: a CTA per (64
// query rows, head, samples) accumulates it over every key tile of BK keys. D = rowsum(dO O) is
// computed inline from global memory in both; P is recomputed from the forward's lse. Parameters:
// attention_backward's signature (the size E is the template's), then the layout.
#pragma once
#include "flash_common.cuh"

namespace {
// Backward dK, dV: a CTA per (64 keys, head, samples); each warp owns 16 keys and walks the
// query tiles of BQ rows: S^T = K Q^T, dP^T = V dO^T, P^T = exp(S^T - lse), dS^T = P^T (dP^T - D),
// dV += P^T dO, dK += dS^T Q.
template <typename TS, int E, int BQ>
__device__ __forceinline__ void mae_fa_dkdv(TS* __restrict__ dqkv, const TS* __restrict__ dout, const TS* __restrict__ qkv,
                                            const TS* __restrict__ out, const float* __restrict__ lse, float scale,
                                            int64_t N, int64_t T, int64_t /*H*/, int64_t /*E*/, const mae_flash_layout lay) {
  constexpr int BK = 64, LD = E + 8, NE = E / 8, NQ = BQ / 8;
  MAE_DYNAMIC_SHARED(16, unsigned char, mae_fa_smem_raw);
  __nv_bfloat16* Ks = reinterpret_cast<__nv_bfloat16*>(mae_fa_smem_raw);
  __nv_bfloat16* Vs = Ks + BK * LD;
  __nv_bfloat16* Qs = Vs + BK * LD;
  __nv_bfloat16* Os = Qs + BQ * LD;  // dO
  float* Ls = reinterpret_cast<float*>(Os + BQ * LD);
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
    __syncthreads();
    mae_fa_stage<BK, E>(Ks, qb + part, rs, k0, T);
    mae_fa_stage<BK, E>(Vs, qb + 2 * part, rs, k0, T);
    float dk[NE][4], dv[NE][4];
    mae_fa_zero(dk);
    mae_fa_zero(dv);
    for (int64_t q0 = 0; q0 < T; q0 += BQ) {
      __syncthreads();
      mae_fa_stage<BQ, E>(Qs, qb, rs, q0, T);
      mae_fa_stage<BQ, E>(Os, dob, os, q0, T);
      for (int r = warp; r < BQ; r += MAE_FA_THREADS / 32) {
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
      __syncthreads();
      float s[NQ][4], dp[NQ][4];
      mae_fa_zero(s);
      mae_fa_zero(dp);
#pragma unroll
      for (int kk = 0; kk < E; kk += 16) {
        uint32_t ak[4], av[4];
        mae_fa_a<LD>(ak, Ks, warp * 16, kk, g, t);
        mae_fa_a<LD>(av, Vs, warp * 16, kk, g, t);
#pragma unroll
        for (int j = 0; j < NQ; ++j) {
          uint32_t b[2];
          mae_fa_b<LD>(b, Qs, j * 8, kk, g, t);
          mae_mma_bf16_16816(s[j], ak, b);
          mae_fa_b<LD>(b, Os, j * 8, kk, g, t);
          mae_mma_bf16_16816(dp[j], av, b);
        }
      }
#pragma unroll
      for (int j = 0; j < NQ; ++j)
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          const int qi = j * 8 + 2 * t + (c & 1);
          const float p = q0 + qi < T ? exp2f(s[j][c] * sl2 - Ls[qi]) : 0.f;
          s[j][c] = p;
          dp[j][c] = p * (dp[j][c] - Ds[qi]);
        }
#pragma unroll
      for (int kk = 0; kk < NQ / 2; ++kk) {
        uint32_t ap[4], as[4];
        mae_fa_acc_a(ap, s[2 * kk], s[2 * kk + 1]);
        mae_fa_acc_a(as, dp[2 * kk], dp[2 * kk + 1]);
#pragma unroll
        for (int i = 0; i < NE; ++i) {
          uint32_t b[2];
          mae_fa_bt<LD>(b, Os, kk * 16, i * 8, g, t);
          mae_mma_bf16_16816(dv[i], ap, b);
          mae_fa_bt<LD>(b, Qs, kk * 16, i * 8, g, t);
          mae_mma_bf16_16816(dk[i], as, b);
        }
      }
    }
#pragma unroll
    for (int i = 0; i < NE; ++i)
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const int64_t key = k0 + warp * 16 + g + (c >> 1) * 8;
        if (key < T) {
          TS* d = db + key * rs + i * 8 + 2 * t + (c & 1);
          mae_stf(d + part, dk[i][c] * scale);
          mae_stf(d + 2 * part, dv[i][c]);
        }
      }
  }
}

// Backward dQ: a CTA per (64 query rows, head, samples); each warp owns 16 rows and walks the key
// tiles: S = Q K^T, dP = dO V^T, dS = exp(S - lse) (dP - D), dQ += dS K.
template <typename TS, int E, int BK>
__device__ __forceinline__ void mae_fa_dq(TS* __restrict__ dqkv, const TS* __restrict__ dout, const TS* __restrict__ qkv,
                                          const TS* __restrict__ out, const float* __restrict__ lse, float scale,
                                          int64_t N, int64_t T, int64_t /*H*/, int64_t /*E*/, const mae_flash_layout lay) {
  constexpr int BM = 64, LD = E + 8, NE = E / 8, NK = BK / 8;
  MAE_DYNAMIC_SHARED(16, unsigned char, mae_fa_smem_raw);
  __nv_bfloat16* Qs = reinterpret_cast<__nv_bfloat16*>(mae_fa_smem_raw);
  __nv_bfloat16* Os = Qs + BM * LD;  // dO
  __nv_bfloat16* Ks = Os + BM * LD;
  __nv_bfloat16* Vs = Ks + BK * LD;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
  const int64_t h = blockIdx.y, q0 = (int64_t)blockIdx.x * BM, rs = lay.qkv_t, os = lay.out_t, part = lay.qkv_part;
  const float sl2 = scale * MAE_LOG2E;
  for (int64_t n = blockIdx.z; n < N; n += gridDim.z) {
    const TS* qb = qkv + n * lay.qkv_n + h * lay.qkv_h;
    const TS* ob = out + n * lay.out_n + h * lay.out_h;
    const TS* dob = dout + n * lay.out_n + h * lay.out_h;
    const float* lb = lse + n * lay.lse_n + h * lay.lse_h;
    TS* db = dqkv + n * lay.qkv_n + h * lay.qkv_h;
    __syncthreads();
    mae_fa_stage<BM, E>(Qs, qb, rs, q0, T);
    mae_fa_stage<BM, E>(Os, dob, os, q0, T);
    const int64_t r0 = q0 + warp * 16 + g;
    float L[2], D[2] = {0.f, 0.f};
    L[0] = r0 < T ? lb[r0] * MAE_LOG2E : 0.f;
    L[1] = r0 + 8 < T ? lb[r0 + 8] * MAE_LOG2E : 0.f;
    for (int rr = 0; rr < 16; ++rr) {
      const int64_t row = q0 + warp * 16 + rr;
      float d = 0.f;
      if (row < T)
        for (int c = lane; c < E; c += 32) d += mae_ldf(dob + row * os + c) * mae_ldf(ob + row * os + c);
      d = mae_warp_sum(d);
      if (rr == g) D[0] = d;
      if (rr == g + 8) D[1] = d;
    }
    float dq[NE][4];
    mae_fa_zero(dq);
    for (int64_t k0 = 0; k0 < T; k0 += BK) {
      __syncthreads();
      mae_fa_stage<BK, E>(Ks, qb + part, rs, k0, T);
      mae_fa_stage<BK, E>(Vs, qb + 2 * part, rs, k0, T);
      __syncthreads();
      float s[NK][4], dp[NK][4];
      mae_fa_zero(s);
      mae_fa_zero(dp);
#pragma unroll
      for (int kk = 0; kk < E; kk += 16) {
        uint32_t aq[4], ao[4];
        mae_fa_a<LD>(aq, Qs, warp * 16, kk, g, t);
        mae_fa_a<LD>(ao, Os, warp * 16, kk, g, t);
#pragma unroll
        for (int j = 0; j < NK; ++j) {
          uint32_t b[2];
          mae_fa_b<LD>(b, Ks, j * 8, kk, g, t);
          mae_mma_bf16_16816(s[j], aq, b);
          mae_fa_b<LD>(b, Vs, j * 8, kk, g, t);
          mae_mma_bf16_16816(dp[j], ao, b);
        }
      }
#pragma unroll
      for (int j = 0; j < NK; ++j)
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          const float p = k0 + j * 8 + 2 * t + (c & 1) < T ? exp2f(s[j][c] * sl2 - L[c >> 1]) : 0.f;
          s[j][c] = p * (dp[j][c] - D[c >> 1]);
        }
#pragma unroll
      for (int kk = 0; kk < NK / 2; ++kk) {
        uint32_t a[4];
        mae_fa_acc_a(a, s[2 * kk], s[2 * kk + 1]);
#pragma unroll
        for (int i = 0; i < NE; ++i) {
          uint32_t b[2];
          mae_fa_bt<LD>(b, Ks, kk * 16, i * 8, g, t);
          mae_mma_bf16_16816(dq[i], a, b);
        }
      }
    }
#pragma unroll
    for (int i = 0; i < NE; ++i)
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const int64_t row = r0 + (c >> 1) * 8;
        if (row < T) mae_stf(db + row * rs + i * 8 + 2 * t + (c & 1), dq[i][c] * scale);
      }
  }
}
}  // namespace
