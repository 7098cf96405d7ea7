// device_count.cpp: the emulator's performance counters, the measurements behind the kernel report
// (a model of a GPU, not a measurement of one). With MAE_EMU_COUNT=FILE every grid run appends one
// JSON line to FILE: the kernel, its launch shape, the blocks it ran and what their warps did:
//   - global loads and stores: requests (one per warp-level instruction), the 32-byte sectors they
//     touch and the ideal sectors (the bytes the lanes asked for, packed); the distinct sectors of
//     each block, summed (L2 traffic, were each SM's L1 perfect for a block's life; a persistent
//     kernel's blocks, each tile's apart); and the distinct sectors of the whole run (DRAM traffic,
//     were L2 perfect);
//   - shared loads and stores: requests and wavefronts (passes through the 32 four-byte banks: lanes
//     that hit distinct words of one bank take one wavefront per word, lanes that read one word share
//     it; 8- and 16-byte accesses go in 2 and 4 phases of 16 and 8 lanes), and the ideal (one
//     wavefront per phase): wavefronts above the ideal are bank conflicts;
//   - the global loads of asynchronous copies (cp.async, TMA: requests, counted among the loads too)
//     and the warp-level waits for them (a cp.async.wait_group that landed some, an mbarrier wait on
//     a phase that carried TMA transactions): a warp waits for its copies there, all at once, not at
//     each load;
//   - tensor-core instructions (mma.m16n8k16, counted per warp);
//   - a persistent kernel's tiles (MAE_COUNT_TILE: each block run's, and the launch's total): its
//     counts scale to the grid per tile rather than per block, its blocks' unequal shares of the
//     tiles weigh on its time in the model, and a block's distinct sectors are counted per tile;
//   - DRAM bytes estimated for the whole grid: per allocation, the distinct sectors the blocks run
//     touched there, scaled to the grid, at most the span from the lowest to the highest of them
//     (blocks spread over a grid reach about the region the whole grid reaches; a buffer that many
//     blocks share, a GEMM's weights, is then counted once, not once per block).
// A warp-level instruction is the k-th execution of one load or store site (the instrumentation's
// call site, device_check.cpp) by the lanes of one warp; lanes that run a site unequally often (a
// tail guard) make partial requests, as on a GPU. MAE_EMU_SAMPLE_BLOCKS=N (device_grid.cpp) runs at
// most N blocks of a grid, spread over it: the line says how many ran of how many.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "device_internal.h"

namespace mae_emu {

// One warp-level memory instruction: what each lane accessed.
struct CountRequest {
  uint8_t kind = 0;  // Kind below
  bool async = false;  // a global load by an asynchronous copy (cp.async)
  uint32_t epoch = 0;  // the grid run's tiles started when it was made (MAE_COUNT_TILE)
  uint32_t lanes = 0;  // mask of the lanes that took part
  uint64_t addr[32];
  uint8_t bytes[32];
};
struct CountSite {
  uint32_t seen[32] = {};  // executions of the site by each lane
  std::vector<uint32_t> requests;  // the site's requests, in order, as indices into WarpLog::requests
};
struct WarpLog {
  std::unordered_map<uintptr_t, CountSite> sites;
  std::vector<CountRequest> requests;
};
struct GridCounts {
  uint64_t req[4] = {}, units[4] = {}, ideal[4] = {};  // by Kind: sectors or wavefronts, and ideal
  uint64_t mma_lanes = 0;
  uint64_t wgmma_flops = 0;  // wgmma.mma_async, FLOPs (2 m n k per warpgroup instruction)
  uint64_t blocks = 0, warps = 0, block_sectors = 0;
  uint64_t async_loads = 0, async_waits = 0;  // warp-level requests: cp.async loads, waits that landed some
  uint64_t tiles = 0, tiles_total = 0;  // a persistent kernel's: the blocks run started, the launch's
  std::unordered_set<uint64_t> sectors, block;  // the run's, the current block's
};
struct CountState {
  std::vector<WarpLog> warps;
  GridCounts grid;
};

namespace {
enum Kind : uint8_t { kGlobalLoad, kGlobalStore, kSharedLoad, kSharedStore, kAsyncWait };

std::string count_file_from_env() {
  const char* p = std::getenv("MAE_EMU_COUNT");
  return p != nullptr ? p : "";
}
std::string g_count_file = count_file_from_env();

// A sector in a block's set: a persistent kernel's block counts each tile's sectors apart (the
// sectors of one tile of its work, as a block of a plain grid counts its own: L1 is not perfect for
// the life of a block that runs many tiles, and TMA copies do not go through it).
uint64_t block_key(uint64_t sector, uint64_t epoch) { return sector << 12 | (epoch & 4095); }

// 32-byte sectors of a global request; adds them to the grid's set.
void global_request(GridCounts& g, const CountRequest& r) {
  std::vector<uint64_t> sec;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (unsigned l = 0; l < 32; ++l) {
    if (!(r.lanes >> l & 1u)) continue;
    const uint64_t lo = r.addr[l], hi = lo + r.bytes[l];
    ranges.emplace_back(lo, hi);
    for (uint64_t s = lo >> 5; s <= (hi - 1) >> 5; ++s) sec.push_back(s);
  }
  std::sort(sec.begin(), sec.end());
  sec.erase(std::unique(sec.begin(), sec.end()), sec.end());
  std::sort(ranges.begin(), ranges.end());
  uint64_t bytes = 0, end = 0;
  for (const auto& [lo, hi] : ranges) {
    const uint64_t from = std::max(lo, end);
    if (hi > from) bytes += hi - from;
    end = std::max(end, hi);
  }
  g.units[r.kind] += sec.size();
  g.ideal[r.kind] += (bytes + 31) / 32;
  g.sectors.insert(sec.begin(), sec.end());
  for (uint64_t x : sec) g.block.insert(block_key(x, r.epoch));
}

// Wavefronts of a shared request: per phase, the most distinct words any one bank must serve.
void shared_request(GridCounts& g, const CountRequest& r, uintptr_t base) {
  unsigned width = 1;
  for (unsigned l = 0; l < 32; ++l)
    if (r.lanes >> l & 1u) width = std::max<unsigned>(width, r.bytes[l]);
  const unsigned per_phase = width > 8 ? 8 : width > 4 ? 16 : 32;
  for (unsigned p0 = 0; p0 < 32; p0 += per_phase) {
    std::vector<uint64_t> words[32];
    bool any = false;
    for (unsigned l = p0; l < p0 + per_phase; ++l) {
      if (!(r.lanes >> l & 1u)) continue;
      any = true;
      const uint64_t lo = r.addr[l] - base, hi = lo + r.bytes[l];
      for (uint64_t w = lo / 4; w <= (hi - 1) / 4; ++w) words[w % 32].push_back(w);
    }
    if (!any) continue;
    size_t most = 1;
    for (auto& ws : words) {
      std::sort(ws.begin(), ws.end());
      most = std::max<size_t>(most, std::unique(ws.begin(), ws.end()) - ws.begin());
    }
    g.units[r.kind] += most;
    g.ideal[r.kind] += 1;
  }
}

}  // namespace

void set_count_file(const char* path) { g_count_file = path != nullptr ? path : ""; }
bool counting() { return !g_count_file.empty(); }

void count_start(Block& b) {
  if (!counting()) return;
  if (b.count == nullptr) b.count = new CountState();
  b.count->warps.assign((b.nthreads + 31) / 32, WarpLog{});
}

namespace {
// The running thread's k-th execution of site pc joins the warp's k-th request there (made of `kind`).
CountRequest& site_request(Block& b, uintptr_t pc, uint8_t kind) {
  const unsigned t = b.current->linear, lane = t & 31;
  WarpLog& w = b.count->warps[t >> 5];
  CountSite& s = w.sites[pc];
  const uint32_t k = s.seen[lane]++;
  if (k == s.requests.size()) {
    s.requests.push_back(static_cast<uint32_t>(w.requests.size()));
    w.requests.emplace_back();
    w.requests.back().kind = kind;
    w.requests.back().epoch = static_cast<uint32_t>(b.count->grid.tiles);
  }
  return w.requests[s.requests[k]];
}
}  // namespace

void count_async_wait(Block& b, uintptr_t pc) { site_request(b, pc, kAsyncWait).lanes |= 1u << (b.current->linear & 31); }

void count_access(Block& b, uintptr_t pc, uintptr_t a, size_t n, bool write, bool shared, bool async) {
  const unsigned lane = b.current->linear & 31;
  CountRequest& r =
      site_request(b, pc, shared ? (write ? kSharedStore : kSharedLoad) : (write ? kGlobalStore : kGlobalLoad));
  r.async = async;
  if (r.lanes >> lane & 1u) return;  // cannot happen: one execution per lane per request
  r.lanes |= 1u << lane;
  r.addr[lane] = a;
  r.bytes[lane] = static_cast<uint8_t>(std::min<size_t>(n, 255));
}

void count_mma(Block& b) {
  if (b.count != nullptr) ++b.count->grid.mma_lanes;
}

// Counted per thread: each of the warpgroup's 128 threads adds its share of 2 x 64 x n x 16.
void count_wgmma(Block& b, int n) {
  if (b.count != nullptr) b.count->grid.wgmma_flops += 2ull * 64 * static_cast<uint64_t>(n) * 16 / 128;
}

// A TMA copy: one global load request of the box's bytes (the runs it read), its sectors ideal; an
// asynchronous one (the threads that wait on its mbarrier wait for it, counted there).
void count_tma(Block& b, uintptr_t /*base*/, const std::vector<std::pair<uintptr_t, size_t>>& runs) {
  if (b.count == nullptr) return;
  GridCounts& g = b.count->grid;
  std::vector<uint64_t> sec;
  uint64_t bytes = 0;
  for (const auto& [lo, n] : runs) {
    bytes += n;
    for (uint64_t s = lo >> 5; s <= (lo + n - 1) >> 5; ++s) sec.push_back(s);
  }
  std::sort(sec.begin(), sec.end());
  sec.erase(std::unique(sec.begin(), sec.end()), sec.end());
  ++g.req[kGlobalLoad];
  ++g.async_loads;
  g.units[kGlobalLoad] += sec.size();
  g.ideal[kGlobalLoad] += (bytes + 31) / 32;
  g.sectors.insert(sec.begin(), sec.end());
  for (uint64_t x : sec) g.block.insert(block_key(x, g.tiles));
}

void count_end(Block& b) {
  if (b.count == nullptr) return;
  GridCounts& g = b.count->grid;
  ++g.blocks;
  const uintptr_t base = reinterpret_cast<uintptr_t>(b.window);
  for (WarpLog& w : b.count->warps) {
    if (!w.requests.empty()) ++g.warps;
    for (const CountRequest& r : w.requests) {
      if (r.kind == kAsyncWait) {
        ++g.async_waits;
        continue;
      }
      ++g.req[r.kind];
      if (r.async) ++g.async_loads;
      if (r.kind == kGlobalLoad || r.kind == kGlobalStore) global_request(g, r);
      else shared_request(g, r, base);
    }
  }
  b.count->warps.clear();
  g.block_sectors += g.block.size();
  g.block.clear();
}

void count_tile(uint64_t total) {
  Block* b = tl_block;
  if (b == nullptr || b->count == nullptr) return;
  ++b->count->grid.tiles;
  b->count->grid.tiles_total = total;
}

void count_merge(Block& into, Block& from) {
  if (into.count == nullptr || from.count == nullptr) return;
  GridCounts& g = into.count->grid;
  const GridCounts& f = from.count->grid;
  for (int k = 0; k < 4; ++k) g.req[k] += f.req[k], g.units[k] += f.units[k], g.ideal[k] += f.ideal[k];
  g.mma_lanes += f.mma_lanes, g.wgmma_flops += f.wgmma_flops;
  g.blocks += f.blocks, g.warps += f.warps, g.block_sectors += f.block_sectors;
  g.async_loads += f.async_loads, g.async_waits += f.async_waits;
  g.tiles += f.tiles, g.tiles_total = std::max(g.tiles_total, f.tiles_total);
  g.sectors.insert(f.sectors.begin(), f.sectors.end());
  delete from.count;
  from.count = nullptr;
}

namespace {
// DRAM bytes of the whole grid from the distinct sectors of `ran` of its `total` blocks: per
// allocation, min(the span of the sectors there, their count scaled to the grid), in bytes.
uint64_t dram_bytes(const std::unordered_set<uint64_t>& sectors, double scale) {
  std::vector<uint64_t> s(sectors.begin(), sectors.end());
  std::sort(s.begin(), s.end());
  double total = 0;
  size_t i = 0;
  while (i < s.size()) {
    Allocation x;
    size_t j = i + 1;
    if (find_allocation(reinterpret_cast<const void*>(s[i] << 5), 1, &x)) {
      const uint64_t end = (reinterpret_cast<uintptr_t>(x.base) + x.size + 31) >> 5;
      while (j < s.size() && s[j] < end) ++j;
    }
    const double span = static_cast<double>(s[j - 1] - s[i] + 1), count = static_cast<double>(j - i);
    total += 32 * std::min(span, count * scale);
    i = j;
  }
  return static_cast<uint64_t>(total);
}
}  // namespace

void count_finish(Block& b, const char* kernel, dim3 grid, dim3 block, size_t smem) {
  if (b.count == nullptr) return;
  const GridCounts& g = b.count->grid;
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (FILE* f = std::fopen(g_count_file.c_str(), "a")) {
    auto kind = [&](const char* name, int k, const char* unit) {
      std::fprintf(f, ",\"%s\":{\"requests\":%llu,\"%s\":%llu,\"ideal\":%llu}", name,
                   static_cast<unsigned long long>(g.req[k]), unit, static_cast<unsigned long long>(g.units[k]),
                   static_cast<unsigned long long>(g.ideal[k]));
    };
    std::fprintf(f, "{\"kernel\":\"%s\",\"grid\":[%u,%u,%u],\"block\":[%u,%u,%u],\"smem\":%zu,\"blocks_run\":%llu",
                 kernel, grid.x, grid.y, grid.z, block.x, block.y, block.z, smem,
                 static_cast<unsigned long long>(g.blocks));
    kind("global_load", kGlobalLoad, "sectors");
    kind("global_store", kGlobalStore, "sectors");
    kind("shared_load", kSharedLoad, "wavefronts");
    kind("shared_store", kSharedStore, "wavefronts");
    // grid blocks per block run, or for a persistent kernel the launch's tiles per tile run
    const double scale = g.tiles ? static_cast<double>(g.tiles_total) / static_cast<double>(g.tiles)
                         : g.blocks ? static_cast<double>(grid.x) * grid.y * grid.z / static_cast<double>(g.blocks)
                                    : 0;
    std::fprintf(f, ",\"async_loads\":%llu,\"async_waits\":%llu", static_cast<unsigned long long>(g.async_loads),
                 static_cast<unsigned long long>(g.async_waits));
    if (g.tiles)
      std::fprintf(f, ",\"tiles\":%llu,\"tiles_total\":%llu", static_cast<unsigned long long>(g.tiles),
                   static_cast<unsigned long long>(g.tiles_total));
    std::fprintf(f, ",\"mma\":%llu,\"wgmma_flops\":%llu,\"block_sectors\":%llu,\"unique_sectors\":%llu,\"dram_bytes\":%llu}\n",
                 static_cast<unsigned long long>(g.mma_lanes / 32), static_cast<unsigned long long>(g.wgmma_flops), static_cast<unsigned long long>(g.block_sectors),
                 static_cast<unsigned long long>(g.sectors.size()),
                 static_cast<unsigned long long>(dram_bytes(g.sectors, scale)));
    std::fclose(f);
  }
  delete b.count;
  b.count = nullptr;
}

}  // namespace mae_emu
