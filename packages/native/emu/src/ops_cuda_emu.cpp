// ops_cuda_emu.cpp: the generated CUDA kernels (generated/ops_cuda.cu) compiled as host C++ for the
// emulator: the same source, with MAE_CUDA_EMULATOR defined and emu/include first on the path.
#include "ops_cuda.cu"
