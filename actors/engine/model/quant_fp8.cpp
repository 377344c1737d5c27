#include "actors/engine/model/quant_fp8.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace troupe::engine {
namespace {

// The 127 non-negative finite values, increasing with the code (the encoding
// is monotonic in its low 7 bits), built from the definition.
const std::array<float, 127>& positive_values() {
  static const std::array<float, 127> values = [] {
    std::array<float, 127> v{};
    for (int code = 0; code < 127; ++code) v[code] = e4m3_decode(static_cast<uint8_t>(code));
    return v;
  }();
  return values;
}

}  // namespace

float e4m3_decode(uint8_t code) {
  const int sign = code >> 7;
  const int exponent = (code >> 3) & 0xf;
  const int mantissa = code & 0x7;
  if (exponent == 0xf && mantissa == 0x7) return std::nanf("");
  const float magnitude = exponent == 0 ? std::ldexp(static_cast<float>(mantissa), -9)  // subnormal: m/8 * 2^-6
                                        : std::ldexp(1.0f + mantissa / 8.0f, exponent - 7);
  return sign ? -magnitude : magnitude;
}

uint8_t e4m3_encode(float v) {
  if (std::isnan(v)) return 0x7f;
  const uint8_t sign = std::signbit(v) ? 0x80 : 0x00;
  const float a = std::min(std::fabs(v), k_e4m3_max);
  const auto& values = positive_values();
  // First value >= a; then the nearer neighbour, ties to the even code.
  const auto it = std::lower_bound(values.begin(), values.end(), a);
  int hi = static_cast<int>(it - values.begin());
  if (hi == 0) return sign;
  if (hi >= 127) return static_cast<uint8_t>(sign | 126);
  const int lo = hi - 1;
  const float dlo = a - values[lo], dhi = values[hi] - a;
  int code = dlo < dhi ? lo : dhi < dlo ? hi : (lo % 2 == 0 ? lo : hi);
  return static_cast<uint8_t>(sign | code);
}

gpu::quant_matrix quantize_fp8(const float* w, int64_t rows, int64_t cols) {
  gpu::quant_matrix q;
  q.format = gpu::quant_format::fp8;
  q.rows = rows;
  q.cols = cols;
  q.group_size = static_cast<int32_t>(cols);
  q.codes.resize(static_cast<std::size_t>(rows * cols));
  q.scales.resize(static_cast<std::size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = w + r * cols;
    float absmax = 0.0f;
    for (int64_t c = 0; c < cols; ++c) absmax = std::max(absmax, std::fabs(row[c]));
    const float scale = absmax / k_e4m3_max;
    const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
    for (int64_t c = 0; c < cols; ++c) q.codes[r * cols + c] = e4m3_encode(row[c] * inv);
    q.scales[r] = scale;
  }
  return q;
}

}  // namespace troupe::engine
