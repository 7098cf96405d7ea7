// flash_layout.h: where attention's tensors keep their elements, for the flash-attention templates of
// both backends (cpu_flash.h, ../device/flash_common.cuh): element strides that the generator
// derives from each op's declared shapes (codegen/src/emit/flash_layout.ts), so that no template
// assumes a layout. The last dimension (E of qkv and out, T of lse) is contiguous; dqkv is laid out
// as qkv and dout as out.
#pragma once
#include <cstdint>

struct mae_flash_layout {
  int64_t qkv_n, qkv_t, qkv_part, qkv_h;  // qkv [N, T, 3, H, E]: q, k, v are parts 0, 1, 2
  int64_t out_n, out_t, out_h;            // out [N, T, H, E]
  int64_t lse_n, lse_h;                   // lse [N, H, T]
};
