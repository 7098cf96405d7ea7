// error.cpp: the thread-local last error (mae_last_error, mae_fail) and shape formatting for
// messages (mae_shape_str).
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "runtime_impl.h"

namespace {
thread_local char g_last_error[8192] = "";
thread_local char g_shape_buf[8][160];
}  // namespace

extern "C" {

const char* mae_last_error(void) { return g_last_error; }

mae_status mae_fail(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(g_last_error, sizeof g_last_error, fmt, args);
  va_end(args);
  return MAE_ERROR;
}

const char* mae_shape_str(const mae_tensor* t, int slot) {
  char* buf = g_shape_buf[slot < 0 ? 0 : slot % 8];
  if (t == nullptr) {
    std::snprintf(buf, sizeof g_shape_buf[0], "(null tensor)");
    return buf;
  }
  size_t n = 0;
  buf[n++] = '[';
  for (int i = 0; i < t->ndim && n < sizeof g_shape_buf[0] - 24; ++i) {
    n += std::snprintf(buf + n, sizeof g_shape_buf[0] - n, i ? ", %lld" : "%lld",
                       static_cast<long long>(t->shape[i]));
  }
  buf[n++] = ']';
  buf[n] = '\0';
  return buf;
}

}  // extern "C"
