// flash_simt.cuh: the fallback of attention_forward and attention_backward for head sizes without a
// tensor-core instantiation (flash_forward.cuh, flash_backward.cuh): fp32 SIMT, a 128-thread block
// per (row, head, sample), any head size (per-row vectors in dynamic shared memory, no local arrays)
// and any sequence length. Scores are recomputed per chunk of 128 keys (or queries) instead of
// stored. Forward per query row: block max and sum of exp over the keys (online per thread, then
// combined), then out = sum_j p_j v_j chunk by chunk. dQ per query row: D = dO . O, dS_j = P_j (dO .
// v_j - D), dQ = scale sum_j dS_j k_j. dK, dV per key row: the same terms per query, summed over the
// queries. Parameters: the op's signature (outputs, inputs, params, sizes), then the layout.
#pragma once
#include "flash_common.cuh"

// The per-row vectors in dynamic shared memory start on 16-byte boundaries: each takes E rounded up
// to 4 floats. (The first GPU run's racecheck, 2026-11-30, reported the forward's reads of qs
// against its writes of ps at head size 1 only, where the two then shared 16 bytes without sharing
// a byte; the emulator's byte-exact racecheck finds no race there. Apart, no two vectors share a
// 16-byte unit, whatever the tool's granularity.) The launchers size the memory with the same
// functions.
__host__ __device__ inline int64_t mae_fa_simt_ld(int64_t E) { return (E + 3) / 4 * 4; }
/** forward: q and acc, then the chunk's probabilities */
__host__ __device__ inline size_t mae_fa_simt_forward_bytes(int64_t E) {
  return size_t(2 * mae_fa_simt_ld(E) + MAE_FA_THREADS) * sizeof(float);
}
/** dQ: q, dO and acc, then the chunk's dS */
__host__ __device__ inline size_t mae_fa_simt_dq_bytes(int64_t E) {
  return size_t(3 * mae_fa_simt_ld(E) + MAE_FA_THREADS) * sizeof(float);
}
/** dK, dV: k, v, dk and dv, then the chunk's probabilities and dS */
__host__ __device__ inline size_t mae_fa_simt_dkdv_bytes(int64_t E) {
  return size_t(4 * mae_fa_simt_ld(E) + 2 * MAE_FA_THREADS) * sizeof(float);
}

namespace {
template <typename TS> __device__ __forceinline__ float mae_fa_dot(const float* a, const TS* b, int64_t E) {
  float s = 0.f;
  for (int64_t c = 0; c < E; ++c) s += a[c] * mae_ldf(b + c);
  return s;
}
template <typename TS> __device__ __forceinline__ float mae_fa_dot2(const TS* a, const TS* b, int64_t E) {
  float s = 0.f;
  for (int64_t c = 0; c < E; ++c) s += mae_ldf(a + c) * mae_ldf(b + c);
  return s;
}

template <typename TS>
__device__ __forceinline__ void mae_fa_forward_simt(TS* __restrict__ out, float* __restrict__ lse, const TS* __restrict__ qkv,
                                                    float scale, int64_t N, int64_t T, int64_t /*H*/, int64_t E,
                                                    const mae_flash_layout lay) {
  MAE_DYNAMIC_SHARED(16, unsigned char, mae_fa_smem_raw);
  MAE_SHARED(float, red, [32]);
  float* qs = reinterpret_cast<float*>(mae_fa_smem_raw);
  const int64_t ld = mae_fa_simt_ld(E);
  float* acc = qs + ld;
  float* ps = acc + ld;
  const int tid = threadIdx.x;
  const int64_t t = blockIdx.x, h = blockIdx.y, rs = lay.qkv_t;
  for (int64_t n = blockIdx.z; n < N; n += gridDim.z) {
    const TS* qb = qkv + n * lay.qkv_n + h * lay.qkv_h;
    const TS* kb = qb + lay.qkv_part;
    const TS* vb = kb + lay.qkv_part;
    // no barrier before the staging: the previous sample's reads of other threads' values ended
    // before the chunk loop's last barrier (T >= 1), and each thread reads back only its own acc[c]
    for (int64_t c = tid; c < E; c += MAE_FA_THREADS) {
      qs[c] = mae_ldf(qb + t * rs + c);
      acc[c] = 0.f;
    }
    __syncthreads();
    float m = -INFINITY, l = 0.f;
    for (int64_t j = tid; j < T; j += MAE_FA_THREADS) {
      const float s = mae_fa_dot(qs, kb + j * rs, E) * scale;
      const float mn = fmaxf(m, s);
      l = l * expf(m - mn) + expf(s - mn);
      m = mn;
    }
    const float M = mae_block_reduce<true>(m, red);
    const float L = mae_block_reduce<false>(l * expf(m - M), red);
    for (int64_t c0 = 0; c0 < T; c0 += MAE_FA_THREADS) {
      const int64_t j = c0 + tid, cn = T - c0 < MAE_FA_THREADS ? T - c0 : MAE_FA_THREADS;
      ps[tid] = j < T ? expf(mae_fa_dot(qs, kb + j * rs, E) * scale - M) / L : 0.f;
      __syncthreads();
      for (int64_t c = tid; c < E; c += MAE_FA_THREADS) {
        float a = acc[c];
#pragma unroll 4  // unrolled further, ptxas spills
        for (int64_t jj = 0; jj < cn; ++jj) a += ps[jj] * mae_ldf(vb + (c0 + jj) * rs + c);
        acc[c] = a;
      }
      __syncthreads();
    }
    for (int64_t c = tid; c < E; c += MAE_FA_THREADS) mae_stf(out + n * lay.out_n + t * lay.out_t + h * lay.out_h + c, acc[c]);
    if (tid == 0) lse[n * lay.lse_n + h * lay.lse_h + t] = M + logf(L);
  }
}

template <typename TS>
__device__ __forceinline__ void mae_fa_dq_simt(TS* __restrict__ dqkv, const TS* __restrict__ dout, const TS* __restrict__ qkv,
                                               const TS* __restrict__ out, const float* __restrict__ lse, float scale,
                                               int64_t N, int64_t T, int64_t /*H*/, int64_t E, const mae_flash_layout lay) {
  MAE_DYNAMIC_SHARED(16, unsigned char, mae_fa_smem_raw);
  MAE_SHARED(float, red, [32]);
  float* qs = reinterpret_cast<float*>(mae_fa_smem_raw);
  const int64_t ld = mae_fa_simt_ld(E);
  float* dos = qs + ld;
  float* acc = dos + ld;
  float* ds = acc + ld;
  const int tid = threadIdx.x;
  const int64_t t = blockIdx.x, h = blockIdx.y, rs = lay.qkv_t;
  for (int64_t n = blockIdx.z; n < N; n += gridDim.z) {
    const TS* qb = qkv + n * lay.qkv_n + h * lay.qkv_h;
    const TS* kb = qb + lay.qkv_part;
    const TS* vb = kb + lay.qkv_part;
    const TS* orow = out + n * lay.out_n + t * lay.out_t + h * lay.out_h;
    const TS* dorow = dout + n * lay.out_n + t * lay.out_t + h * lay.out_h;
    float d = 0.f;  // no barrier first: as in mae_fa_forward_simt
    for (int64_t c = tid; c < E; c += MAE_FA_THREADS) {
      qs[c] = mae_ldf(qb + t * rs + c);
      dos[c] = mae_ldf(dorow + c);
      acc[c] = 0.f;
      d += dos[c] * mae_ldf(orow + c);
    }
    const float D = mae_block_reduce<false>(d, red);  // also orders the staging above
    const float L = lse[n * lay.lse_n + h * lay.lse_h + t];
    for (int64_t c0 = 0; c0 < T; c0 += MAE_FA_THREADS) {
      const int64_t j = c0 + tid, cn = T - c0 < MAE_FA_THREADS ? T - c0 : MAE_FA_THREADS;
      ds[tid] = j < T ? expf(mae_fa_dot(qs, kb + j * rs, E) * scale - L) * (mae_fa_dot(dos, vb + j * rs, E) - D) : 0.f;
      __syncthreads();
      for (int64_t c = tid; c < E; c += MAE_FA_THREADS) {
        float a = acc[c];
#pragma unroll 4  // unrolled further, ptxas spills
        for (int64_t jj = 0; jj < cn; ++jj) a += ds[jj] * mae_ldf(kb + (c0 + jj) * rs + c);
        acc[c] = a;
      }
      __syncthreads();
    }
    TS* dq = dqkv + n * lay.qkv_n + t * rs + h * lay.qkv_h;
    for (int64_t c = tid; c < E; c += MAE_FA_THREADS) mae_stf(dq + c, acc[c] * scale);
  }
}

template <typename TS>
__device__ __forceinline__ void mae_fa_dkdv_simt(TS* __restrict__ dqkv, const TS* __restrict__ dout, const TS* __restrict__ qkv,
                                                 const TS* __restrict__ out, const float* __restrict__ lse, float scale,
                                                 int64_t N, int64_t T, int64_t /*H*/, int64_t E, const mae_flash_layout lay) {
  MAE_DYNAMIC_SHARED(16, unsigned char, mae_fa_smem_raw);
  float* ks = reinterpret_cast<float*>(mae_fa_smem_raw);
  const int64_t ld = mae_fa_simt_ld(E);
  float* vs = ks + ld;
  float* dk = vs + ld;
  float* dv = dk + ld;
  float* ps = dv + ld;
  float* dss = ps + MAE_FA_THREADS;
  const int tid = threadIdx.x;
  const int64_t j = blockIdx.x, h = blockIdx.y, rs = lay.qkv_t, os = lay.out_t, part = lay.qkv_part;
  for (int64_t n = blockIdx.z; n < N; n += gridDim.z) {
    const TS* qb = qkv + n * lay.qkv_n + h * lay.qkv_h;
    const TS* ob = out + n * lay.out_n + h * lay.out_h;
    const TS* dob = dout + n * lay.out_n + h * lay.out_h;
    const float* lb = lse + n * lay.lse_n + h * lay.lse_h;
    for (int64_t c = tid; c < E; c += MAE_FA_THREADS) {  // no barrier first: as in mae_fa_forward_simt
      ks[c] = mae_ldf(qb + j * rs + part + c);
      vs[c] = mae_ldf(qb + j * rs + 2 * part + c);
      dk[c] = 0.f;
      dv[c] = 0.f;
    }
    __syncthreads();
    for (int64_t c0 = 0; c0 < T; c0 += MAE_FA_THREADS) {
      const int64_t i = c0 + tid, cn = T - c0 < MAE_FA_THREADS ? T - c0 : MAE_FA_THREADS;
      float p = 0.f, ds = 0.f;
      if (i < T) {
        p = expf(mae_fa_dot(ks, qb + i * rs, E) * scale - lb[i]);
        ds = p * (mae_fa_dot(vs, dob + i * os, E) - mae_fa_dot2(dob + i * os, ob + i * os, E));
      }
      ps[tid] = p;
      dss[tid] = ds;
      __syncthreads();
      for (int64_t c = tid; c < E; c += MAE_FA_THREADS) {
        float a = dv[c], b = dk[c];
#pragma unroll 4  // unrolled further, ptxas spills
        for (int64_t ii = 0; ii < cn; ++ii) {
          a += ps[ii] * mae_ldf(dob + (c0 + ii) * os + c);
          b += dss[ii] * mae_ldf(qb + (c0 + ii) * rs + c);
        }
        dv[c] = a;
        dk[c] = b;
      }
      __syncthreads();
    }
    TS* dkv = dqkv + n * lay.qkv_n + j * rs + h * lay.qkv_h;
    for (int64_t c = tid; c < E; c += MAE_FA_THREADS) {
      mae_stf(dkv + part + c, dk[c] * scale);
      mae_stf(dkv + 2 * part + c, dv[c]);
    }
  }
}
}  // namespace
