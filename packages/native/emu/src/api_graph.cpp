// api_graph.cpp (emulator): graphs made by stream capture and their executable instances. A graph is
// the list of nodes (kernels, copies, memsets, child graphs) in the order they were issued during the
// capture, which respects every dependency the capture could have recorded. cudaGraphInstantiate
// shares that list; cudaGraphLaunch replays it synchronously, stopping at the first node that fails
// (its error is what cudaGraphLaunch returns), or, on a capturing stream, records the whole replay as
// one child-graph node. Handles are checked against registries (cudaErrorInvalidResourceHandle for a
// destroyed one).
#include <unordered_set>

#include "api_internal.h"

namespace mae_emu {
namespace detail {
namespace {
std::unordered_set<const CUgraph_st*> g_graphs;
std::unordered_set<const CUgraphExec_st*> g_execs;
}  // namespace

cudaGraph_t new_graph_locked(NodeList nodes, int device) {
  auto* g = new CUgraph_st();
  g->nodes = std::move(nodes);
  g->device = device;
  g_graphs.insert(g);
  return g;
}

void reset_graphs() {
  std::lock_guard<std::mutex> lock(mu());
  for (const CUgraph_st* g : g_graphs) delete g;
  for (const CUgraphExec_st* x : g_execs) delete x;
  g_graphs.clear();
  g_execs.clear();
}

}  // namespace detail
}  // namespace mae_emu

using namespace mae_emu::detail;

namespace {
cudaError_t check_graph_locked(const char* api, cudaGraph_t graph) {
  if (g_graphs.count(graph)) return cudaSuccess;
  return fail(cudaErrorInvalidValue, format("%s: graph %p is not a live graph", api, static_cast<void*>(graph)));
}
cudaError_t check_exec_locked(const char* api, cudaGraphExec_t exec) {
  if (g_execs.count(exec)) return cudaSuccess;
  return fail(cudaErrorInvalidValue, format("%s: graph exec %p is not a live instance", api, static_cast<void*>(exec)));
}
}  // namespace

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* pGraphExec, cudaGraph_t graph, unsigned long long flags) {
  const char* api = "cudaGraphInstantiate";
  if (pGraphExec == nullptr) return fail(cudaErrorInvalidValue, "cudaGraphInstantiate: pGraphExec is NULL");
  if (flags > 0xF) return fail(cudaErrorInvalidValue, format("%s: unknown flags 0x%llx", api, flags));
  std::lock_guard<std::mutex> lock(mu());
  if (cudaError_t e = check_graph_locked(api, graph)) return e;
  auto* x = new CUgraphExec_st();
  x->nodes = graph->nodes;
  x->device = graph->device;
  g_execs.insert(x);
  *pGraphExec = x;
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t graphExec, cudaStream_t stream) {
  const char* api = "cudaGraphLaunch";
  NodeList nodes;
  {
    std::lock_guard<std::mutex> lock(mu());
    if (cudaError_t e = check_exec_locked(api, graphExec)) return e;
    nodes = graphExec->nodes;
  }
  const std::string name = format("graph of %zu nodes", nodes.size());
  return submit(api, stream, NodeKind::Graph, name, [nodes]() { return run_nodes(nodes); });
}

cudaError_t cudaGraphGetNodes(cudaGraph_t graph, cudaGraphNode_t* nodes, size_t* numNodes) {
  const char* api = "cudaGraphGetNodes";
  if (numNodes == nullptr) return fail(cudaErrorInvalidValue, "cudaGraphGetNodes: numNodes is NULL");
  std::lock_guard<std::mutex> lock(mu());
  if (cudaError_t e = check_graph_locked(api, graph)) return e;
  const size_t count = graph->nodes.size();
  if (nodes != nullptr) {
    for (size_t i = 0; i < *numNodes; ++i) nodes[i] = i < count ? graph->nodes[i].get() : nullptr;
    if (*numNodes > count) *numNodes = count;
  } else {
    *numNodes = count;
  }
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  std::lock_guard<std::mutex> lock(mu());
  if (cudaError_t e = check_graph_locked("cudaGraphDestroy", graph)) return e;
  g_graphs.erase(graph);
  delete graph;
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t graphExec) {
  std::lock_guard<std::mutex> lock(mu());
  if (cudaError_t e = check_exec_locked("cudaGraphExecDestroy", graphExec)) return e;
  g_execs.erase(graphExec);
  delete graphExec;
  return cudaSuccess;
}
