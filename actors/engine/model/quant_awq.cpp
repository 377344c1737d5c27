#include "actors/engine/model/quant_awq.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace troupe::engine {

float f16_bits_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t{h & 0x8000u} << 16;
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  float magnitude;
  if (exponent == 0x1f) {
    magnitude = mantissa ? std::nanf("") : INFINITY;
  } else if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  } else {
    magnitude = std::ldexp(1.0f + mantissa / 1024.0f, exponent - 15);
  }
  return sign ? -magnitude : magnitude;
}

uint16_t f32_to_f16_bits(float f) {
  // Round to nearest even through the exact binary32 arithmetic of
  // ldexp/nearbyint: scale the magnitude onto the 10-bit mantissa grid of
  // its binade.
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  float a = std::fabs(f);
  if (std::isnan(f)) return 0x7e00;
  if (a >= 65520.0f) return sign | 0x7c00;  // rounds to infinity
  int exp2;
  std::frexp(a, &exp2);  // a = m * 2^exp2, m in [0.5, 1)
  int e = exp2 - 1;      // a in [2^e, 2^(e+1))
  if (a == 0.0f) return sign;
  if (e < -14) {
    const int sub = static_cast<int>(std::nearbyint(std::ldexp(a, 24)));  // units of 2^-24
    return static_cast<uint16_t>(sign | sub);  // sub == 1024 becomes the smallest normal
  }
  int m = static_cast<int>(std::nearbyint(std::ldexp(a, 10 - e))) - 1024;
  if (m == 1024) {
    m = 0;
    ++e;
  }
  if (e > 15) return sign | 0x7c00;
  return static_cast<uint16_t>(sign | ((e + 15) << 10) | m);
}

gpu::quant_matrix quantize_int4(const float* w, int64_t rows, int64_t cols, int32_t group_size) {
  gpu::quant_matrix q;
  q.format = gpu::quant_format::int4;
  q.rows = rows;
  q.cols = cols;
  q.group_size = group_size;
  q.codes.assign(static_cast<std::size_t>(rows * cols / 2), 0);
  const int64_t num_groups = rows * cols / group_size;
  q.scales.resize(static_cast<std::size_t>(num_groups));
  q.zeros.resize(static_cast<std::size_t>(num_groups));
  for (int64_t g = 0; g < num_groups; ++g) {
    const float* group = w + g * group_size;
    const auto [lo, hi] = std::minmax_element(group, group + group_size);
    // The checkpoint stores fp16 scales: quantize with the value it will hold.
    const float scale = f16_bits_to_f32(f32_to_f16_bits(std::max(*hi - *lo, 1e-5f) / 15.0f));
    const float zero = std::clamp(-std::nearbyint(*lo / scale), 0.0f, 15.0f);
    for (int32_t i = 0; i < group_size; ++i) {
      const float code = std::clamp(std::nearbyint(group[i] / scale) + zero, 0.0f, 15.0f);
      const int64_t e = g * group_size + i;
      q.codes[e / 2] |= static_cast<uint8_t>(e % 2 == 0 ? static_cast<int>(code) << 4
                                                        : static_cast<int>(code));
    }
    q.scales[g] = scale;
    q.zeros[g] = zero;
  }
  return q;
}

namespace {

int code_at(const gpu::quant_matrix& q, int64_t row, int64_t col) {
  const uint8_t byte = q.codes[(row * q.cols + col) / 2];
  return col % 2 == 0 ? byte >> 4 : byte & 0xf;
}

void set_code(gpu::quant_matrix& q, int64_t row, int64_t col, int code) {
  uint8_t& byte = q.codes[(row * q.cols + col) / 2];
  byte = col % 2 == 0 ? static_cast<uint8_t>((byte & 0x0f) | (code << 4))
                      : static_cast<uint8_t>((byte & 0xf0) | code);
}

}  // namespace

awq_tensors pack_awq(const gpu::quant_matrix& q) {
  awq_tensors t;
  t.out_features = q.rows;
  t.in_features = q.cols;
  t.group_size = q.group_size;
  const int64_t packs = q.rows / 8;
  const int64_t groups = q.cols / q.group_size;
  t.qweight.assign(static_cast<std::size_t>(q.cols * packs), 0);
  t.qzeros.assign(static_cast<std::size_t>(groups * packs), 0);
  t.scales.resize(static_cast<std::size_t>(groups * q.rows));
  for (int64_t in = 0; in < q.cols; ++in) {
    for (int64_t j = 0; j < packs; ++j) {
      uint32_t word = 0;
      for (int i = 0; i < 8; ++i)
        word |= static_cast<uint32_t>(code_at(q, 8 * j + k_awq_order[i], in)) << (4 * i);
      t.qweight[in * packs + j] = static_cast<int32_t>(word);
    }
  }
  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t j = 0; j < packs; ++j) {
      uint32_t word = 0;
      for (int i = 0; i < 8; ++i) {
        const int64_t out = 8 * j + k_awq_order[i];
        const auto zero = static_cast<uint32_t>(std::nearbyint(q.zeros[out * groups + g]));
        word |= (zero & 0xf) << (4 * i);
      }
      t.qzeros[g * packs + j] = static_cast<int32_t>(word);
    }
    for (int64_t out = 0; out < q.rows; ++out)
      t.scales[g * q.rows + out] = f32_to_f16_bits(q.scales[out * groups + g]);
  }
  return t;
}

std::string unpack_awq(const awq_tensors& t, gpu::quant_matrix& q) {
  if (t.out_features % 8 != 0) return "out_features must be a multiple of 8";
  if (t.group_size <= 0 || t.in_features % t.group_size != 0)
    return "group_size " + std::to_string(t.group_size) + " does not divide in_features " +
           std::to_string(t.in_features);
  const int64_t packs = t.out_features / 8;
  const int64_t groups = t.in_features / t.group_size;
  if (static_cast<int64_t>(t.qweight.size()) != t.in_features * packs ||
      static_cast<int64_t>(t.qzeros.size()) != groups * packs ||
      static_cast<int64_t>(t.scales.size()) != groups * t.out_features)
    return "qweight/qzeros/scales sizes do not match [in, out/8], [in/group, out/8], [in/group, out]";
  q = {};
  q.format = gpu::quant_format::int4;
  q.rows = t.out_features;
  q.cols = t.in_features;
  q.group_size = t.group_size;
  q.codes.assign(static_cast<std::size_t>(q.rows * q.cols / 2), 0);
  q.scales.resize(static_cast<std::size_t>(q.rows * groups));
  q.zeros.resize(static_cast<std::size_t>(q.rows * groups));
  for (int64_t in = 0; in < t.in_features; ++in) {
    for (int64_t j = 0; j < packs; ++j) {
      const auto word = static_cast<uint32_t>(t.qweight[in * packs + j]);
      for (int i = 0; i < 8; ++i)
        set_code(q, 8 * j + k_awq_order[i], in, static_cast<int>((word >> (4 * i)) & 0xf));
    }
  }
  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t j = 0; j < packs; ++j) {
      const auto word = static_cast<uint32_t>(t.qzeros[g * packs + j]);
      for (int i = 0; i < 8; ++i)
        q.zeros[(8 * j + k_awq_order[i]) * groups + g] = static_cast<float>((word >> (4 * i)) & 0xf);
    }
    for (int64_t out = 0; out < t.out_features; ++out)
      q.scales[out * groups + g] = f16_bits_to_f32(t.scales[g * t.out_features + out]);
  }
  return {};
}

}  // namespace troupe::engine
