#pragma once
// int8 weights, bitsandbytes LLM.int8() style: per output channel (row)
// absmax, codes = round(w * 127 / absmax), value = code * absmax / 127.
// The outlier decomposition of LLM.int8() (activation columns above 6.0 kept
// in fp16) is not done: weights are int8, activations stay bf16/fp32
// (docs/quantization.md says what that costs).
#include <cstdint>

#include "gpu/quant_matrix.hpp"

namespace troupe::engine {

// w: row-major [rows, cols] fp32.
gpu::quant_matrix quantize_int8(const float* w, int64_t rows, int64_t cols);

}  // namespace troupe::engine
