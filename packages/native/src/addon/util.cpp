// util.cpp: argument parsing and error helpers shared by the addon (see util.h).
#include "util.h"

#include <cmath>

namespace mae_addon {

AddonData& Data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

void ThrowType(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }

std::string OpError(const std::string& op) {
  const std::string e = mae_last_error(), prefix = op + ": ";
  return e.compare(0, prefix.size(), prefix) == 0 ? e : prefix + e;  // the launchers name their op already
}

void Check(Napi::Env env, mae_status status, const char* op) {
  if (status != MAE_OK) throw Napi::Error::New(env, OpError(op));
}

static std::string TypeName(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "boolean";
    case napi_number: return "number";
    case napi_string: return "string";
    case napi_symbol: return "symbol";
    case napi_object: return v.IsArray() ? "array" : "object";
    case napi_function: return "function";
    case napi_external: return "external";
    case napi_bigint: return "bigint";
  }
  return "value";
}

int64_t ParseInt(const Napi::Value& v, const char* op, const char* arg, int64_t min, int64_t max) {
  if (!v.IsNumber()) ThrowType(v.Env(), std::string(op) + ": " + arg + " must be a number, got " + TypeName(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(min) || d > static_cast<double>(max)) {
    ThrowType(v.Env(), std::string(op) + ": " + arg + " must be an integer in " + std::to_string(min) + ".." +
                           std::to_string(max) + ", got " + v.ToString().Utf8Value());
  }
  return static_cast<int64_t>(d);
}

std::vector<int64_t> ParseShape(const Napi::Value& v, const char* op, const char* arg) {
  if (!v.IsArray()) ThrowType(v.Env(), std::string(op) + ": " + arg + " must be an array of integers, got " + TypeName(v));
  auto arr = v.As<Napi::Array>();
  if (arr.Length() > MAE_MAX_DIMS) {
    ThrowType(v.Env(), std::string(op) + ": " + arg + " has " + std::to_string(arr.Length()) +
                           " dimensions; at most " + std::to_string(MAE_MAX_DIMS) + " are supported");
  }
  std::vector<int64_t> shape(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    const std::string name = std::string(arg) + "[" + std::to_string(i) + "]";
    shape[i] = ParseInt(arr.Get(i), op, name.c_str(), 0, (int64_t{1} << 53) - 1);
  }
  return shape;
}

mae_device ParseDevice(const Napi::Value& type, const Napi::Value& index, const char* op) {
  const int64_t t = ParseInt(type, op, "deviceType (0 = cpu, 1 = cuda)", 0, 1);
  const int64_t i = ParseInt(index, op, "deviceIndex", 0, 1 << 20);
  return mae_device{static_cast<mae_device_type>(t), static_cast<int>(i)};
}

HostBytes TypedArrayBytes(const Napi::Value& v, const char* op, const char* arg) {
  if (!v.IsTypedArray()) ThrowType(v.Env(), std::string(op) + ": " + arg + " must be a typed array, got " + TypeName(v));
  auto ta = v.As<Napi::TypedArray>();
  // the data pointer from napi_get_typedarray_info (offset included) works for SharedArrayBuffer
  // views too (the batch loader's buffers); ArrayBuffer().Data() refuses those
  void* data = nullptr;
  napi_status s = napi_get_typedarray_info(v.Env(), v, nullptr, nullptr, &data, nullptr, nullptr);
  if (s != napi_ok) ThrowType(v.Env(), std::string(op) + ": " + arg + ": cannot read the typed array's memory");
  return HostBytes{static_cast<uint8_t*>(data), ta.ByteLength()};
}

Napi::Object DeviceObject(Napi::Env env, mae_device d) {
  auto o = Napi::Object::New(env);
  o.Set("type", Napi::Number::New(env, static_cast<int>(d.type)));
  o.Set("index", Napi::Number::New(env, d.index));
  return o;
}

std::string DeviceName(mae_device d) {
  return d.type == MAE_DEVICE_CPU ? "cpu" : "cuda:" + std::to_string(d.index);
}

std::string ShapeString(const int64_t* shape, int ndim) {
  std::string s = "[";
  for (int i = 0; i < ndim; ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace mae_addon
