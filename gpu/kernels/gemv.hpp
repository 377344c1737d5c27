#pragma once
// Matrix-vector products for decode steps with few token rows:
// y[m, n] = sum_k x[m, k] * w[n, k] (+ y[m, n] when accumulate), m < rows <= 8.
// Memory-bound: every weight is read once with 16-byte loads, several in flight
// per lane, fp32 accumulation. cuBLAS handles larger row counts.
#include <cuda_runtime_api.h>

#include <cstdint>

#include "gpu/weight_map.hpp"

namespace troupe::gpu::kernels {

constexpr int32_t kGemvMaxRows = 8;

// x: [rows, in] and w: [out, in] of `type` (bf16/fp16), in % 8 == 0 and both
// 16-byte aligned; y: [rows, out] of `type`, or fp32 when y_fp32.
cudaError_t launch_gemv(dtype type, const void* x, const void* w, void* y, int32_t rows,
                        int32_t out_features, int32_t in_features, bool accumulate, bool y_fp32,
                        cudaStream_t stream);

}  // namespace troupe::gpu::kernels
