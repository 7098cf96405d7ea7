// info.h: the addon's build/device/allocator query functions and the NCCL probe.
#pragma once
#include <napi.h>

namespace mae_addon {
// buildInfo(): {version, cuda, architectures, openmp, cpuThreads, maxCpuThreads, waitPolicy, cpuIsa,
// cpuIsaBest}
Napi::Value BuildInfo(const Napi::CallbackInfo& info);
// cpuIsaError(): why MAE_CPU_ISA was not followed (mae_cpu_isa_error), or null.
Napi::Value CpuIsaError(const Napi::CallbackInfo& info);
// cpuPeakGflops(seconds): the CPU's measured f32 peak with the kernels' build (mae_cpu_peak_gflops).
Napi::Value CpuPeakGflops(const Napi::CallbackInfo& info);
// cudaDevices(): {index, name, major, minor, totalMemory}[]
Napi::Value CudaDevices(const Napi::CallbackInfo& info);
// setCpuThreads(n): n from 1 to maxCpuThreads
Napi::Value SetCpuThreads(const Napi::CallbackInfo& info);
// memoryStats(deviceType, deviceIndex): {allocated, reserved, peakAllocated}
Napi::Value MemoryStats(const Napi::CallbackInfo& info);
// emptyCache(deviceType, deviceIndex)
Napi::Value ResetPeakMemory(const Napi::CallbackInfo& info);
Napi::Value EmptyCache(const Napi::CallbackInfo& info);
// hostPin(view: TypedArray): boolean (pinned for CUDA copies; false: nothing to pin for)
Napi::Value HostPin(const Napi::CallbackInfo& info);
// hostUnpin(view: TypedArray), the view given to hostPin
Napi::Value HostUnpin(const Napi::CallbackInfo& info);
// ncclProbe(candidates): {found, path?, version?, searched, errors}
Napi::Value NcclProbe(const Napi::CallbackInfo& info);
}  // namespace mae_addon
