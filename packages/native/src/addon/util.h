// util.h: argument parsing and error helpers shared by the addon's .cpp files (shapes, devices,
// typed arrays, status checks), and the per-environment data holding the class constructors.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "mae_cuda.h"

namespace mae_addon {

struct AddonData {
  Napi::FunctionReference tensor_ctor;
  Napi::FunctionReference stream_ctor;
  Napi::FunctionReference event_ctor;
};
AddonData& Data(Napi::Env env);

// Throws (C++ exception) a JS TypeError / Error with the message.
[[noreturn]] void ThrowType(Napi::Env env, const std::string& msg);
// "<op>: <the runtime's last error>", without a second "<op>: " when the message starts with one.
std::string OpError(const std::string& op);
// Throws "<op>: <mae_last_error()>" as a JS Error when status is MAE_ERROR.
void Check(Napi::Env env, mae_status status, const char* op);

// A JS array of non-negative safe integers (at most MAE_MAX_DIMS) as a shape.
std::vector<int64_t> ParseShape(const Napi::Value& v, const char* op, const char* arg);
// (deviceType, deviceIndex) numbers as a device: 0 = cpu, 1 = cuda.
mae_device ParseDevice(const Napi::Value& type, const Napi::Value& index, const char* op);
// A non-negative integer argument.
int64_t ParseInt(const Napi::Value& v, const char* op, const char* arg, int64_t min, int64_t max);

struct HostBytes {
  void* data;
  size_t bytes;
};
// The bytes behind a typed array (TypeError otherwise).
HostBytes TypedArrayBytes(const Napi::Value& v, const char* op, const char* arg);

Napi::Object DeviceObject(Napi::Env env, mae_device d);
std::string DeviceName(mae_device d);
std::string ShapeString(const int64_t* shape, int ndim);

}  // namespace mae_addon
