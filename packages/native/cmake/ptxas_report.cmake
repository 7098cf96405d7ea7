# ptxas_report.cmake: ptxas's resource report (registers, shared memory, stack, spills per kernel)
# of the generated CUDA kernels for one architecture, written to a text file that `mae-cuda
# kernel-report` reads (packages/mae/src/perf/ptxas.ts). Run by the build (CMakeLists.txt) as
#   cmake -DNVCC=... -DSOURCE=ops_cuda.cu -DARCH=90a -DINCLUDES="a;b" -DOUT=file -P ptxas_report.cmake
set(_flags -std=c++17 -O3 --expt-relaxed-constexpr -DMAE_WITH_CUDA -gencode=arch=compute_${ARCH},code=sm_${ARCH}
           -Xptxas -v -c ${SOURCE} -o ${OUT}.o)
foreach(_dir IN LISTS INCLUDES)
  list(APPEND _flags -I${_dir})
endforeach()
execute_process(COMMAND ${NVCC} ${_flags} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
file(REMOVE ${OUT}.o)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "ptxas report for sm_${ARCH} failed:\n${_err}")
endif()
file(WRITE ${OUT} "${_out}${_err}")
