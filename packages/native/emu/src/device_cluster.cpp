// device_cluster.cpp: thread block clusters (sm_90), as the wgmma GEMM uses them
// (src/device/hopper.cuh): a cluster's blocks run together on one OS thread (device_grid.cpp), so
// that one block's thread may reach another's shared memory:
//   - %cluster_ctarank, %cluster_nctarank (x fastest; a plain launch is a cluster of one);
//   - barrier.cluster.arrive + wait: released when every live thread of the cluster waits there;
//   - mbarrier.arrive.release.cluster.shared::cluster on the barrier at the same shared address in
//     another CTA (mapa): an arrival there, a scheduling point when it completes a phase;
//   - cp.async.bulk.tensor .multicast::cluster: the box read (and counted) once, landing at the same
//     shared address in every CTA of the mask and completing transactions on each one's mbarrier at
//     the same address.
// A CTA whose threads have all exited cannot be reached: an arrival or a copy aimed at it is a fault
// (a kernel keeps its CTAs alive with barrier.cluster until no other can still reach them).
#include <string>

#include "device_internal.h"

namespace mae_emu {
namespace {
bool exited(const Block& b) {
  for (const Fiber& f : b.fibers)
    if (f.state != FiberState::Done) return false;
  return true;
}

// CTA `cta` of the running block's cluster, alive.
Block& member(unsigned cta, const char* what) {
  Block& b = *tl_block;
  const unsigned n = cluster_nctarank();
  if (cta >= n)
    fault_in_fiber(std::string(what) + ": CTA rank " + std::to_string(cta) + " outside the cluster of " +
                   std::to_string(n));
  Block& t = b.cluster ? *(*b.cluster)[cta] : b;
  if (&t != &b && exited(t))
    fault_in_fiber(std::string(what) + ": CTA " + std::to_string(cta) +
                   " of the cluster has exited (a CTA must wait at barrier.cluster while others may still reach "
                   "its shared memory)");
  return t;
}

// The mbarrier at shared address a in block t.
Mbarrier& remote_bar(Block& t, uint32_t a, unsigned cta, const char* what) {
  Mbarrier* m = find_mbarrier(t, a);
  if (m == nullptr)
    fault_in_fiber(std::string(what) + ": no mbarrier.init set up shared " + std::to_string(a) + " in CTA " +
                   std::to_string(cta) + " of the cluster");
  return *m;
}
}  // namespace

unsigned cluster_ctarank() { return tl_block->cluster_rank; }

unsigned cluster_nctarank() {
  const Block& b = *tl_block;
  return b.cluster ? static_cast<unsigned>(b.cluster->size()) : 1u;
}

void cluster_sync() {
  Block& b = *tl_block;
  if (b.flat) fault_in_fiber("barrier.cluster in a kernel launched as barrier-free (MAE_LAUNCH_FLAT): launch it with MAE_LAUNCH");
  b.current->state = FiberState::AtClusterBarrier;
  suspend(b);
}

void mbarrier_arrive_cluster(uint64_t* bar, unsigned cta) {
  const char* what = "mbarrier.arrive.shared::cluster";
  Block& b = *tl_block;
  if (reinterpret_cast<uintptr_t>(bar) % 8 != 0) fault_in_fiber(std::string(what) + ": address not 8-byte aligned");
  Block& t = member(cta, what);
  Mbarrier& m = remote_bar(t, shared_address(bar), cta, what);
  if (m.pending == 0)  // checked here, so that the fault names this thread (not one of CTA cta's)
    fault_in_fiber(std::string(what) + " on CTA " + std::to_string(cta) +
                   ": every arrival of the current phase is in (an arrival too many)");
  bool completed = false;
  {
    InBlock in(t);
    completed = mbarrier_arrive_on(m, what);
  }
  if (completed && !b.flat) {  // as a local arrival: the threads it releases may run first
    b.current->state = FiberState::Ready;
    suspend(b);
  }
}

void tma_load_multicast(void* dst, const void* map128, const int32_t* c, uint64_t* bar, uint16_t mask) {
  const char* what = "cp.async.bulk.tensor.multicast::cluster";
  const unsigned n = cluster_nctarank();
  if (mask == 0 || (n < 16 && (mask >> n) != 0))
    fault_in_fiber(std::string(what) + ": CTA mask " + std::to_string(mask) + " is empty or names CTAs outside the cluster of " +
                   std::to_string(n));
  const TmaSpec& s = tma_spec(map128);
  const uint32_t d0 = shared_address(dst), a = shared_address(bar);
  if (a % 8 != 0) fault_in_fiber(std::string(what) + ": mbarrier address not 8-byte aligned");
  const TmaCopy box = tma_box(s, c, d0);  // read and counted once, by the issuing block
  for (unsigned r = 0; r < n; ++r) {
    if (!(mask >> r & 1u)) continue;
    Block& t = member(r, what);
    Mbarrier& m = remote_bar(t, a, r, what);
    InBlock in(t);
    TmaCopy copy;
    copy.bytes = box.bytes;
    copy.dst = static_cast<unsigned char*>(shared_pointer(d0));
    tma_deliver(m, std::move(copy));
  }
}

}  // namespace mae_emu
