#pragma once
// Float checkpoint tensors (f32/f16/bf16) as fp32, and the fp16/bf16 bit
// conversions the quantized formats need.
#include <cstdint>
#include <vector>

#include "gpu/weight_map.hpp"

namespace troupe::engine {

float bf16_bits_to_f32(uint16_t bits);
uint16_t f32_to_bf16_bits(float f);  // round to nearest even

// Appends the elements of a float tensor to `out` as fp32. Returns false (and
// appends nothing) when the view is not f32/f16/bf16.
bool append_float_tensor(const gpu::tensor_view& view, std::vector<float>& out);

}  // namespace troupe::engine
