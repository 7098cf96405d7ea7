// native_graph.h: the addon's CUDA-graph and current-stream functions (native_graph.cpp).
#pragma once
#include <napi.h>

namespace mae_addon {
Napi::Value SetCurrentStream(const Napi::CallbackInfo& info);
Napi::Value GraphCaptureBegin(const Napi::CallbackInfo& info);
Napi::Value GraphCaptureEnd(const Napi::CallbackInfo& info);
Napi::Value GraphLaunch(const Napi::CallbackInfo& info);
Napi::Value GraphNumNodes(const Napi::CallbackInfo& info);
Napi::Value GraphDestroy(const Napi::CallbackInfo& info);
}  // namespace mae_addon
