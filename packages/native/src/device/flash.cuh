// flash.cuh: the flash-attention device code that the generated attention_forward and
// attention_backward kernels instantiate (see packages/codegen/src/emit/cuda_flash.ts): the
// tensor-core kernels for head sizes with a compile-time instantiation and the SIMT fallback.
#pragma once
#include "flash_forward.cuh"
#include "flash_backward.cuh"
#include "flash_simt.cuh"
