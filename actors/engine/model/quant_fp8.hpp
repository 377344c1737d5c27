#pragma once
// FP8 E4M3 weights (the OCP "E4M3FN" encoding that torch.float8_e4m3fn and
// safetensors' F8_E4M3 use): 1 sign, 4 exponent bits (bias 7), 3 mantissa
// bits, no infinities, 0x7f/0xff NaN, largest finite 448. Per output channel
// scale = absmax / 448, codes = e4m3(w / scale) rounded to nearest even.
#include <cstdint>

#include "gpu/quant_matrix.hpp"

namespace troupe::engine {

constexpr float k_e4m3_max = 448.0f;

// Round-to-nearest-even encoding, saturating at +-448 (NaN -> 0x7f).
uint8_t e4m3_encode(float v);
float e4m3_decode(uint8_t code);

// w: row-major [rows, cols] fp32.
gpu::quant_matrix quantize_fp8(const float* w, int64_t rows, int64_t cols);

}  // namespace troupe::engine
