#include "actors/engine/model/float_tensor.hpp"

#include <cmath>
#include <cstring>

#include "actors/engine/model/quant_awq.hpp"

namespace troupe::engine {

float bf16_bits_to_f32(uint16_t bits) {
  const uint32_t wide = uint32_t{bits} << 16;
  float f;
  std::memcpy(&f, &wide, 4);
  return f;
}

uint16_t f32_to_bf16_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if (std::isnan(f)) return 0x7fc0;
  u += 0x7fff + ((u >> 16) & 1);
  return static_cast<uint16_t>(u >> 16);
}

bool append_float_tensor(const gpu::tensor_view& view, std::vector<float>& out) {
  if (!gpu::is_float_dtype(view.type)) return false;
  const auto n = static_cast<std::size_t>(view.num_elements());
  const std::size_t start = out.size();
  out.resize(start + n);
  float* dst = out.data() + start;
  // Views may be unaligned within the mapping; read elements with memcpy.
  const auto* src = static_cast<const unsigned char*>(view.data);
  if (view.type == gpu::dtype::f32) {
    std::memcpy(dst, src, n * 4);
    return true;
  }
  for (std::size_t i = 0; i < n; ++i) {
    uint16_t bits;
    std::memcpy(&bits, src + 2 * i, 2);
    dst[i] = view.type == gpu::dtype::bf16 ? bf16_bits_to_f32(bits) : f16_bits_to_f32(bits);
  }
  return true;
}

}  // namespace troupe::engine
