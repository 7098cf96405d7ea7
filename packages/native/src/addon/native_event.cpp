// native_event.cpp: NativeEvent (record on a stream, block a stream, synchronize, query, elapsedMs,
// destroy) and eventCreate.
#include <string>

#include "addon.h"
#include "native_stream.h"
#include "util.h"

namespace mae_addon {

Napi::Function NativeEvent::DefineClass(Napi::Env env) {
  return ObjectWrap<NativeEvent>::DefineClass(
      env, "NativeEvent",
      {InstanceMethod<&NativeEvent::Record>("record"), InstanceMethod<&NativeEvent::Synchronize>("synchronize"),
       InstanceMethod<&NativeEvent::Query>("query"), InstanceMethod<&NativeEvent::ElapsedMs>("elapsedMs"),
       InstanceMethod<&NativeEvent::Destroy>("destroy"), InstanceMethod<&NativeEvent::Block>("block"),
       InstanceAccessor<&NativeEvent::GetDevice>("device")});
}

NativeEvent::NativeEvent(const Napi::CallbackInfo& info) : ObjectWrap<NativeEvent>(info) {
  if (info.Length() != 3 || !info[0].IsExternal()) {
    ThrowType(info.Env(), "NativeEvent cannot be constructed directly; use eventCreate()");
  }
  event_ = info[0].As<Napi::External<mae_event>>().Data();
  device_ = ParseDevice(info[1], info[2], "NativeEvent");
}

NativeEvent::~NativeEvent() { mae_event_destroy(event_); }

mae_event* NativeEvent::Live(Napi::Env env, const char* op) const {
  if (event_ == nullptr) throw Napi::Error::New(env, std::string(op) + ": event was destroyed");
  return event_;
}

// block(stream): work enqueued on stream from now on waits for this event (mae_stream_wait_event).
Napi::Value NativeEvent::Block(const Napi::CallbackInfo& info) {
  mae_event* e = Live(info.Env(), "block");
  mae_stream* s = UnwrapStreamOrNull(info[0], "block");
  if (info.Env().IsExceptionPending()) return info.Env().Undefined();
  Check(info.Env(), mae_stream_wait_event(s, e), "block");
  return info.Env().Undefined();
}

Napi::Value NativeEvent::Record(const Napi::CallbackInfo& info) {
  mae_event* e = Live(info.Env(), "record");
  mae_stream* s = UnwrapStreamOrNull(info[0], "record");
  if (info.Env().IsExceptionPending()) return info.Env().Undefined();
  Check(info.Env(), mae_event_record(e, s), "record");
  return info.Env().Undefined();
}

Napi::Value NativeEvent::Synchronize(const Napi::CallbackInfo& info) {
  Check(info.Env(), mae_event_synchronize(Live(info.Env(), "synchronize")), "synchronize");
  return info.Env().Undefined();
}

Napi::Value NativeEvent::Query(const Napi::CallbackInfo& info) {
  int done = 0;
  Check(info.Env(), mae_event_query(Live(info.Env(), "query"), &done), "query");
  return Napi::Boolean::New(info.Env(), done != 0);
}

Napi::Value NativeEvent::ElapsedMs(const Napi::CallbackInfo& info) {
  mae_event* start = Live(info.Env(), "elapsedMs");
  auto ctor = Data(info.Env()).event_ctor.Value();
  if (!info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(ctor)) {
    ThrowType(info.Env(), "elapsedMs: end must be a NativeEvent");
  }
  mae_event* end = Unwrap(info[0].As<Napi::Object>())->Live(info.Env(), "elapsedMs");
  float ms = 0;
  Check(info.Env(), mae_event_elapsed_ms(&ms, start, end), "elapsedMs");
  return Napi::Number::New(info.Env(), ms);
}

Napi::Value NativeEvent::Destroy(const Napi::CallbackInfo& info) {
  mae_event_destroy(event_);
  event_ = nullptr;
  return info.Env().Undefined();
}

Napi::Value NativeEvent::GetDevice(const Napi::CallbackInfo& info) {
  Live(info.Env(), "device");
  return DeviceObject(info.Env(), device_);
}

Napi::Value EventCreate(const Napi::CallbackInfo& info) {
  const mae_device device = ParseDevice(info[0], info[1], "eventCreate");
  mae_event* e = nullptr;
  Check(info.Env(), mae_event_create(&e, device), "eventCreate");
  return Data(info.Env()).event_ctor.New({Napi::External<mae_event>::New(info.Env(), e), info[0], info[1]});
}

}  // namespace mae_addon
