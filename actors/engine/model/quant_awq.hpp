#pragma once
// Asymmetric int4 with group-wise scale and zero point, and AutoAWQ's GEMM
// checkpoint layout for it.
//
// Quantization (AutoAWQ's pseudo_quantize_tensor, zero_point=True): per group
// of `group_size` input channels of one output row,
//   scale = max(max - min, 1e-5) / 15, zero = clamp(-round(min / scale), 0, 15),
//   q = clamp(round(w / scale) + zero, 0, 15), value = (q - zero) * scale.
//
// AutoAWQ GEMM layout (WQLinear_GEMM) for a Linear [out, in]:
//   qweight int32 [in, out / 8]: eight 4-bit q of consecutive output channels
//     per word, output channel 8j + order[i] in bits 4i..4i+3, with
//     order = {0, 2, 4, 6, 1, 3, 5, 7} (AWQ_ORDER);
//   qzeros  int32 [in / group, out / 8]: the zeros, packed the same way;
//   scales  fp16  [in / group, out].
#include <cstdint>
#include <string>
#include <vector>

#include "gpu/quant_matrix.hpp"

namespace troupe::engine {

// Bits 4i..4i+3 of a packed word hold output channel k_awq_order[i] of its 8.
constexpr int k_awq_order[8] = {0, 2, 4, 6, 1, 3, 5, 7};

// Round-to-nearest int4 of w [rows, cols] (cols % group_size == 0).
gpu::quant_matrix quantize_int4(const float* w, int64_t rows, int64_t cols, int32_t group_size);

struct awq_tensors {
  int64_t in_features = 0;
  int64_t out_features = 0;
  int32_t group_size = 0;
  std::vector<int32_t> qweight;   // [in, out / 8]
  std::vector<int32_t> qzeros;    // [in / group, out / 8]
  std::vector<uint16_t> scales;   // [in / group, out] fp16 bits
};

// int4 quant_matrix -> AutoAWQ GEMM tensors (scales rounded to fp16, zeros
// rounded to integers as AutoAWQ stores them).
awq_tensors pack_awq(const gpu::quant_matrix& q);
// AutoAWQ GEMM tensors -> int4 quant_matrix. "" or an error.
std::string unpack_awq(const awq_tensors& t, gpu::quant_matrix& out);

uint16_t f32_to_f16_bits(float f);
float f16_bits_to_f32(uint16_t h);

}  // namespace troupe::engine
