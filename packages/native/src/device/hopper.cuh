// hopper.cuh: the sm_90a data movement and tensor-core instructions of the wgmma GEMM
// (gemm_wgmma.cuh), each PTX on sm_90a, the emulator's model under MAE_CUDA_EMULATOR
// (packages/native/emu/src/device_hopper.cpp, device_wgmma.cpp), and a trap elsewhere rather than a
// silent no-op:
//   - MaeTmaMap, a CUtensorMap's 128 bytes, encoded on the host (mae_tma_map: the driver's
//     cuTensorMapEncodeTiled, or the emulator's), passed to kernels as a __grid_constant__ parameter;
//   - mbarriers in shared memory: init, arrive, arrive.expect_tx, wait on a phase's parity;
//   - TMA tile loads (cp.async.bulk.tensor.3d) completing transactions on an mbarrier, also
//     multicast to the CTAs of a thread block cluster;
//   - clusters: the CTA's rank and the cluster's size, barrier.cluster, an mbarrier arrival on the
//     same barrier in another CTA of the cluster (mapa);
//   - setmaxnreg: registers moved between a block's warpgroups (a no-op in the emulator);
//   - wgmma: the shared-memory matrix descriptor, fence / commit_group / wait_group, and
//     mma_async m64n256k16 (bf16 operands from shared memory, f32 accumulators).
#pragma once
#include <cstdint>

struct alignas(64) MaeTmaMap {
  uint64_t opaque[16];
};

#if defined(MAE_CUDA_EMULATOR) || (defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL))
#define MAE_SM90A 1
#endif

namespace {
// The shared-memory address of p (cvta.to.shared).
__device__ __forceinline__ uint32_t mae_smem_u32(const void* p) {
#if defined(MAE_CUDA_EMULATOR)
  return mae_emu::shared_address(p);
#elif defined(__CUDA_ARCH__)
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
#else
  return 0;
#endif
}

__device__ __forceinline__ void mae_mbar_init(uint64_t* bar, unsigned count) {
#if defined(MAE_CUDA_EMULATOR)
  mae_emu::mbarrier_init(bar, count);
#elif defined(MAE_SM90A)
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(mae_smem_u32(bar)), "r"(count) : "memory");
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}

// Makes initialised mbarriers visible to the asynchronous proxy (TMA) before they are used.
__device__ __forceinline__ void mae_mbar_fence_init() {
#if defined(MAE_SM90A) && !defined(MAE_CUDA_EMULATOR)
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void mae_mbar_arrive(uint64_t* bar) {
#if defined(MAE_CUDA_EMULATOR)
  mae_emu::mbarrier_arrive(bar);
#elif defined(MAE_SM90A)
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(mae_smem_u32(bar)) : "memory");
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}

__device__ __forceinline__ void mae_mbar_arrive_expect_tx(uint64_t* bar, unsigned bytes) {
#if defined(MAE_CUDA_EMULATOR)
  mae_emu::mbarrier_arrive_expect_tx(bar, bytes);
#elif defined(MAE_SM90A)
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(mae_smem_u32(bar)), "r"(bytes)
               : "memory");
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}

// Returns once the barrier's phase of parity `parity` has completed.
__device__ __forceinline__ void mae_mbar_wait(uint64_t* bar, unsigned parity) {
#if defined(MAE_CUDA_EMULATOR)
  mae_emu::mbarrier_wait(bar, parity);
#elif defined(MAE_SM90A)
  const uint32_t a = mae_smem_u32(bar);
  uint32_t done = 0;
  do {
    asm volatile(
        "{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(a), "r"(parity)
        : "memory");
  } while (!done);
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}

// The box at element coordinates (c0, c1, c2) of map's tensor into shared dst, its bytes completing
// transactions on bar.
__device__ __forceinline__ void mae_tma_load_3d(void* dst, const MaeTmaMap* map, int c0, int c1, int c2, uint64_t* bar) {
#if defined(MAE_CUDA_EMULATOR)
  const int32_t c[3] = {c0, c1, c2};
  mae_emu::tma_load(dst, map, c, bar);
#elif defined(MAE_SM90A)
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4}], [%5];\n" ::
          "r"(mae_smem_u32(dst)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(mae_smem_u32(bar))
      : "memory");
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}

// The box of mae_tma_load_3d, read once and written at dst's shared address in every CTA of the
// cluster that `mask` names, completing transactions on the mbarrier at bar's address in each.
__device__ __forceinline__ void mae_tma_load_3d_multicast(void* dst, const MaeTmaMap* map, int c0, int c1, int c2,
                                                          uint64_t* bar, uint16_t mask) {
#if defined(MAE_CUDA_EMULATOR)
  const int32_t c[3] = {c0, c1, c2};
  mae_emu::tma_load_multicast(dst, map, c, bar, mask);
#elif defined(MAE_SM90A)
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster"
      " [%0], [%1, {%2, %3, %4}], [%5], %6;\n" ::"r"(mae_smem_u32(dst)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(mae_smem_u32(bar)), "h"(mask)
      : "memory");
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}

// This CTA's rank in its cluster (%cluster_ctarank) and the cluster's CTAs (%cluster_nctarank); a
// launch without clusters is a cluster of one.
__device__ __forceinline__ unsigned mae_cluster_ctarank() {
#if defined(MAE_CUDA_EMULATOR)
  return mae_emu::cluster_ctarank();
#elif defined(MAE_SM90A)
  unsigned r;
  asm volatile("mov.u32 %0, %%cluster_ctarank;\n" : "=r"(r));
  return r;
#elif defined(__CUDA_ARCH__)
  __trap();
  return 0;
#else
  return 0;
#endif
}

__device__ __forceinline__ unsigned mae_cluster_nctarank() {
#if defined(MAE_CUDA_EMULATOR)
  return mae_emu::cluster_nctarank();
#elif defined(MAE_SM90A)
  unsigned n;
  asm volatile("mov.u32 %0, %%cluster_nctarank;\n" : "=r"(n));
  return n;
#elif defined(__CUDA_ARCH__)
  __trap();
  return 1;
#else
  return 1;
#endif
}

// setmaxnreg: a warpgroup gives back registers to the SM's pool down to N a thread (dec) or takes
// them up to N (inc, waiting until the pool holds them); every thread of the warpgroup executes it.
// The emulator has no register file: nothing to do there.
template <int N> __device__ __forceinline__ void mae_setmaxnreg_dec() {
  static_assert(N >= 24 && N <= 256 && N % 8 == 0, "setmaxnreg takes 24 to 256 registers in steps of 8");
#if defined(MAE_CUDA_EMULATOR)
#elif defined(MAE_SM90A)
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(N));
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}
template <int N> __device__ __forceinline__ void mae_setmaxnreg_inc() {
  static_assert(N >= 24 && N <= 256 && N % 8 == 0, "setmaxnreg takes 24 to 256 registers in steps of 8");
#if defined(MAE_CUDA_EMULATOR)
#elif defined(MAE_SM90A)
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(N));
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}

// barrier.cluster: every (non-exited) thread of the cluster arrives (release) and waits (acquire).
__device__ __forceinline__ void mae_cluster_sync() {
#if defined(MAE_CUDA_EMULATOR)
  mae_emu::cluster_sync();
#elif defined(MAE_SM90A)
  asm volatile("barrier.cluster.arrive.release;\nbarrier.cluster.wait.acquire;\n" ::: "memory");
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}

// One arrival (release, cluster scope) on the mbarrier at bar's shared address in CTA `cta` of the
// cluster (this CTA's own when cta is its rank).
__device__ __forceinline__ void mae_mbar_arrive_cluster(uint64_t* bar, unsigned cta) {
#if defined(MAE_CUDA_EMULATOR)
  mae_emu::mbarrier_arrive_cluster(bar, cta);
#elif defined(MAE_SM90A)
  uint32_t remote;
  asm volatile("mapa.shared::cluster.u32 %0, %1, %2;\n" : "=r"(remote) : "r"(mae_smem_u32(bar)), "r"(cta));
  asm volatile("mbarrier.arrive.release.cluster.shared::cluster.b64 _, [%0];\n" ::"r"(remote) : "memory");
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}

// A wgmma matrix descriptor: the shared address, the leading and stride byte offsets, and the
// layout (0 interleaved, 1 the 128-byte swizzle, 2 64-byte, 3 32-byte); base offset 0.
__device__ __forceinline__ uint64_t mae_wgmma_desc(const void* p, uint32_t lbo, uint32_t sbo, uint32_t layout) {
  const uint64_t a = mae_smem_u32(p);
  return ((a & 0x3ffff) >> 4) | (uint64_t{(lbo & 0x3ffff) >> 4} << 16) | (uint64_t{(sbo & 0x3ffff) >> 4} << 32) |
         (uint64_t{layout} << 62);
}

__device__ __forceinline__ void mae_wgmma_fence() {
#if defined(MAE_CUDA_EMULATOR)
  mae_emu::wgmma_fence();
#elif defined(MAE_SM90A)
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}

__device__ __forceinline__ void mae_wgmma_commit() {
#if defined(MAE_CUDA_EMULATOR)
  mae_emu::wgmma_commit();
#elif defined(MAE_SM90A)
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}

// Waits until at most the newest `Pending` committed groups of this thread's wgmma are in flight.
template <int Pending> __device__ __forceinline__ void mae_wgmma_wait(float (&d)[128]) {
#if defined(MAE_CUDA_EMULATOR)
  (void)d;
  mae_emu::wgmma_wait(Pending);
#elif defined(MAE_SM90A)
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(Pending) : "memory");
  // with every group complete, the accumulators may be read: tie them to the wait so that no read
  // moves above it (not while a group is in flight: ptxas would serialize the wgmma pipeline)
  if (Pending == 0) {
#pragma unroll
    for (int i = 0; i < 128; ++i) asm volatile("" : "+f"(d[i])::"memory");
  }
#elif defined(__CUDA_ARCH__)
  (void)d;
  __trap();
#endif
}

// d (this thread's 128 accumulators of a 64 x 256 tile) = (scale_d ? d : 0) + A B, A 64 x 16 and
// B 16 x 256 in shared memory through their descriptors, each K-major or (Trans) MN-major.
template <bool TransA, bool TransB>
__device__ __forceinline__ void mae_wgmma_m64n256k16(float (&d)[128], uint64_t desc_a, uint64_t desc_b, bool scale_d) {
#if defined(MAE_CUDA_EMULATOR)
  mae_emu::wgmma(d, 256, desc_a, desc_b, scale_d, TransA, TransB);
#elif defined(MAE_SM90A)
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {"
      "%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,"
      "%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31,"
      "%32,%33,%34,%35,%36,%37,%38,%39,%40,%41,%42,%43,%44,%45,%46,%47,"
      "%48,%49,%50,%51,%52,%53,%54,%55,%56,%57,%58,%59,%60,%61,%62,%63,"
      "%64,%65,%66,%67,%68,%69,%70,%71,%72,%73,%74,%75,%76,%77,%78,%79,"
      "%80,%81,%82,%83,%84,%85,%86,%87,%88,%89,%90,%91,%92,%93,%94,%95,"
      "%96,%97,%98,%99,%100,%101,%102,%103,%104,%105,%106,%107,%108,%109,%110,%111,"
      "%112,%113,%114,%115,%116,%117,%118,%119,%120,%121,%122,%123,%124,%125,%126,%127},"
      " %128, %129, p, 1, 1, %131, %132;\n}\n"
      :
        "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]),
        "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]),
        "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]),
        "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]),
        "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]),
        "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]),
        "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), "+f"(d[64]),
        "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),
        "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]),
        "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]),
        "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]),
        "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]),
        "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), "+f"(d[104]), "+f"(d[105]), "+f"(d[106]),
        "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]), "+f"(d[112]), "+f"(d[113]),
        "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]), "+f"(d[120]),
        "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])
      : "l"(desc_a), "l"(desc_b), "r"(static_cast<int>(scale_d)), "n"(static_cast<int>(TransA)),
        "n"(static_cast<int>(TransB)));
#elif defined(__CUDA_ARCH__)
  (void)d, (void)desc_a, (void)desc_b, (void)scale_d;
  __trap();
#endif
}
}  // namespace
