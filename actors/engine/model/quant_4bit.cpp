#include "actors/engine/model/quant_4bit.hpp"

#include <algorithm>
#include <cmath>

namespace troupe::engine {

const std::array<float, 16>& nf4_code_book() {
  static const std::array<float, 16> book = {
      -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
      -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
      0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
      0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};
  return book;
}

const std::array<float, 16>& fp4_code_book() {
  static const std::array<float, 16> book = [] {
    const float raw[16] = {0.0f, 0.0625f, 8.0f, 12.0f, 4.0f, 6.0f, 2.0f, 3.0f,
                           -0.0f, -0.0625f, -8.0f, -12.0f, -4.0f, -6.0f, -2.0f, -3.0f};
    std::array<float, 16> b{};
    for (int i = 0; i < 16; ++i) b[i] = raw[i] / 12.0f;
    return b;
  }();
  return book;
}

uint8_t nearest_code(const std::array<float, 16>& code_book, float v) {
  int best = 0;
  float best_d = std::fabs(v - code_book[0]);
  for (int i = 1; i < 16; ++i) {
    const float d = std::fabs(v - code_book[i]);
    if (d < best_d) {
      best = i;
      best_d = d;
    }
  }
  return static_cast<uint8_t>(best);
}

gpu::quant_matrix quantize_4bit(gpu::quant_format format, const float* w, int64_t rows,
                                int64_t cols, int32_t block_size) {
  const auto& book = format == gpu::quant_format::fp4 ? fp4_code_book() : nf4_code_book();
  gpu::quant_matrix q;
  q.format = format;
  q.rows = rows;
  q.cols = cols;
  q.group_size = block_size;
  q.codes.assign(static_cast<std::size_t>(rows * cols / 2), 0);
  q.scales.resize(static_cast<std::size_t>(rows * cols / block_size));
  const int64_t num_blocks = rows * cols / block_size;
  for (int64_t b = 0; b < num_blocks; ++b) {
    const float* block = w + b * block_size;
    float absmax = 0.0f;
    for (int32_t i = 0; i < block_size; ++i) absmax = std::max(absmax, std::fabs(block[i]));
    const float inv = absmax > 0.0f ? 1.0f / absmax : 0.0f;
    for (int32_t i = 0; i < block_size; ++i) {
      const uint8_t code = nearest_code(book, block[i] * inv);
      const int64_t e = b * block_size + i;
      q.codes[e / 2] |= static_cast<uint8_t>(e % 2 == 0 ? code << 4 : code);
    }
    q.scales[b] = absmax;
  }
  return q;
}

}  // namespace troupe::engine
