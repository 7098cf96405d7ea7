// nccl_probe.cpp: ncclProbe(candidates) dlopens each candidate library in turn (RTLD_NOW |
// RTLD_LOCAL), calls ncclGetVersion from the first that loads, and reports what was searched.
#include <dlfcn.h>

#include <string>

#include "info.h"
#include "util.h"

namespace mae_addon {

Napi::Value NcclProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) ThrowType(env, "ncclProbe: candidates must be an array of strings");
  auto candidates = info[0].As<Napi::Array>();
  auto result = Napi::Object::New(env);
  auto searched = Napi::Array::New(env);
  auto errors = Napi::Array::New(env);
  result.Set("found", Napi::Boolean::New(env, false));
  for (uint32_t i = 0; i < candidates.Length(); ++i) {
    Napi::Value c = candidates.Get(i);
    if (!c.IsString()) ThrowType(env, "ncclProbe: candidates[" + std::to_string(i) + "] must be a string");
    const std::string path = c.As<Napi::String>().Utf8Value();
    searched.Set(searched.Length(), path);
    void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* why = dlerror();
      errors.Set(errors.Length(), why ? why : (path + ": dlopen failed"));
      continue;
    }
    using GetVersion = int (*)(int*);
    auto get_version = reinterpret_cast<GetVersion>(dlsym(lib, "ncclGetVersion"));
    int version = 0;
    const bool ok = get_version != nullptr && get_version(&version) == 0;
    dlclose(lib);
    if (!ok) {
      errors.Set(errors.Length(), path + ": loaded but ncclGetVersion is missing or failed");
      continue;
    }
    result.Set("found", Napi::Boolean::New(env, true));
    result.Set("path", path);
    result.Set("version", Napi::Number::New(env, version));
    break;
  }
  result.Set("searched", searched);
  result.Set("errors", errors);
  return result;
}

}  // namespace mae_addon
