#pragma once
// bitsandbytes' 4-bit blockwise formats (QLoRA): the flattened weight is cut
// into blocks of 64, each stores its absmax and 4-bit indices into a 16-entry
// code book normalized to [-1, 1]; value = code_book[index] * absmax.
// Indices are packed two per byte, the first element in the high nibble
// (bitsandbytes' kQuantizeBlockwise). Quantization picks the nearest entry.
#include <array>
#include <cstdint>

#include "gpu/quant_matrix.hpp"

namespace troupe::engine {

constexpr int32_t k_bnb_4bit_block = 64;

// bitsandbytes functional.get_4bit_type("nf4"): normal-float levels.
const std::array<float, 16>& nf4_code_book();
// get_4bit_type("fp4"): [0, 0.0625, 8, 12, 4, 6, 2, 3, then negated] / 12
// (sign bit, 2 exponent bits, 1 mantissa bit).
const std::array<float, 16>& fp4_code_book();

// Index of the code-book entry nearest to v (ties to the lower index).
uint8_t nearest_code(const std::array<float, 16>& code_book, float v);

// w: row-major [rows, cols] fp32, cols % block_size == 0 (blocks never span
// rows, so the result is the same as bitsandbytes' flattened blocks).
// format: nf4 or fp4.
gpu::quant_matrix quantize_4bit(gpu::quant_format format, const float* w, int64_t rows,
                                int64_t cols, int32_t block_size = k_bnb_4bit_block);

}  // namespace troupe::engine
