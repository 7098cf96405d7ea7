// tensor.cpp: reference-counted tensors (create, view, retain/release) and their accessors.
// Storage comes from the caching allocator; views share it with a byte offset.
#include <limits>
#include <new>
#include <string>

#include "allocator.h"
#include "runtime_impl.h"

namespace mae_rt {
Storage::~Storage() { device_free(device, data); }
}  // namespace mae_rt

namespace {

bool valid_dtype(mae_dtype d) { return static_cast<int>(d) >= MAE_F32 && static_cast<int>(d) <= MAE_F64; }

std::string shape_list(const int64_t* shape, int ndim) {
  std::string s = "[";
  for (int i = 0; i < ndim; ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

// Checks ndim and every extent, and computes numel without overflow.
mae_status checked_numel(const char* fn, const int64_t* shape, int ndim, size_t elem_size, int64_t* numel) {
  if (ndim < 0 || ndim > MAE_MAX_DIMS) {
    return mae_fail("%s: ndim %d is out of range (0..%d)", fn, ndim, MAE_MAX_DIMS);
  }
  if (ndim > 0 && shape == nullptr) return mae_fail("%s: shape is NULL but ndim is %d", fn, ndim);
  int64_t n = 1;
  const int64_t limit = std::numeric_limits<int64_t>::max() / static_cast<int64_t>(elem_size);
  for (int i = 0; i < ndim; ++i) {
    if (shape[i] < 0) {
      return mae_fail("%s: shape %s has a negative extent at dimension %d", fn, shape_list(shape, ndim).c_str(), i);
    }
    if (shape[i] != 0 && n > limit / shape[i]) {
      return mae_fail("%s: shape %s is too large", fn, shape_list(shape, ndim).c_str());
    }
    n *= shape[i];
  }
  *numel = n;
  return MAE_OK;
}

}  // namespace

extern "C" {

mae_status mae_tensor_create(mae_tensor** out, mae_dtype dtype, const int64_t* shape, int ndim, mae_device device) {
  const char* fn = "mae_tensor_create";
  if (out == nullptr) return mae_fail("%s: out is NULL", fn);
  *out = nullptr;
  if (!valid_dtype(dtype)) return mae_fail("%s: unknown dtype %d (0..6: f32 bf16 f16 i32 i64 u8 f64)", fn, dtype);
  int64_t numel = 0;
  if (checked_numel(fn, shape, ndim, mae_dtype_size(dtype), &numel) != MAE_OK) return MAE_ERROR;
  if (mae_rt::check_device(device, fn) != MAE_OK) return MAE_ERROR;
  auto storage = std::make_shared<mae_rt::Storage>();
  storage->device = device;
  storage->nbytes = static_cast<size_t>(numel) * mae_dtype_size(dtype);
  if (mae_rt::device_alloc(device, storage->nbytes, &storage->data, fn) != MAE_OK) return MAE_ERROR;
  auto* t = new (std::nothrow) mae_tensor();
  if (t == nullptr) return mae_fail("%s: out of host memory", fn);
  t->dtype = dtype;
  t->ndim = ndim;
  for (int i = 0; i < ndim; ++i) t->shape[i] = shape[i];
  t->numel = numel;
  t->device = device;
  t->storage = std::move(storage);
  *out = t;
  return MAE_OK;
}

mae_status mae_tensor_view(mae_tensor** out, const mae_tensor* src, const int64_t* shape, int ndim,
                           int64_t offset_elements) {
  const char* fn = "mae_tensor_view";
  if (out == nullptr) return mae_fail("%s: out is NULL", fn);
  *out = nullptr;
  if (src == nullptr) return mae_fail("%s: src is NULL", fn);
  int64_t numel = 0;
  if (checked_numel(fn, shape, ndim, mae_dtype_size(src->dtype), &numel) != MAE_OK) return MAE_ERROR;
  if (offset_elements < 0) {
    return mae_fail("%s: offset %lld is negative", fn, static_cast<long long>(offset_elements));
  }
  if (offset_elements == 0 && numel > src->numel) {
    return mae_fail("%s: shape %s has %lld elements but the source %s has %lld", fn,
                    shape_list(shape, ndim).c_str(), static_cast<long long>(numel), mae_shape_str(src, 0),
                    static_cast<long long>(src->numel));
  }
  if (offset_elements > src->numel || numel > src->numel - offset_elements) {
    return mae_fail("%s: shape %s at offset %lld needs elements %lld..%lld but the source %s has %lld", fn,
                    shape_list(shape, ndim).c_str(), static_cast<long long>(offset_elements),
                    static_cast<long long>(offset_elements), static_cast<long long>(offset_elements + numel),
                    mae_shape_str(src, 0), static_cast<long long>(src->numel));
  }
  auto* t = new (std::nothrow) mae_tensor();
  if (t == nullptr) return mae_fail("%s: out of host memory", fn);
  t->dtype = src->dtype;
  t->ndim = ndim;
  for (int i = 0; i < ndim; ++i) t->shape[i] = shape[i];
  t->numel = numel;
  t->device = src->device;
  t->storage = src->storage;
  t->offset_bytes = src->offset_bytes + static_cast<size_t>(offset_elements) * mae_dtype_size(src->dtype);
  *out = t;
  return MAE_OK;
}

void mae_tensor_retain(mae_tensor* t) {
  if (t != nullptr) t->refs.fetch_add(1, std::memory_order_relaxed);
}

void mae_tensor_release(mae_tensor* t) {
  if (t != nullptr && t->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete t;
}

mae_dtype mae_tensor_dtype(const mae_tensor* t) { return t ? t->dtype : MAE_F32; }
int mae_tensor_ndim(const mae_tensor* t) { return t ? t->ndim : 0; }
const int64_t* mae_tensor_shape(const mae_tensor* t) { return t ? t->shape : nullptr; }
int64_t mae_tensor_numel(const mae_tensor* t) { return t ? t->numel : 0; }
size_t mae_tensor_nbytes(const mae_tensor* t) {
  return t ? static_cast<size_t>(t->numel) * mae_dtype_size(t->dtype) : 0;
}
mae_device mae_tensor_device(const mae_tensor* t) { return t ? t->device : mae_device{MAE_DEVICE_CPU, 0}; }
void* mae_tensor_data(const mae_tensor* t) {
  if (t == nullptr || t->storage == nullptr || t->storage->data == nullptr) return nullptr;
  return static_cast<char*>(t->storage->data) + t->offset_bytes;
}

}  // extern "C"
