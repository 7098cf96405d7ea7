// native_stream.cpp: NativeStream (synchronize, synchronizeAsync, destroy, device; keeps typed
// arrays alive while CUDA copies enqueued on it read them), streamCreate and UnwrapStreamOrNull.
#include "native_stream.h"

#include <string>

#include "addon.h"
#include "util.h"

namespace mae_addon {

Napi::Function NativeStream::DefineClass(Napi::Env env) {
  return ObjectWrap<NativeStream>::DefineClass(
      env, "NativeStream",
      {InstanceMethod<&NativeStream::Synchronize>("synchronize"),
       InstanceMethod<&NativeStream::SynchronizeAsync>("synchronizeAsync"),
       InstanceMethod<&NativeStream::Destroy>("destroy"), InstanceAccessor<&NativeStream::GetDevice>("device")});
}

NativeStream* NativeStream::FromValue(const Napi::Value& v) {
  if (!v.IsObject()) return nullptr;
  auto obj = v.As<Napi::Object>();
  if (!obj.InstanceOf(Data(v.Env()).stream_ctor.Value())) return nullptr;
  return Unwrap(obj);
}

NativeStream::NativeStream(const Napi::CallbackInfo& info) : ObjectWrap<NativeStream>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    ThrowType(info.Env(), "NativeStream cannot be constructed directly; use streamCreate()");
  }
  stream_ = info[0].As<Napi::External<mae_stream>>().Data();
}

NativeStream::~NativeStream() {
  if (stream_ != nullptr) {
    mae_stream_synchronize(stream_);
    Prune(true);
    mae_stream_destroy(stream_);
  }
}

mae_stream* NativeStream::Live(Napi::Env env, const char* op) const {
  if (stream_ == nullptr) throw Napi::Error::New(env, std::string(op) + ": stream was destroyed");
  return stream_;
}

void NativeStream::Prune(bool all) {
  size_t kept = 0;
  for (auto& p : pending_) {
    int done = 1;
    if (!all && mae_event_query(p.event, &done) != MAE_OK) done = 1;
    if (done) {
      mae_event_destroy(p.event);
    } else {
      pending_[kept++] = std::move(p);
    }
  }
  pending_.resize(kept);
}

void NativeStream::KeepAlive(Napi::Env env, const std::vector<Napi::Value>& values) {
  Prune(false);
  mae_event* e = nullptr;
  if (mae_event_create(&e, mae_stream_device(stream_)) != MAE_OK || mae_event_record(e, stream_) != MAE_OK) {
    // Cannot track the work: wait for it instead.
    mae_event_destroy(e);
    Check(env, mae_stream_synchronize(stream_), "stream");
    return;
  }
  Pending p{e, {}};
  for (const auto& v : values) {
    if (v.IsObject()) p.refs.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }
  pending_.push_back(std::move(p));
}

Napi::Value NativeStream::Synchronize(const Napi::CallbackInfo& info) {
  Check(info.Env(), mae_stream_synchronize(Live(info.Env(), "synchronize")), "synchronize");
  Prune(true);
  return info.Env().Undefined();
}

Napi::Value NativeStream::SynchronizeAsync(const Napi::CallbackInfo& info) {
  mae_stream* s = Live(info.Env(), "synchronizeAsync");
  return RunAsync(info.Env(), "synchronizeAsync", [] { return MAE_OK; }, s, {info.This()});
}

Napi::Value NativeStream::Destroy(const Napi::CallbackInfo& info) {
  if (stream_ != nullptr) {
    mae_status st = mae_stream_synchronize(stream_);
    Prune(true);
    mae_stream_destroy(stream_);
    stream_ = nullptr;
    Check(info.Env(), st, "destroy");
  }
  return info.Env().Undefined();
}

Napi::Value NativeStream::GetDevice(const Napi::CallbackInfo& info) {
  return DeviceObject(info.Env(), mae_stream_device(Live(info.Env(), "device")));
}

Napi::Value StreamCreate(const Napi::CallbackInfo& info) {
  const mae_device device = ParseDevice(info[0], info[1], "streamCreate");
  mae_stream* s = nullptr;
  Check(info.Env(), mae_stream_create(&s, device), "streamCreate");
  return Data(info.Env()).stream_ctor.New({Napi::External<mae_stream>::New(info.Env(), s)});
}

mae_stream* UnwrapStreamOrNull(const Napi::Value& v, const char* op) {
  if (v.IsUndefined() || v.IsNull()) return nullptr;
  NativeStream* wrapper = NativeStream::FromValue(v);
  if (wrapper == nullptr) {
    Napi::TypeError::New(v.Env(), std::string(op) + ": stream must be a NativeStream, undefined or null")
        .ThrowAsJavaScriptException();
    return nullptr;
  }
  if (wrapper->stream() == nullptr) {
    Napi::TypeError::New(v.Env(), std::string(op) + ": stream was destroyed").ThrowAsJavaScriptException();
    return nullptr;
  }
  return wrapper->stream();
}

}  // namespace mae_addon
