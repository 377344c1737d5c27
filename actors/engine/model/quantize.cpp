#include "actors/engine/model/quantize.hpp"

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
  for (int64_t r = 0; r < q.rows; ++r)
    for (int64_t c = 0; c < q.cols; ++c) out[r * q.cols + c] = dequantize_at(q, r, c);
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
