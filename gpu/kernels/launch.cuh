#pragma once
// Programmatic dependent launch (PDL, Hopper and later). A kernel launched
// with launch_chained may be scheduled while the kernel before it in the
// stream is still draining, so its launch latency and prologue overlap that
// tail. In exchange it must call wait_for_previous_kernel() before it reads
// anything an earlier kernel writes or writes anything an earlier kernel
// reads; work that touches only constant data (weights) may come before.
// The wait is a no-op for a kernel launched the ordinary way. Captured into
// CUDA graphs as programmatic edges. TROUPE_PDL=0 in the environment turns
// the overlap off (ordinary launches). Included by .cu files only.
#include <cuda_runtime.h>

#include <cstdlib>
#include <cstring>
#include <utility>

namespace troupe::gpu::kernels {

// Waits until the previous kernel has finished and its writes are visible,
// then lets the next chained kernel be scheduled: its blocks take SM slots
// left free by this kernel's tail and wait there in turn.
__device__ __forceinline__ void wait_for_previous_kernel() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}

inline bool chained_launches_enabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("TROUPE_PDL");
    return !(env && std::strcmp(env, "0") == 0);
  }();
  return enabled;
}

template <typename... Params, typename... Args>
cudaError_t launch_chained(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
                           cudaStream_t stream, Args&&... args) {
  cudaLaunchConfig_t config = {};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = shared_bytes;
  config.stream = stream;
  cudaLaunchAttribute attribute[1];
  attribute[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute[0].val.programmaticStreamSerializationAllowed = 1;
  config.attrs = attribute;
  config.numAttrs = chained_launches_enabled() ? 1 : 0;
  return cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
}

}  // namespace troupe::gpu::kernels
