#pragma once
// Quantized Linear weights on the GPU (layouts in gpu/quant_matrix.hpp):
//  - launch_quant_gemv: y[m, n] = sum_k x[m, k] * value(w, n, k) (+ y when
//    accumulate) for 1..kQuantGemvMaxRows token rows. Decode path: every code
//    byte is read once, decoded in registers, fp32 accumulation.
//  - launch_dequantize: rows [row_begin, row_begin + num_rows) of w as a
//    bf16/fp16 [num_rows, cols] matrix, for the cuBLAS path of larger batches.
// Both need cols % 32 == 0 and group_size % 32 == 0 (4-bit) or % 16 == 0
// (8-bit); x 16-byte aligned. Other shapes return cudaErrorInvalidValue.
#include <cuda_runtime_api.h>

#include <cstdint>

#include "gpu/quant_matrix.hpp"
#include "gpu/weight_map.hpp"

namespace troupe::gpu::kernels {

constexpr int32_t kQuantGemvMaxRows = 8;

bool quant_shape_supported(const device_quant_matrix& w);

// x: [rows, w.cols] of `type` (bf16/fp16); y: [rows, w.rows] of `type`, or fp32 when y_fp32.
cudaError_t launch_quant_gemv(dtype type, const void* x, const device_quant_matrix& w, void* y,
                              int32_t rows, bool accumulate, bool y_fp32, cudaStream_t stream);

// out: [num_rows, w.cols] of `type`.
cudaError_t launch_dequantize(dtype type, const device_quant_matrix& w, int32_t row_begin,
                              int32_t num_rows, void* out, cudaStream_t stream);

}  // namespace troupe::gpu::kernels
