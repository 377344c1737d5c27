#include "actors/engine/model/quant_int8.hpp"

#include <algorithm>
#include <cmath>

namespace troupe::engine {

gpu::quant_matrix quantize_int8(const float* w, int64_t rows, int64_t cols) {
  gpu::quant_matrix q;
  q.format = gpu::quant_format::int8;
  q.rows = rows;
  q.cols = cols;
  q.group_size = static_cast<int32_t>(cols);
  q.codes.resize(static_cast<std::size_t>(rows * cols));
  q.scales.resize(static_cast<std::size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = w + r * cols;
    float absmax = 0.0f;
    for (int64_t c = 0; c < cols; ++c) absmax = std::max(absmax, std::fabs(row[c]));
    // An all-zero row keeps scale 0 and codes 0 (value 0 exactly).
    const float inv = absmax > 0.0f ? 127.0f / absmax : 0.0f;
    for (int64_t c = 0; c < cols; ++c) {
      const float code = std::clamp(std::nearbyint(row[c] * inv), -127.0f, 127.0f);
      q.codes[r * cols + c] = static_cast<uint8_t>(static_cast<int8_t>(code));
    }
    q.scales[r] = absmax / 127.0f;
  }
  return q;
}

}  // namespace troupe::engine
