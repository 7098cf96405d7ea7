// emu_test.h: what the emulator's device tests share: one line per check (ok / FAIL) and the exit
// status, the five schedules, host <-> device copies, and the performance counters' JSON lines.
#pragma once
#include <cuda_runtime.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace emu_test {
inline int g_failed = 0;

inline void check(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++g_failed;
}

// The last line: "<name>: all passed" or "<name>: FAILED"; the exit status.
inline int finish(const char* name) {
  std::printf("%s: %s\n", name, g_failed ? "FAILED" : "all passed");
  return g_failed ? 1 : 0;
}

inline const char* const kSchedules[] = {"forward", "reverse", "shuffle:7", "warp", "warp-reverse", "lead"};

template <typename T>
T* device_copy(const std::vector<T>& host) {
  T* d = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&d), host.size() * sizeof(T));
  cudaMemcpy(d, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice);
  return d;
}

template <typename T>
std::vector<T> host_copy(const T* d, size_t n) {
  std::vector<T> h(n);
  cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost);
  return h;
}

// The JSON line of the last run of `kernel` in the counters' file.
inline std::string count_line(const std::string& file, const char* kernel) {
  std::ifstream f(file);
  std::string line, last;
  const std::string key = std::string("\"kernel\":\"") + kernel + "\"";
  while (std::getline(f, line))
    if (line.find(key) != std::string::npos) last = line;
  return last;
}

// A counter of the line: "<group>":{..."<name>":N...}, or top-level "<name>":N when group is "".
inline long long count_field(const std::string& line, const std::string& group, const std::string& name) {
  std::string scope = line;
  if (!group.empty()) {
    const size_t at = line.find("\"" + group + "\":{");
    if (at == std::string::npos) return -1;
    scope = line.substr(at, line.find('}', at) - at);
  }
  std::smatch m;
  if (!std::regex_search(scope, m, std::regex("\"" + name + "\":(\\d+)"))) return -1;
  return std::stoll(m[1]);
}
}  // namespace emu_test
