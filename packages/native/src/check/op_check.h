// op_check.h: the op checker's body, a C++ program over the C ABI that runs every op's variants on
// a device against the CPU backend on fresh random inputs (outputs poisoned first: NaN in every
// float format, so an unwritten element fails), and for each output prints its relative-norm error
// (with an absolute floor), the threshold of its dtype and the mean time of the device's run; it
// exits non-zero on any failure. It needs no Node.js, so the lent GPU machine runs it as it is;
// `--device cpu` checks the CPU kernels the processor picks against the baseline build.
// The generated op_check.cpp (codegen/src/emit/check.ts) has the per-op cases, one check_<op>
// function each (tensors made with make(), the op run on both sides, report()), and a main that
// hands them to mae_op_check_main.
#pragma once
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>
#include "half.h"
#include "mae_cuda.h"

namespace {
struct Opts {
  mae_device dev{MAE_DEVICE_CUDA, 0};
  int reps = 20;
  bool big = true;
  bool hash = false;  // --hash: print an FNV-1a of every device output
  std::string only;   // --only a,b: check these ops only (",a,b,")
  unsigned seed = 1234;
  FILE* json = nullptr;
};
Opts g;
int g_failed = 0, g_run = 0;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "op_check: %s: %s\n", what, mae_last_error());
  std::exit(2);
}
double thresh(mae_dtype d) {
  if (d == MAE_I64 || d == MAE_I32 || d == MAE_U8) return 0;  // integers: exact
  return d == MAE_F64 ? 1e-12 : d == MAE_F32 ? 1e-5 : d == MAE_F16 ? 2e-3 : 1e-2;
}

// A host buffer of n random values in [lo, hi) encoded as dtype d.
std::vector<unsigned char> random_bytes(mae_dtype d, int64_t n, double lo, double hi, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<unsigned char> b((size_t)n * mae_dtype_size(d));
  for (int64_t i = 0; i < n; ++i) {
    const double v = u(rng);
    switch (d) {
      case MAE_F32: { float f = (float)v; std::memcpy(&b[i * 4], &f, 4); break; }
      case MAE_F64: std::memcpy(&b[i * 8], &v, 8); break;
      case MAE_BF16: { uint16_t h = mae_f32_to_bf16((float)v); std::memcpy(&b[i * 2], &h, 2); break; }
      case MAE_F16: { uint16_t h = mae_f32_to_f16((float)v); std::memcpy(&b[i * 2], &h, 2); break; }
      case MAE_I64: { int64_t k = (int64_t)std::floor(v); if (k >= (int64_t)hi) k = (int64_t)hi - 1; std::memcpy(&b[i * 8], &k, 8); break; }
      case MAE_I32: { int32_t k = (int32_t)std::floor(v); if (k >= (int32_t)hi) k = (int32_t)hi - 1; std::memcpy(&b[i * 4], &k, 4); break; }
      case MAE_U8: { int k = (int)std::floor(v); if (k >= (int)hi) k = (int)hi - 1; b[i] = (unsigned char)(k < 0 ? 0 : k > 255 ? 255 : k); break; }
      default: std::memset(&b[i * mae_dtype_size(d)], 0, mae_dtype_size(d));
    }
  }
  return b;
}
double elem(mae_dtype d, const unsigned char* p, int64_t i) {
  switch (d) {
    case MAE_F32: { float f; std::memcpy(&f, p + i * 4, 4); return f; }
    case MAE_F64: { double f; std::memcpy(&f, p + i * 8, 8); return f; }
    case MAE_BF16: { uint16_t h; std::memcpy(&h, p + i * 2, 2); return mae_bf16_to_f32(h); }
    case MAE_F16: { uint16_t h; std::memcpy(&h, p + i * 2, 2); return mae_f16_to_f32(h); }
    case MAE_I64: { int64_t k; std::memcpy(&k, p + i * 8, 8); return (double)k; }
    case MAE_I32: { int32_t k; std::memcpy(&k, p + i * 4, 4); return (double)k; }
    case MAE_U8: return p[i];
    default: return 0;
  }
}

struct Pair {  // the same tensor on the CPU (reference) and on the checked device
  mae_tensor* cpu = nullptr;
  mae_tensor* dev = nullptr;
  mae_dtype dtype;
  std::string name;
  ~Pair() { if (cpu) mae_tensor_release(cpu); if (dev) mae_tensor_release(dev); }
};

void make(Pair& p, const char* name, mae_dtype d, std::vector<int64_t> shape, bool input, double lo, double hi,
          std::mt19937& rng) {
  p.name = name;
  p.dtype = d;
  const mae_device cpu{MAE_DEVICE_CPU, 0};
  if (mae_tensor_create(&p.cpu, d, shape.data(), (int)shape.size(), cpu)) die(name);
  if (mae_tensor_create(&p.dev, d, shape.data(), (int)shape.size(), g.dev)) die(name);
  const int64_t n = mae_tensor_numel(p.cpu);
  if (input) {
    auto b = random_bytes(d, n, lo, hi, rng);
    if (mae_tensor_copy_from_host(p.cpu, b.data(), b.size(), nullptr)) die(name);
    if (mae_tensor_copy_from_host(p.dev, b.data(), b.size(), nullptr)) die(name);
  } else {  // poison: NaN in every float format, so an unwritten element fails
    if (mae_tensor_fill_bytes(p.cpu, 0xFF, nullptr)) die(name);
    if (mae_tensor_fill_bytes(p.dev, 0xFF, nullptr)) die(name);
  }
}

// FNV-1a of bytes: --hash prints it for every device output, so that runs can be compared byte
// for byte (the emulator's schedules must all give the same bytes; a difference is a race).
unsigned long long fnv1a(const std::vector<unsigned char>& b) {
  unsigned long long h = 1469598103934665603ull;
  for (unsigned char c : b) h = (h ^ c) * 1099511628211ull;
  return h;
}

// ||dev - cpu|| / max(||cpu||, tiny) and max |dev - cpu| of an output; NaN anywhere gives inf.
void compare(const Pair& p, double& rel, double& maxabs, unsigned long long& hash) {
  const size_t nb = mae_tensor_nbytes(p.cpu);
  std::vector<unsigned char> a(nb), b(nb);
  if (mae_tensor_copy_to_host(a.data(), p.cpu, nb, nullptr)) die("read back");
  if (mae_tensor_copy_to_host(b.data(), p.dev, nb, nullptr)) die("read back");
  hash = fnv1a(b);
  double num = 0, den = 0;
  maxabs = 0;
  const int64_t n = mae_tensor_numel(p.cpu);
  for (int64_t i = 0; i < n; ++i) {
    const double x = elem(p.dtype, a.data(), i), y = elem(p.dtype, b.data(), i);
    if (!std::isfinite(x) || !std::isfinite(y)) { rel = maxabs = INFINITY; return; }
    num += (y - x) * (y - x);
    den += x * x;
    maxabs = std::fmax(maxabs, std::fabs(y - x));
  }
  rel = std::sqrt(num) / std::fmax(std::sqrt(den), 1e-30);
}

// floor: an op's own threshold on the device (a schedule with other numerics, e.g. bf16 tensor cores)
void report(const char* op, const char* variant, const std::string& sizes, const std::vector<Pair*>& outs, double us,
            double floor = 0) {
  ++g_run;
  bool ok = true;
  std::string detail;
  for (const Pair* o : outs) {
    double rel, mx;
    unsigned long long hash;
    compare(*o, rel, mx, hash);
    // relative norm, with an absolute floor (inputs are O(1)): a sum that cancels to near zero
    // has a large relative error that is only rounding
    const double th = thresh(o->dtype) > 0 ? std::fmax(thresh(o->dtype), floor) : 0;
    const bool pass = rel <= th || mx <= th;
    ok = ok && pass;
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s%s rel %.2e max %.2e (<= %.0e)", detail.empty() ? "" : "; ", o->name.c_str(),
                  rel, mx, th);
    detail += buf;
    if (g.hash) {
      std::snprintf(buf, sizeof buf, " hash %016llx", hash);
      detail += buf;
    }
    if (g.json)
      std::fprintf(g.json,
                   "{\"op\":\"%s\",\"variant\":\"%s\",\"sizes\":\"%s\",\"output\":\"%s\",\"rel\":%.3e,\"max_abs\":%.3e,"
                   "\"threshold\":%.0e,\"pass\":%s,\"us\":%.2f}\n",
                   op, variant, sizes.c_str(), o->name.c_str(), std::isfinite(rel) ? rel : 1e300,
                   std::isfinite(mx) ? mx : 1e300, th, pass ? "true" : "false", us);
  }
  if (!ok) ++g_failed;
  std::printf("%-4s %-24s %-9s %-34s %9.1f us  %s\n", ok ? "ok" : "FAIL", op, variant, sizes.c_str(), us, detail.c_str());
  std::fflush(stdout);
}

// CPU against CPU compares the baseline build of the kernels (reference) with the automatic
// choice (the AVX2+FMA build where the processor has it).
void ref_mode() { if (g.dev.type == MAE_DEVICE_CPU) mae_cpu_force_isa("default"); }
void dev_mode() { if (g.dev.type == MAE_DEVICE_CPU) mae_cpu_force_isa(nullptr); }

// Runs fn on the checked device reps times and returns the mean time in microseconds.
template <typename F> double time_us(F fn, mae_stream* s) {
  if (g.reps <= 0) return 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < g.reps; ++i) if (fn()) die("timed run");
  if (mae_stream_synchronize(s)) die("synchronize");
  auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::micro>(t1 - t0).count() / g.reps;
}

// One op's cases: check_<op>, run when --only is absent or names the op.
struct mae_op_case {
  const char* name;
  void (*check)(std::mt19937& rng);
};

// The checker's main: parses the arguments, runs the selected ops' cases and prints the total.
// Exit status: 0 all passed, 1 a check failed, 2 bad arguments or a C ABI error, 3 no such device.
int mae_op_check_main(int argc, char** argv, const mae_op_case* ops, size_t n_ops) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--device" && i + 1 < argc) {
      const std::string d = argv[++i];
      if (d == "cpu") g.dev = {MAE_DEVICE_CPU, 0};
      else if (d.rfind("cuda", 0) == 0) g.dev = {MAE_DEVICE_CUDA, d.size() > 5 ? std::atoi(d.c_str() + 5) : 0};
      else {
        std::fprintf(stderr, "op_check: unknown device %s (cpu or cuda:N)\n", d.c_str());
        return 2;
      }
    } else if (a == "--reps" && i + 1 < argc) g.reps = std::atoi(argv[++i]);
    else if (a == "--seed" && i + 1 < argc) g.seed = (unsigned)std::strtoul(argv[++i], nullptr, 10);
    else if (a == "--small") g.big = false;
    else if (a == "--hash") g.hash = true;
    else if (a == "--only" && i + 1 < argc) g.only = std::string(",") + argv[++i] + ",";
    else if (a == "--json" && i + 1 < argc) {
      g.json = std::fopen(argv[++i], "w");
      if (!g.json) {
        std::perror("op_check: --json");
        return 2;
      }
    } else {
      std::fprintf(stderr,
                   "usage: op_check [--device cpu|cuda:N] [--reps N] [--seed N] [--small] [--hash] [--only op,op] "
                   "[--json FILE]\n");
      return 2;
    }
  }
  if (g.dev.type == MAE_DEVICE_CUDA && g.dev.index >= mae_cuda_device_count()) {
    std::fprintf(stderr, "op_check: no CUDA device %d (found %d; CUDA compiled: %s)\n", g.dev.index,
                 mae_cuda_device_count(), mae_cuda_compiled() ? "yes" : "no");
    return 3;
  }
  std::mt19937 rng(g.seed);
  if (g.dev.type == MAE_DEVICE_CPU) {
    dev_mode();
    std::printf("op_check: cpu (%s kernels) against the CPU backend's baseline kernels, seed %u\n", mae_cpu_isa(),
                g.seed);
  } else {
    std::printf("op_check: cuda against the CPU backend, seed %u\n", g.seed);
  }
  if (!g.only.empty()) {
    std::string rest = g.only;
    for (size_t k = 0; k < n_ops; ++k) {
      const std::string key = std::string(",") + ops[k].name + ",";
      for (size_t at; (at = rest.find(key)) != std::string::npos;) rest.replace(at, key.size() - 1, "");
    }
    if (rest.find_first_not_of(',') != std::string::npos) {
      std::fprintf(stderr, "op_check: --only names unknown ops:%s\n", rest.c_str());
      return 2;
    }
  }
  for (size_t k = 0; k < n_ops; ++k)
    if (g.only.empty() || g.only.find(std::string(",") + ops[k].name + ",") != std::string::npos) ops[k].check(rng);
  std::printf("op_check: %d checked, %d failed\n", g_run, g_failed);
  if (g.json) std::fclose(g.json);
  return g_failed ? 1 : 0;
}
}  // namespace
