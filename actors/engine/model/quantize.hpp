#pragma once
// Format-independent operations on gpu::quant_matrix: quantize fp32 rows into
// a format, dequantize back (the reference every kernel is tested against),
// and stack matrices row-wise (the fused qkv and gate_up weights).
#include <cstdint>
#include <vector>

#include "gpu/quant_matrix.hpp"

namespace troupe::engine {

// Default group sizes: bitsandbytes' 64 for nf4/fp4, AWQ's 128 for int4,
// a whole row for int8/fp8 (group_size 0 picks the default).
int32_t default_group_size(gpu::quant_format format, int64_t cols);

// w: row-major [rows, cols] fp32. Precondition: cols % group_size == 0 and
// cols even for the 4-bit formats.
gpu::quant_matrix quantize(gpu::quant_format format, const float* w, int64_t rows, int64_t cols,
                           int32_t group_size = 0);

// The value of one element (decode(code) * scale, minus zero * scale for int4).
float dequantize_at(const gpu::quant_matrix& q, int64_t row, int64_t col);
// out: [rows, cols] fp32.
void dequantize(const gpu::quant_matrix& q, float* out);
// One row, out: [cols]; the same values as dequantize_at, decoded a row at a
// time (the CPU executor's quantized matmul).
void dequantize_row(const gpu::quant_matrix& q, int64_t row, float* out);

// Concatenates the rows of matrices of one format, cols and group size.
gpu::quant_matrix stack_rows(std::vector<gpu::quant_matrix> parts);

// Bytes the matrix occupies (codes + fp32 scales/zeros).
int64_t quant_bytes(const gpu::quant_matrix& q);

}  // namespace troupe::engine
