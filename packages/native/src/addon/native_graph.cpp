// native_graph.cpp: CUDA graphs and the current stream for JS: setCurrentStream(type, index,
// stream|null), graphCaptureBegin(stream), graphCaptureEnd(stream) -> an External holding the
// mae_graph (destroyed by graphDestroy or when collected), graphLaunch(graph, stream?),
// graphNumNodes(graph).
#include <string>

#include "addon.h"
#include "native_graph.h"
#include "util.h"

namespace mae_addon {
namespace {

struct GraphHolder {
  mae_graph* graph = nullptr;
};

GraphHolder* UnwrapGraph(const Napi::Value& v, const char* op) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), std::string(op) + ": expected a graph");
  auto* h = v.As<Napi::External<GraphHolder>>().Data();
  if (h == nullptr || h->graph == nullptr)
    throw Napi::Error::New(v.Env(), std::string(op) + ": graph was destroyed");
  return h;
}

mae_stream* RequireStream(const Napi::Value& v, const char* op) {
  mae_stream* s = UnwrapStreamOrNull(v, op);
  if (v.Env().IsExceptionPending()) throw v.Env().GetAndClearPendingException();
  if (s == nullptr) throw Napi::TypeError::New(v.Env(), std::string(op) + ": a stream is required");
  return s;
}

}  // namespace

Napi::Value SetCurrentStream(const Napi::CallbackInfo& info) {
  const mae_device device = ParseDevice(info[0], info[1], "setCurrentStream");
  mae_stream* s = UnwrapStreamOrNull(info[2], "setCurrentStream");
  if (info.Env().IsExceptionPending()) return info.Env().Undefined();
  Check(info.Env(), mae_set_current_stream(device, s), "setCurrentStream");
  return info.Env().Undefined();
}

Napi::Value GraphCaptureBegin(const Napi::CallbackInfo& info) {
  Check(info.Env(), mae_graph_capture_begin(RequireStream(info[0], "graphCaptureBegin")), "graphCaptureBegin");
  return info.Env().Undefined();
}

Napi::Value GraphCaptureEnd(const Napi::CallbackInfo& info) {
  mae_graph* g = nullptr;
  Check(info.Env(), mae_graph_capture_end(RequireStream(info[0], "graphCaptureEnd"), &g), "graphCaptureEnd");
  return Napi::External<GraphHolder>::New(info.Env(), new GraphHolder{g}, [](Napi::Env, GraphHolder* h) {
    mae_graph_destroy(h->graph);
    delete h;
  });
}

Napi::Value GraphLaunch(const Napi::CallbackInfo& info) {
  GraphHolder* h = UnwrapGraph(info[0], "graphLaunch");
  mae_stream* s = UnwrapStreamOrNull(info[1], "graphLaunch");
  if (info.Env().IsExceptionPending()) return info.Env().Undefined();
  Check(info.Env(), mae_graph_launch(h->graph, s), "graphLaunch");
  return info.Env().Undefined();
}

Napi::Value GraphNumNodes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(mae_graph_num_nodes(UnwrapGraph(info[0], "graphNumNodes")->graph)));
}

Napi::Value GraphDestroy(const Napi::CallbackInfo& info) {
  if (info[0].IsExternal()) {
    auto* h = info[0].As<Napi::External<GraphHolder>>().Data();
    if (h != nullptr && h->graph != nullptr) {
      mae_graph_destroy(h->graph);
      h->graph = nullptr;
    }
  }
  return info.Env().Undefined();
}

}  // namespace mae_addon
