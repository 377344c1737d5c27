#include "actors/engine/model/quantize.hpp"

#include <array>

#include "actors/engine/model/quant_4bit.hpp"
#include "actors/engine/model/quant_awq.hpp"
#include "actors/engine/model/quant_fp8.hpp"
#include "actors/engine/model/quant_int8.hpp"

namespace troupe::engine {

int32_t default_group_size(gpu::quant_format format, int64_t cols) {
  switch (format) {
    case gpu::quant_format::nf4:
    case gpu::quant_format::fp4: return k_bnb_4bit_block;
    case gpu::quant_format::int4: return 128;
    default: return static_cast<int32_t>(cols);
  }
}

gpu::quant_matrix quantize(gpu::quant_format format, const float* w, int64_t rows, int64_t cols,
                           int32_t group_size) {
  if (group_size <= 0) group_size = default_group_size(format, cols);
  switch (format) {
    case gpu::quant_format::int8: return quantize_int8(w, rows, cols);
    case gpu::quant_format::fp8: return quantize_fp8(w, rows, cols);
    case gpu::quant_format::nf4:
    case gpu::quant_format::fp4: return quantize_4bit(format, w, rows, cols, group_size);
    case gpu::quant_format::int4: return quantize_int4(w, rows, cols, group_size);
    default: return {};
  }
}

float dequantize_at(const gpu::quant_matrix& q, int64_t row, int64_t col) {
  const int64_t e = row * q.cols + col;
  const int64_t g = row * q.groups_per_row() + col / q.group_size;
  switch (q.format) {
    case gpu::quant_format::int8:
      return static_cast<float>(static_cast<int8_t>(q.codes[e])) * q.scales[g];
    case gpu::quant_format::fp8: return e4m3_decode(q.codes[e]) * q.scales[g];
    default: break;
  }
  const int code = e % 2 == 0 ? q.codes[e / 2] >> 4 : q.codes[e / 2] & 0xf;
  switch (q.format) {
    case gpu::quant_format::nf4: return nf4_code_book()[code] * q.scales[g];
    case gpu::quant_format::fp4: return fp4_code_book()[code] * q.scales[g];
    case gpu::quant_format::int4: return (static_cast<float>(code) - q.zeros[g]) * q.scales[g];
    default: return 0.0f;
  }
}

void dequantize(const gpu::quant_matrix& q, float* out) {
  for (int64_t r = 0; r < q.rows; ++r) dequantize_row(q, r, out + r * q.cols);
}

void dequantize_row(const gpu::quant_matrix& q, int64_t row, float* out) {
  static const std::array<float, 256> e4m3 = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i) t[i] = e4m3_decode(static_cast<uint8_t>(i));
    return t;
  }();
  const int64_t gs = q.group_size;
  const float* s = q.scales.data() + row * q.groups_per_row();
  switch (q.format) {
    case gpu::quant_format::int8: {
      const uint8_t* c = q.codes.data() + row * q.cols;
      for (int64_t i = 0; i < q.cols; ++i)
        out[i] = static_cast<float>(static_cast<int8_t>(c[i])) * s[i / gs];
      return;
    }
    case gpu::quant_format::fp8: {
      const uint8_t* c = q.codes.data() + row * q.cols;
      for (int64_t i = 0; i < q.cols; ++i) out[i] = e4m3[c[i]] * s[i / gs];
      return;
    }
    case gpu::quant_format::nf4:
    case gpu::quant_format::fp4: {
      const auto& book = q.format == gpu::quant_format::nf4 ? nf4_code_book() : fp4_code_book();
      const uint8_t* c = q.codes.data() + row * q.cols / 2;
      for (int64_t j = 0; j < q.cols / 2; ++j) {
        out[2 * j] = book[c[j] >> 4] * s[(2 * j) / gs];
        out[2 * j + 1] = book[c[j] & 0xf] * s[(2 * j + 1) / gs];
      }
      return;
    }
    case gpu::quant_format::int4: {
      const float* z = q.zeros.data() + row * q.groups_per_row();
      const uint8_t* c = q.codes.data() + row * q.cols / 2;
      for (int64_t j = 0; j < q.cols / 2; ++j) {
        const int64_t g0 = (2 * j) / gs, g1 = (2 * j + 1) / gs;
        out[2 * j] = (static_cast<float>(c[j] >> 4) - z[g0]) * s[g0];
        out[2 * j + 1] = (static_cast<float>(c[j] & 0xf) - z[g1]) * s[g1];
      }
      return;
    }
    default:
      for (int64_t i = 0; i < q.cols; ++i) out[i] = 0.0f;
  }
}

gpu::quant_matrix stack_rows(std::vector<gpu::quant_matrix> parts) {
  gpu::quant_matrix out = std::move(parts.front());
  for (std::size_t i = 1; i < parts.size(); ++i) {
    auto& p = parts[i];
    out.rows += p.rows;
    out.codes.insert(out.codes.end(), p.codes.begin(), p.codes.end());
    out.scales.insert(out.scales.end(), p.scales.begin(), p.scales.end());
    out.zeros.insert(out.zeros.end(), p.zeros.begin(), p.zeros.end());
  }
  return out;
}

int64_t quant_bytes(const gpu::quant_matrix& q) {
  return static_cast<int64_t>(q.codes.size() + 4 * (q.scales.size() + q.zeros.size()));
}

}  // namespace troupe::engine
