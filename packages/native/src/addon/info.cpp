// info.cpp: build and device facts for JS: buildInfo, cudaDevices, setCpuThreads, memoryStats,
// emptyCache.
#include "info.h"

#include "util.h"

namespace mae_addon {

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto o = Napi::Object::New(env);
  o.Set("version", mae_version());
  o.Set("cuda", Napi::Boolean::New(env, mae_cuda_compiled() != 0));
  auto archs = Napi::Array::New(env);
  std::string list = mae_cuda_architectures();
  uint32_t n = 0;
  for (size_t start = 0; start < list.size();) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    if (comma > start) archs.Set(n++, list.substr(start, comma - start));
    start = comma + 1;
  }
  o.Set("architectures", archs);
  o.Set("openmp", Napi::Boolean::New(env, mae_openmp_compiled() != 0));
  o.Set("cpuThreads", Napi::Number::New(env, mae_cpu_threads()));
  o.Set("maxCpuThreads", Napi::Number::New(env, mae_cpu_max_threads()));
  o.Set("waitPolicy", Napi::String::New(env, mae_cpu_wait_policy()));
  o.Set("cpuIsa", Napi::String::New(env, mae_cpu_isa()));
  o.Set("cpuIsaBest", Napi::String::New(env, mae_cpu_isa_best()));
  return o;
}

Napi::Value CpuIsaError(const Napi::CallbackInfo& info) {
  const char* e = mae_cpu_isa_error();
  return e ? Napi::String::New(info.Env(), e) : info.Env().Null();
}

Napi::Value CpuPeakGflops(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) ThrowType(env, "cpuPeakGflops: expected (seconds: number)");
  double gflops = 0;
  Check(env, mae_cpu_peak_gflops(info[0].As<Napi::Number>().DoubleValue(), &gflops), "cpuPeakGflops");
  return Napi::Number::New(env, gflops);
}

Napi::Value CudaDevices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int count = mae_cuda_device_count();
  auto arr = Napi::Array::New(env, count);
  for (int i = 0; i < count; ++i) {
    char name[256] = "";
    int major = 0, minor = 0;
    size_t total = 0;
    Check(env, mae_cuda_device_info(i, name, sizeof name, &major, &minor, &total), "cudaDevices");
    auto d = Napi::Object::New(env);
    d.Set("index", Napi::Number::New(env, i));
    d.Set("name", name);
    d.Set("major", Napi::Number::New(env, major));
    d.Set("minor", Napi::Number::New(env, minor));
    d.Set("totalMemory", Napi::Number::New(env, static_cast<double>(total)));
    arr.Set(i, d);
  }
  return arr;
}

Napi::Value SetCpuThreads(const Napi::CallbackInfo& info) {
  const int64_t n = ParseInt(info[0], "setCpuThreads", "n", INT32_MIN, INT32_MAX);
  Check(info.Env(), mae_set_cpu_threads(static_cast<int>(n)), "setCpuThreads");
  return info.Env().Undefined();
}

Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const mae_device device = ParseDevice(info[0], info[1], "memoryStats");
  size_t allocated = 0, reserved = 0, peak = 0;
  Check(env, mae_memory_stats(device, &allocated, &reserved, &peak), "memoryStats");
  auto o = Napi::Object::New(env);
  o.Set("allocated", Napi::Number::New(env, static_cast<double>(allocated)));
  o.Set("reserved", Napi::Number::New(env, static_cast<double>(reserved)));
  o.Set("peakAllocated", Napi::Number::New(env, static_cast<double>(peak)));
  return o;
}

Napi::Value ResetPeakMemory(const Napi::CallbackInfo& info) {
  Check(info.Env(), mae_memory_reset_peak(ParseDevice(info[0], info[1], "resetPeakMemory")), "resetPeakMemory");
  return info.Env().Undefined();
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  Check(info.Env(), mae_empty_cache(ParseDevice(info[0], info[1], "emptyCache")), "emptyCache");
  return info.Env().Undefined();
}

Napi::Value HostPin(const Napi::CallbackInfo& info) {
  const HostBytes b = TypedArrayBytes(info[0], "hostPin", "memory");
  int pinned = 0;
  Check(info.Env(), mae_host_pin(b.data, b.bytes, &pinned), "hostPin");
  return Napi::Boolean::New(info.Env(), pinned != 0);
}

Napi::Value HostUnpin(const Napi::CallbackInfo& info) {
  Check(info.Env(), mae_host_unpin(TypedArrayBytes(info[0], "hostUnpin", "memory").data), "hostUnpin");
  return info.Env().Undefined();
}

}  // namespace mae_addon
