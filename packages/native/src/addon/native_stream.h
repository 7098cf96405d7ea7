// native_stream.h: the JS classes NativeStream (a mae_stream, plus the JS values that enqueued
// CUDA copies still read) and NativeEvent (a mae_event).
#pragma once
#include <napi.h>

#include <vector>

#include "mae_cuda.h"

namespace mae_addon {

class NativeStream : public Napi::ObjectWrap<NativeStream> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  static NativeStream* FromValue(const Napi::Value& v);
  explicit NativeStream(const Napi::CallbackInfo& info);
  ~NativeStream() override;
  mae_stream* stream() const { return stream_; }
  // Keeps values referenced until the work enqueued so far on this stream has finished.
  void KeepAlive(Napi::Env env, const std::vector<Napi::Value>& values);

 private:
  struct Pending {
    mae_event* event;
    std::vector<Napi::Reference<Napi::Object>> refs;
  };
  mae_stream* Live(Napi::Env env, const char* op) const;
  void Prune(bool all);
  Napi::Value Synchronize(const Napi::CallbackInfo& info);
  Napi::Value SynchronizeAsync(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  Napi::Value GetDevice(const Napi::CallbackInfo& info);

  mae_stream* stream_ = nullptr;
  std::vector<Pending> pending_;
};

class NativeEvent : public Napi::ObjectWrap<NativeEvent> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit NativeEvent(const Napi::CallbackInfo& info);
  ~NativeEvent() override;

 private:
  mae_event* Live(Napi::Env env, const char* op) const;
  Napi::Value Record(const Napi::CallbackInfo& info);
  Napi::Value Block(const Napi::CallbackInfo& info);
  Napi::Value Synchronize(const Napi::CallbackInfo& info);
  Napi::Value Query(const Napi::CallbackInfo& info);
  Napi::Value ElapsedMs(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  Napi::Value GetDevice(const Napi::CallbackInfo& info);

  mae_event* event_ = nullptr;
  mae_device device_{MAE_DEVICE_CPU, 0};
};

// streamCreate(deviceType, deviceIndex): NativeStream
Napi::Value StreamCreate(const Napi::CallbackInfo& info);
// eventCreate(deviceType, deviceIndex): NativeEvent
Napi::Value EventCreate(const Napi::CallbackInfo& info);

}  // namespace mae_addon
