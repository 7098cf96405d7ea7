// api_launch.cpp (emulator): kernel launches and kernel attributes. mae_emu::launch_kernel (called by
// the device side's launch macro) validates a launch as an H100 does: a zero-sized grid or block, a
// block over 1024 threads or over (1024, 1024, 64), or a grid over (2^31-1, 65535, 65535) is
// cudaErrorInvalidConfiguration; dynamic shared memory over the kernel's limit (48 KiB, or what
// cudaFuncSetAttribute(cudaFuncAttributeMaxDynamicSharedMemorySize) allowed, itself at most the
// opt-in limit) is cudaErrorInvalidValue. A valid launch runs through the device side's run_grid at
// once, or becomes a graph node on a capturing stream (a refused launch invalidates that capture, as
// in CUDA). A cluster launch over 8 blocks, or whose shape does not divide the grid, is
// cudaErrorInvalidConfiguration. Every failure sets the last error and a detail naming the kernel and the limit
// (mae_emu::last_error_detail).
#include <unordered_map>

#include "api_internal.h"

namespace mae_emu {
namespace detail {
namespace {
std::unordered_map<const void*, int> g_max_dynamic_smem;  // cudaFuncSetAttribute, by kernel address
}  // namespace

void reset_functions() {
  std::lock_guard<std::mutex> lock(mu());
  g_max_dynamic_smem.clear();
}

}  // namespace detail
}  // namespace mae_emu

using namespace mae_emu::detail;

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  const char* api = "cudaFuncSetAttribute";
  if (func == nullptr) return fail(cudaErrorInvalidDeviceFunction, "cudaFuncSetAttribute: func is NULL");
  const cudaDeviceProp& p = config().prop;
  if (attr == cudaFuncAttributePreferredSharedMemoryCarveout) {
    if (value < -1 || value > 100)
      return fail(cudaErrorInvalidValue, format("%s: carveout %d is not in [-1, 100]", api, value));
    return cudaSuccess;
  }
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize)
    return fail(cudaErrorInvalidValue, format("%s: attribute %d is not emulated", api, static_cast<int>(attr)));
  if (value < 0 || static_cast<size_t>(value) > p.sharedMemPerBlockOptin)
    return fail(cudaErrorInvalidValue,
                format("%s: %s of dynamic shared memory is above the device's opt-in limit (%s)", api,
                       kib(static_cast<size_t>(value < 0 ? 0 : value)).c_str(), kib(p.sharedMemPerBlockOptin).c_str()));
  std::lock_guard<std::mutex> lock(mu());
  g_max_dynamic_smem[func] = value;
  return cudaSuccess;
}

namespace {

std::string dims(dim3 d) { return format("(%u, %u, %u)", d.x, d.y, d.z); }

// The problem with a launch's geometry, or "" when it is valid.
std::string geometry_problem(const cudaDeviceProp& p, dim3 grid, dim3 block) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return "grid " + dims(grid) + " has a zero dimension";
  if (block.x == 0 || block.y == 0 || block.z == 0) return "block " + dims(block) + " has a zero dimension";
  const unsigned long long threads = 1ull * block.x * block.y * block.z;
  if (threads > static_cast<unsigned long long>(p.maxThreadsPerBlock))
    return format("block %s has %llu threads (limit %d)", dims(block).c_str(), threads, p.maxThreadsPerBlock);
  const unsigned bx[3] = {block.x, block.y, block.z}, gx[3] = {grid.x, grid.y, grid.z};
  const char* axis = "xyz";
  for (int i = 0; i < 3; ++i) {
    if (bx[i] > static_cast<unsigned>(p.maxThreadsDim[i]))
      return format("block.%c = %u exceeds %d", axis[i], bx[i], p.maxThreadsDim[i]);
    if (gx[i] > static_cast<unsigned>(p.maxGridSize[i]))
      return format("grid.%c = %u exceeds %d", axis[i], gx[i], p.maxGridSize[i]);
  }
  return "";
}

// The problem with a launch's cluster shape, or "" when it is valid: at most 8 blocks (the portable
// limit), each grid dimension a multiple of the cluster's.
std::string cluster_problem(dim3 grid, dim3 cluster, bool flat) {
  if (cluster.x == 0 || cluster.y == 0 || cluster.z == 0) return "cluster " + dims(cluster) + " has a zero dimension";
  const unsigned long long n = 1ull * cluster.x * cluster.y * cluster.z;
  if (n == 1) return "";
  if (n > 8) return format("cluster %s has %llu blocks (portable limit 8)", dims(cluster).c_str(), n);
  if (grid.x % cluster.x || grid.y % cluster.y || grid.z % cluster.z)
    return "grid " + dims(grid) + " is not a multiple of cluster " + dims(cluster);
  if (flat) return "a cluster launch of a kernel launched as barrier-free (MAE_LAUNCH_FLAT)";
  return "";
}

// The problem with a launch's dynamic shared memory, or "" when it fits.
std::string smem_problem(const cudaDeviceProp& p, const void* func, size_t smem) {
  int allowed = -1;
  {
    std::lock_guard<std::mutex> lock(mu());
    auto it = g_max_dynamic_smem.find(func);
    if (it != g_max_dynamic_smem.end()) allowed = it->second;
  }
  if (smem > p.sharedMemPerBlockOptin)
    return format("%s of dynamic shared memory exceeds the device's opt-in limit (%s)", kib(smem).c_str(),
                  kib(p.sharedMemPerBlockOptin).c_str());
  if (allowed < 0 && smem > p.sharedMemPerBlock)
    return format("%s of dynamic shared memory without cudaFuncSetAttribute (limit %s)", kib(smem).c_str(),
                  kib(p.sharedMemPerBlock).c_str());
  if (allowed >= 0 && smem > static_cast<size_t>(allowed))
    return format("%s of dynamic shared memory, above the %s cudaFuncSetAttribute allowed", kib(smem).c_str(),
                  kib(static_cast<size_t>(allowed)).c_str());
  return "";
}

// A launch on a stream of another device than the current one is an invalid handle, as in CUDA.
cudaError_t check_stream_device(const std::string& who, cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(mu());
  Target t;
  if (cudaError_t e = resolve_locked(who.c_str(), stream, &t)) return e;
  if (t.device == current_device()) return cudaSuccess;
  return fail(cudaErrorInvalidResourceHandle, format("%s: launched on a stream of device %d while device %d is current",
                                                     who.c_str(), t.device, current_device()));
}

}  // namespace

namespace mae_emu {

cudaError_t launch_kernel(cudaStream_t stream, const void* func, const char* name, dim3 grid, dim3 block, size_t smem,
                          std::function<void()> body, bool flat, dim3 cluster) {
  const std::string kernel = name ? name : "<unnamed>";
  const std::string who = "kernel " + kernel;
  const cudaDeviceProp& p = config().prop;
  std::string problem = geometry_problem(p, grid, block);
  if (!problem.empty()) return invalidate_on_error(stream, fail(cudaErrorInvalidConfiguration, who + ": " + problem));
  problem = cluster_problem(grid, cluster, flat);
  if (!problem.empty()) return invalidate_on_error(stream, fail(cudaErrorInvalidConfiguration, who + ": " + problem));
  problem = smem_problem(p, func, smem);
  if (!problem.empty()) return invalidate_on_error(stream, fail(cudaErrorInvalidValue, who + ": " + problem));
  if (cudaError_t e = check_stream_device(who, stream)) return e;
  auto run = [kernel, body = std::move(body), grid, block, smem, flat, cluster]() {
    const unsigned long long before = detail_generation();
    const cudaError_t e = run_grid(kernel.c_str(), body, grid, block, smem, flat, cluster);
    if (e != cudaSuccess && detail_generation() == before)
      set_detail(format("kernel %s: %s (%s) while running grid %s x block %s", kernel.c_str(), cudaGetErrorName(e),
                        cudaGetErrorString(e), dims(grid).c_str(), dims(block).c_str()));
    return e;
  };
  return submit(who.c_str(), stream, NodeKind::Kernel, kernel, std::move(run));
}

}  // namespace mae_emu
