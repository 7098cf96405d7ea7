// addon.h: helpers the generated N-API bindings (generated/addon_ops.cpp) use from the addon core.
#pragma once
#include <napi.h>
#include <functional>
#include "mae_cuda.h"

namespace mae_addon {
// The mae_tensor* behind a JS NativeTensor object; throws a TypeError naming op and argument
// otherwise (and returns nullptr; callers check env.IsExceptionPending()).
mae_tensor* UnwrapTensor(const Napi::Value& v, const char* op, const char* arg);
// The mae_stream* behind a JS NativeStream object, or nullptr for undefined/null.
mae_stream* UnwrapStreamOrNull(const Napi::Value& v, const char* op);
// Throws a JS Error "<op>: <mae_last_error()>".
void ThrowLastError(Napi::Env env, const char* op);
// Runs fn on the libuv thread pool (Napi::AsyncWorker); the Promise resolves to undefined when fn
// returns MAE_OK and, for work on a CUDA stream, after synchronizing that stream off the main
// thread; it rejects with "<op>: <error>" otherwise. keepAlive values stay referenced until then.
Napi::Value RunAsync(Napi::Env env, const char* op, std::function<mae_status()> fn, mae_stream* stream,
                     const std::vector<Napi::Value>& keepAlive);
// Implemented by the generated addon_ops.cpp: adds every op under exports.ops.
void RegisterGeneratedOps(Napi::Env env, Napi::Object ops);
}  // namespace mae_addon
